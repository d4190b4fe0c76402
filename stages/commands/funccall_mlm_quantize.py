"""`python -m stages.commands.funccall_mlm_quantize`: the command of dvc.yaml's funccall_mlm_quantize stage, also `slmbench funccall-mlm-quantize`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def funccall_mlm_quantize(
    merged: Annotated[Path, typer.Option(help="The merged model (funccall-mlm-train --merged).")],
    test: Annotated[Path, typer.Option(help="Test JSONL: funccall.mlm.check_rows of its rows check the GGUF against the merged model.")],
    out: Annotated[Path, typer.Option(help="Folder to write: model-<qtype>.gguf.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert the merged MLM to GGUF and quantize it (funccall.mlm.qtype), checked against the merged model's constrained answers.

    Example: slmbench funccall-mlm-quantize --merged models/funccall/edgefunccall/mlm/merged --test data/funccall/edgefunccall/test.jsonl --out models/funccall/edgefunccall/mlm/gguf
    --metrics metrics/funccall/edgefunccall/mlm/quantize.json
    """
    from stages.train.funccall_mlm_quantize import quantize_main

    r = quantize_main(params, merged, test, out, metrics)
    agree = f", agreement {r['agreement']:.3f} on {r['check_n']} rows" if "agreement" in r else ""
    typer.echo(f"funccall-mlm-quantize: {r['size_mb']:.1f} MB{agree} -> {out}", err=True)


if __name__ == "__main__":
    typer.run(funccall_mlm_quantize)
