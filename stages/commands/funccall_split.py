"""`python -m stages.commands.funccall_split`: the command of dvc.yaml's funccall_split stage, also `slmbench funccall-split`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import friendly


@friendly
def funccall_split(
    inp: Annotated[Path, typer.Option("--in", help="Validated rows (funccall-validate --validated).")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
) -> None:
    """Split validated EdgeFuncCall rows by the split each was generated for (test templates are test-only), with a leak check.

    Example: slmbench funccall-split --in data/funccall/edgefunccall/validated.jsonl --train data/funccall/edgefunccall/train.jsonl --test data/funccall/edgefunccall/test.jsonl
    --metrics metrics/funccall/edgefunccall/split.json
    """
    from stages.data.funccall_split import main

    r = main(inp, train, test, metrics)
    typer.echo(f"funccall-split: {r['train']['rows']} train, {r['test']['rows']} test, 0 leaks -> {train}, {test}", err=True)


if __name__ == "__main__":
    typer.run(funccall_split)
