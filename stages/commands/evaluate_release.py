"""`python -m stages.commands.evaluate_release`: the command of dvc.yaml's evaluate stage, also `slmbench evaluate-release`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def evaluate_release(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    test: Annotated[Path, typer.Option(help="Test JSONL.")],
    base: Annotated[Path, typer.Option(help="Base checkpoint directory (the untuned variant).")],
    merged: Annotated[Path, typer.Option(help="Merged model directory.")],
    gguf: Annotated[Path, typer.Option(help="Directory with model-q8_0.gguf and model-q4*.gguf.")],
    out: Annotated[Path, typer.Option(help="eval.json to write (the one metrics layout: nested, `m`, `m_ci95`, `m_n`).")],
    by_schema: Annotated[Path, typer.Option(help="eval_by_schema.json to write.")],
    predictions: Annotated[Path, typer.Option(help="Per-row predictions JSONL.")],
    test_unseen: Annotated[Path | None, typer.Option(help="Test JSONL of the held-out schemas (test_unseen); the release variant scores every row.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """The evaluate stage: every variant, free and constrained decoding, on test_seen; the release variant also on test_unseen.

    Example: slmbench evaluate-release --model smollm2-135m-lora --test data/v3/test.jsonl --test-unseen data/v3/test_unseen.jsonl
    --base models/base/smollm2-135m-instruct --merged models/smollm2-135m-lora/merged --gguf models/smollm2-135m-lora/gguf
    --out metrics/models/smollm2-135m-lora/eval.json --by-schema metrics/models/smollm2-135m-lora/eval_by_schema.json
    --predictions models/smollm2-135m-lora/predictions.jsonl
    """
    from stages.evaluate import evaluate as stage

    stage.main(model, params, test, base, merged, gguf, out, by_schema, predictions, test_unseen)


if __name__ == "__main__":
    typer.run(evaluate_release)
