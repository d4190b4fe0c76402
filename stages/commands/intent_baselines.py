"""`python -m stages.commands.intent_baselines`: the command of dvc.yaml's intent_baselines stage, also `slmbench intent-baselines`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_baselines(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (the split stage's --train).")],
    out: Annotated[Path, typer.Option(help="Folder for majority.json and the TF-IDF + LR files.")],
    metrics: Annotated[Path, typer.Option(help="The training facts (JSON).")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Fit the baselines: the majority class and TF-IDF + logistic regression (scikit-learn; saved as JSON and safetensors, no pickle).

    Example: slmbench intent-baselines --name banking77 --train data/intent/banking77/train.jsonl --out models/intent/banking77/baselines
    --metrics metrics/intent/banking77/baselines_train.json
    """
    from stages.train import intent_baselines_stage as stage

    stage.baselines_main(name, params, train, out, metrics)
    typer.echo(f"intent-baselines {name}: -> {out}", err=True)


if __name__ == "__main__":
    typer.run(intent_baselines)
