"""`python -m stages.commands.intent_nlm`: the command of dvc.yaml's intent_nlm stage, also `slmbench intent-nlm`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_nlm(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (the split stage's --train).")],
    labels: Annotated[Path, typer.Option(help="The label set (intent-import --labels): the model's outputs.")],
    out: Annotated[Path, typer.Option(help="Folder for model.onnx and nlm.json.")],
    metrics: Annotated[Path, typer.Option(help="The training facts (JSON): time, size, the ONNX check.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Train the NLM (hashed n-grams, an int8 embedding table, one linear layer), export it to ONNX and check it against torch.

    Example: slmbench intent-nlm --name banking77 --train data/intent/banking77/train.jsonl --labels data/intent/banking77/labels.json
    --out models/intent/banking77/nlm --metrics metrics/intent/banking77/nlm_train.json
    """
    from stages.train import intent_nlm_stage as stage

    m = stage.nlm_main(name, params, train, labels, out, metrics)
    typer.echo(f"intent-nlm {name}: {m['size_mb']:.2f} MB -> {out}", err=True)


if __name__ == "__main__":
    typer.run(intent_nlm)
