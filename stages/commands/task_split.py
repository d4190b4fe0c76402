"""`python -m stages.commands.task_split`: the generic split stage of every pipeline task (stages/pipeline/split.py), also `slmbench task-split`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_split(
    task: TaskOpt,
    name: TaskNameOpt,
    inp: Annotated[Path, typer.Option("--in", help="Validated JSONL.")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
    part: Annotated[list[str] | None, typer.Option(help="NAME=PATH for each part the task's rule makes beside train and test (EdgeJSON: test_unseen).")] = None,
    constraint: Annotated[Path | None, typer.Option(help="The file the task's rule reads beside the rows, where it has one (EdgeJSON: the generated schemas).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Split a pipeline task's validated rows with the task's split rule.

    Example: slmbench task-split --task T --name D --in data/tasks/T/D/validated.jsonl --train data/tasks/T/D/train.jsonl --test data/tasks/T/D/test.jsonl --metrics metrics/tasks/T/D/split.json
    """
    from stages.core.errors import SLMBenchError
    from stages.pipeline import split as stage

    more = {}
    for item in part or []:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise SLMBenchError(f"--part {item!r}: expected NAME=PATH, e.g. test_unseen=data/v4/test_unseen.jsonl")
        more[key] = Path(path)
    s = stage.main(task, name, params, inp, train, test, metrics, more, constraint)
    typer.echo(f"task-split {task} {name}: -> {train}, {test} (test_sha256 {s['test_sha256'][:12]})", err=True)


if __name__ == "__main__":
    typer.run(task_split)
