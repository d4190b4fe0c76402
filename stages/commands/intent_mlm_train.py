"""`python -m stages.commands.intent_mlm_train`: the command of dvc.yaml's intent_mlm_train stage, also `slmbench intent-mlm-train`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_mlm_train(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (intent-split --train).")],
    labels: Annotated[Path, typer.Option(help="The label set.")],
    base: Annotated[Path, typer.Option(help="The base checkpoint (base-model --out), e.g. models/base/smollm2-135m-instruct.")],
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder to write.")],
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder to write.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive folder: the loss curve.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune the MLM of one intent dataset (intent.mlm): the query in, the label out.

    Example: slmbench intent-mlm-train --name banking77 --train data/intent/banking77/train.jsonl --labels data/intent/banking77/labels.json
    --base models/base/smollm2-135m-instruct --adapter models/intent/banking77/mlm/adapter --merged models/intent/banking77/mlm/merged
    --metrics metrics/intent/banking77/mlm/train.json --live metrics/intent/banking77/mlm/train_live
    """
    from stages.train.intent_mlm_stage import train_main

    r = train_main(name, params, train, labels, base, adapter, merged, metrics, live)
    typer.echo(f"intent-mlm-train {name}: {r['train_rows']} rows, {r['steps']} steps, {r['wall_s']:.0f} s, final loss {r['final_loss']:.4f}", err=True)


if __name__ == "__main__":
    typer.run(intent_mlm_train)
