"""`python -m stages.commands.card`: the command of dvc.yaml's card stage, also `slmbench card`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def card(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    eval_file: Annotated[Path, typer.Option("--eval", help="The model's eval.json.")],
    train_file: Annotated[Path, typer.Option("--train", help="The model's train.json.")],
    quantize_file: Annotated[Path, typer.Option("--quantize", help="The model's quantize.json.")],
    quality: Annotated[Path, typer.Option(help="quality.json of the dataset version the model trained on.")],
    out: Annotated[Path, typer.Option(help="Model card to write (Markdown with Hugging Face front matter).")],
    tiers: Annotated[Path, typer.Option(help="Per-tier scores JSON to write, for the model's tier plot.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write one model's card and its per-tier plot data.

    Example: slmbench card --model smollm2-135m-lora --eval metrics/models/smollm2-135m-lora/eval.json
    --train metrics/models/smollm2-135m-lora/train.json --quantize metrics/models/smollm2-135m-lora/quantize.json
    --quality metrics/datasets/v3/quality.json --out models/smollm2-135m-lora/README.md --tiers metrics/models/smollm2-135m-lora/tier_scores.json
    """
    from stages.evaluate import card as stage

    stage.main(model, params, eval_file, train_file, quantize_file, quality, out, tiers)


if __name__ == "__main__":
    typer.run(card)
