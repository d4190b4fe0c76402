"""`python -m stages.commands.task_validate`: the generic validate stage of every pipeline task (stages/pipeline/validate.py), also `slmbench task-validate`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_validate(
    task: TaskOpt,
    name: TaskNameOpt,
    inp: Annotated[Path, typer.Option("--in", help="Rows JSONL to validate.")],
    validated: Annotated[Path, typer.Option(help="Validated JSONL to write.")],
    quarantine: Annotated[Path, typer.Option(help="Quarantined rows (JSONL, with reasons) to write.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write.")],
    docs: Annotated[Path | None, typer.Option(help="Folder for the GX Data Docs site (optional).")] = None,
    constraint: Annotated[Path | None, typer.Option(help="What the rows are checked against, where the task has one (a label set, a tools folder).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate a task's rows: its row checks, then its Great Expectations suites; write validated rows only when the gate passes.

    Example: slmbench task-validate --task T --name D --in data/tasks/T/D/imported.jsonl --validated data/tasks/T/D/validated.jsonl --quarantine data/tasks/T/D/quarantine.jsonl --metrics metrics/tasks/T/D/quality.json
    """
    from stages.pipeline import validate as stage

    r = stage.main(task, name, params, inp, validated, quarantine, metrics, docs, constraint)
    typer.echo(f"task-validate {task} {name}: {len(r.accepted)} accepted, {len(r.quarantine)} quarantined, gate passed", err=True)


if __name__ == "__main__":
    typer.run(task_validate)
