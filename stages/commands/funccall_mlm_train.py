"""`python -m stages.commands.funccall_mlm_train`: the command of dvc.yaml's funccall_mlm_train stage, also `slmbench funccall-mlm-train`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.bfcl import bfcl_files
from stages.commands.common import ParamsOpt, friendly


@friendly
def funccall_mlm_train(
    train: Annotated[Path, typer.Option(help="Train JSONL (funccall-split --train).")],
    bfcl: Annotated[Path, typer.Option(help="The converted BFCL folder (funccall-bfcl --out): no BFCL question may be a training request.")],
    base: Annotated[Path, typer.Option(help="The base checkpoint (base-model --out), e.g. models/base/smollm2-135m-instruct.")],
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder to write.")],
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder to write.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive folder: the loss curve.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune EdgeFuncCall's MLM (funccall.mlm): the tools and the request in, the calls out as JSON.

    Example: slmbench funccall-mlm-train --train data/funccall/edgefunccall/train.jsonl --bfcl data/funccall/edgefunccall/bfcl --base models/base/smollm2-135m-instruct
    --adapter models/funccall/edgefunccall/mlm/adapter --merged models/funccall/edgefunccall/mlm/merged --metrics metrics/funccall/edgefunccall/mlm/train.json --live metrics/funccall/edgefunccall/mlm/train_live
    """
    from stages.train.funccall_mlm_stage import train_main

    r = train_main(params, train, bfcl_files(bfcl, params), base, adapter, merged, metrics, live)
    typer.echo(f"funccall-mlm-train: {r['train_rows']} rows, {r['steps']} steps, {r['wall_s']:.0f} s, final loss {r['final_loss']:.4f}", err=True)


if __name__ == "__main__":
    typer.run(funccall_mlm_train)
