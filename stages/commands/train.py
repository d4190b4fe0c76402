"""`python -m stages.commands.train`: the command of dvc.yaml's train stage, also `slmbench train`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def train(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    train_file: Annotated[Path, typer.Option("--train", help="Train split JSONL.")],
    base: Annotated[Path, typer.Option(help="Base checkpoint directory (safetensors).")],
    adapter: Annotated[Path, typer.Option(help="Output directory for the LoRA adapter.")],
    merged: Annotated[Path, typer.Option(help="Output directory for the merged model.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive directory for the per-step curves.")],
    schemas: Annotated[Path | None, typer.Option(help="The generated schemas some train rows use (generate --schemas-out).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune a model on a train split and merge it.

    Example: slmbench train --model smollm2-135m-lora --train data/v3/train.jsonl --base models/base/smollm2-135m-instruct
    --adapter models/smollm2-135m-lora/adapter --merged models/smollm2-135m-lora/merged --metrics metrics/models/smollm2-135m-lora/train.json
    --live metrics/models/smollm2-135m-lora/train_live
    """
    from stages.train import train_stage as stage

    r = stage.main(model, params, train_file, base, adapter, merged, metrics, live, schemas)
    if r:  # under torchrun only process 0 reports
        typer.echo(f"train {model}: {r['steps']} steps, {r['tokens']} tokens at {r['tokens_per_s']} tok/s, final loss {r['final_loss']}", err=True)


if __name__ == "__main__":
    typer.run(train)
