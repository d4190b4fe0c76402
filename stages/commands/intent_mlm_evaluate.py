"""`python -m stages.commands.intent_mlm_evaluate`: the command of dvc.yaml's intent_mlm_evaluate stage, also `slmbench intent-mlm-evaluate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_mlm_evaluate(
    name: IntentOpt,
    model: Annotated[Path, typer.Option(help="The MLM's GGUF (intent-mlm-quantize --out/model-q8_0.gguf) or an HF directory.")],
    test: Annotated[Path, typer.Option(help="Test JSONL (the split stage's --test).")],
    labels: Annotated[Path, typer.Option(help="The label set: the grammar's alternatives.")],
    out: Annotated[Path, typer.Option(help="eval.json to write.")],
    per_class: Annotated[Path, typer.Option(help="Per-class F1 (JSON) to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score the MLM of one intent dataset on its test split: label-constrained decoding, intervals, latency, size, peak RSS.

    Example: slmbench intent-mlm-evaluate --name banking77 --model models/intent/banking77/mlm/gguf/model-q8_0.gguf
    --test data/intent/banking77/test.jsonl --labels data/intent/banking77/labels.json --out metrics/intent/banking77/mlm/eval.json
    --per-class metrics/intent/banking77/mlm/per_class.json
    """
    from stages.evaluate.intent_mlm_stage import main

    r = main(name, params, model, test, labels, out, per_class)
    typer.echo(f"intent-mlm-evaluate {name}: n={r['n']} accuracy {r['accuracy']:.3f} {r['accuracy_ci95']}, p50 {r.get('latency_ms_p50', 0):.1f} ms", err=True)


if __name__ == "__main__":
    typer.run(intent_mlm_evaluate)
