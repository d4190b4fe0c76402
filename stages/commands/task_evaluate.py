"""`python -m stages.commands.task_evaluate`: the generic evaluate stage of every task (stages/pipeline/evaluate.py), also `slmbench task-evaluate`.

A module of its own: the stage's code deps are this module's import closure and the task's evaluate parts, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


def named_paths(key: str, items: list[str]) -> dict[str, Path]:
    """`NAME=PATH` items as {NAME: PATH}; one line for an item of another shape or a name given twice."""
    from stages.core.errors import SLMBenchError

    out: dict[str, Path] = {}
    for item in items:
        n, sep, path = item.partition("=")
        if not sep or not n or not path:
            raise SLMBenchError(f"{key} {item!r}: expected NAME=PATH, e.g. {key} test=data/v4/test.jsonl")
        if n in out:
            raise SLMBenchError(f"{key} {n}=: given twice ({out[n]} and {path})")
        out[n] = Path(path)
    return out


@friendly
def task_evaluate(
    task: TaskOpt,
    name: TaskNameOpt,
    inputs: Annotated[list[str], typer.Option("--input", help="NAME=PATH: a file the evaluation reads (repeat); the evaluation names them.")],
    outputs: Annotated[list[str], typer.Option("--output", help="NAME=PATH: a file the evaluation writes (repeat).")],
    evaluation: Annotated[str, typer.Option(help="Which of the task's evaluations (its EVALUATIONS; a task without them has `mlm`).")] = "mlm",
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Run one of a task's evaluations: the files it reads and writes are named, and checked against what it declares.

    Example: slmbench task-evaluate --task intent --name banking77 --evaluation mlm --input model=models/intent/banking77/mlm/gguf/model-q8_0.gguf
    --input test=data/intent/banking77/test.jsonl --input labels=data/intent/banking77/labels.json
    --output eval=metrics/intent/banking77/mlm/eval.json --output per_class=metrics/intent/banking77/mlm/per_class.json
    """
    from stages.pipeline import evaluate as stage

    line = stage.main(task, name, params, evaluation, named_paths("--input", inputs), named_paths("--output", outputs))
    typer.echo(line, err=True)


if __name__ == "__main__":
    typer.run(task_evaluate)
