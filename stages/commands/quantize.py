"""`python -m stages.commands.quantize`: the command of dvc.yaml's quantize stage, also `slmbench quantize`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def quantize(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    merged: Annotated[Path, typer.Option(help="Merged model directory (safetensors).")],
    test: Annotated[Path, typer.Option(help="Test JSONL; quantize.check_rows_per_schema rows of each schema drive the greedy check.")],
    out: Annotated[Path, typer.Option(help="Output directory for the GGUF files.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
    base: Annotated[Path | None, typer.Option(help="Base checkpoint directory: also write base-q8_0.gguf, the untuned base that evaluate scores as gguf_base.")] = None,
) -> None:
    """Convert a merged model to GGUF f16, then Q8_0, quantize.q4_type and quantize.check_types, and check greedy agreement.

    Example: slmbench quantize --model smollm2-135m-lora --merged models/smollm2-135m-lora/merged --test data/v3/test.jsonl
    --out models/smollm2-135m-lora/gguf --metrics metrics/models/smollm2-135m-lora/quantize.json
    """
    from stages.train import quantize as stage

    r = stage.main(model, params, merged, test, out, metrics, base)
    typer.echo(f"quantize {model}: " + ", ".join(f"{k} {v['size_mb']} MB" for k, v in sorted(r.items()) if isinstance(v, dict) and "size_mb" in v), err=True)


if __name__ == "__main__":
    typer.run(quantize)
