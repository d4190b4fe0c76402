"""`python -m stages.commands.task_prepare`: the generic prepare stage of every pipeline task (stages/pipeline/prepare.py), also `slmbench task-prepare`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_prepare(
    task: TaskOpt,
    name: TaskNameOpt,
    source: Annotated[Path, typer.Option(help="The task's source: a folder or file its `prepare` reads.")],
    out: Annotated[Path, typer.Option(help="Rows JSONL to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write a pipeline task's dataset rows with the task's own import or generator (its `prepare` part).

    Example: slmbench task-prepare --task T --name D --source stages/tasks/T/rows.jsonl --out data/tasks/T/D/imported.jsonl
    """
    from stages.pipeline import prepare as stage

    n = stage.main(task, name, params, source, out)
    typer.echo(f"{task}-prepare {name}: {n} rows", err=True)


if __name__ == "__main__":
    typer.run(task_prepare)
