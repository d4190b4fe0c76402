"""`python -m stages.commands.intent_split`: the command of dvc.yaml's intent_split stage, also `slmbench intent-split`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_split(
    name: IntentOpt,
    inp: Annotated[Path, typer.Option("--in", help="Validated rows.")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Split one intent dataset: BANKING77 stratified by class and seeded, CLINC150 by its own lists; a leak check either way.

    Example: slmbench intent-split --name banking77 --in data/intent/banking77/validated.jsonl --train data/intent/banking77/train.jsonl
    --test data/intent/banking77/test.jsonl --metrics metrics/intent/banking77/split.json
    """
    from stages.data import intent_split as stage

    m = stage.main_params(name, params, inp, train, test, metrics)
    typer.echo(f"intent-split {name}: {m.get('train_rows', '?')} train, {m.get('test_rows', '?')} test -> {train}, {test}", err=True)


if __name__ == "__main__":
    typer.run(intent_split)
