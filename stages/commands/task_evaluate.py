"""`python -m stages.commands.task_evaluate`: the generic evaluate stage of every pipeline task (stages/pipeline/evaluate.py), also `slmbench task-evaluate`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_evaluate(
    task: TaskOpt,
    name: TaskNameOpt,
    model: Annotated[Path, typer.Option(help="The GGUF file.")],
    test: Annotated[Path, typer.Option(help="Test JSONL.")],
    out: Annotated[Path, typer.Option(help="eval.json to write.")],
    constraint: Annotated[Path | None, typer.Option(help="A file the task's decoding constraint is read from (e.g. a label set), where the task needs one.")] = None,
    predictions: Annotated[Path | None, typer.Option(help="Per-row answers JSONL to write (optional).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score a pipeline task's model on its test rows under the task's decoding constraint.

    Example: slmbench task-evaluate --task T --name D --model models/tasks/T/D/mlm/gguf/model-q8_0.gguf --test data/tasks/T/D/test.jsonl --out metrics/tasks/T/D/mlm/eval.json
    """
    from stages.pipeline import evaluate as stage

    r = stage.main(task, name, params, model, test, out, constraint, predictions)
    m = r["models"]["mlm"]
    typer.echo(f"{task}-evaluate {name}: n={m['n']} " + " ".join(f"{k}={m[k]:.3f}" for k in m if f"{k}_ci95" in m), err=True)


if __name__ == "__main__":
    typer.run(task_evaluate)
