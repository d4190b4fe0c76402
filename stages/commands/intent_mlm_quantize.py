"""`python -m stages.commands.intent_mlm_quantize`: the command of dvc.yaml's intent_mlm_quantize stage, also `slmbench intent-mlm-quantize`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_mlm_quantize(
    name: IntentOpt,
    merged: Annotated[Path, typer.Option(help="The merged model (intent-mlm-train --merged).")],
    test: Annotated[Path, typer.Option(help="Test JSONL: intent.mlm.check_rows of its rows, drawn with intent.mlm.seed, check the GGUF against the merged model.")],
    labels: Annotated[Path, typer.Option(help="The label set, copied beside the GGUF.")],
    out: Annotated[Path, typer.Option(help="Folder to write: model-<qtype>.gguf and labels.json.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert the merged MLM to GGUF and quantize it (intent.mlm.qtype), checked against the merged model's labels.

    Example: slmbench intent-mlm-quantize --name banking77 --merged models/intent/banking77/mlm/merged --test data/intent/banking77/test.jsonl
    --labels data/intent/banking77/labels.json --out models/intent/banking77/mlm/gguf --metrics metrics/intent/banking77/mlm/quantize.json
    """
    from stages.train.intent_mlm_quantize import quantize_main

    r = quantize_main(name, params, merged, test, labels, out, metrics)
    agree = f", agreement {r['agreement']:.3f} on {r['check_n']} rows" if "agreement" in r else ""
    typer.echo(f"intent-mlm-quantize {name}: {r['size_mb']:.1f} MB{agree} -> {out}", err=True)


if __name__ == "__main__":
    typer.run(intent_mlm_quantize)
