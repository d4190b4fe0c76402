"""`python -m stages.commands.task_card`: the generic card stage of every pipeline task (stages/pipeline/card.py), also `slmbench task-card`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_card(
    task: TaskOpt,
    name: TaskNameOpt,
    eval_file: Annotated[Path, typer.Option("--eval", help="eval.json (task-evaluate --out).")],
    out: Annotated[Path, typer.Option(help="README.md to write.")],
    train: Annotated[Path | None, typer.Option(help="train.json, for a card that quotes it.")] = None,
    quantize: Annotated[Path | None, typer.Option(help="quantize.json, for a card that quotes it.")] = None,
    quality: Annotated[Path | None, typer.Option(help="The data's quality.json, for a card that quotes it.")] = None,
    plot: Annotated[Path | None, typer.Option(help="JSON to write the rows of the task's plot to (EdgeJSON: per tier; EdgeFuncCall: per row set); exactly when the task draws one.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write a task's model card from its train, quantize and eval figures.

    Example (EdgeJSON, --name a model of `models:`): slmbench card --task edgejson --name smollm2-135m-lora --eval metrics/models/smollm2-135m-lora/eval.json
    --train metrics/models/smollm2-135m-lora/train.json --quantize metrics/models/smollm2-135m-lora/quantize.json --quality metrics/datasets/v4/quality.json
    --out models/smollm2-135m-lora/README.md --plot metrics/models/smollm2-135m-lora/tier_scores.json

    Example: slmbench task-card --task T --name D --eval metrics/tasks/T/D/mlm/eval.json --train metrics/tasks/T/D/mlm/train.json --quantize metrics/tasks/T/D/mlm/quantize.json --out models/tasks/T/D/README.md
    """
    from stages.pipeline import card as stage

    stage.main(task, name, params, eval_file, train, quantize, out, quality, plot)


if __name__ == "__main__":
    typer.run(task_card)
