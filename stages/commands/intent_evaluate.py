"""`python -m stages.commands.intent_evaluate`: the command of dvc.yaml's intent_evaluate stage, also `slmbench intent-evaluate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_evaluate(
    name: IntentOpt,
    test: Annotated[Path, typer.Option(help="Test JSONL (the split stage's --test).")],
    labels: Annotated[Path, typer.Option(help="The label set.")],
    nlm: Annotated[Path, typer.Option(help="The NLM folder (intent-nlm --out).")],
    baselines: Annotated[Path, typer.Option(help="The baselines folder (intent-baselines --out).")],
    out: Annotated[Path, typer.Option(help="eval.json to write: every model's figures.")],
    per_class: Annotated[Path, typer.Option(help="Per-class F1 of every model (JSON).")],
    plot: Annotated[Path, typer.Option(help="Accuracy against size, one point per model (JSON).")],
    mlm_eval: Annotated[Path | None, typer.Option(help="The MLM's eval.json (intent-mlm-evaluate --out), put in the same table.")] = None,
    mlm_per_class: Annotated[Path | None, typer.Option(help="The MLM's per-class F1 (intent-mlm-evaluate --per-class).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score the NLM and the baselines of one intent dataset on its test split, side by side, with intervals, size and latency.

    Example: slmbench intent-evaluate --name banking77 --test data/intent/banking77/test.jsonl --labels data/intent/banking77/labels.json
    --nlm models/intent/banking77/nlm --baselines models/intent/banking77/baselines --out metrics/intent/banking77/eval.json
    --per-class metrics/intent/banking77/per_class.json --plot metrics/intent/banking77/size_accuracy.json
    """
    from stages.evaluate import intent_stage as stage

    r = stage.main(name, params, test, labels, nlm, baselines, out, per_class, plot, mlm_eval, mlm_per_class)
    figures = ", ".join(f"{m} {v['accuracy']:.3f}" for m, v in r["models"].items())
    typer.echo(f"intent-evaluate {name}: n={r['n']} accuracy {figures}", err=True)


if __name__ == "__main__":
    typer.run(intent_evaluate)
