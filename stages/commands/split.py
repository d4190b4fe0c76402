"""`python -m stages.commands.split`: the command of dvc.yaml's split stage, also `slmbench split`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, VersionOpt, friendly


@friendly
def split(
    version: VersionOpt,
    inp: Annotated[Path, typer.Option("--in", help="Validated JSONL.")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL of the seen schemas (test_seen) to write.")],
    test_unseen: Annotated[Path, typer.Option(help="Test JSONL of the held-out schemas (test_unseen) to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
    schemas: Annotated[Path | None, typer.Option(help="The version's generated schemas; their rows all go to train.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Split one version: held-out schemas (split.unseen_schemas) to test_unseen, the others stratified by schema, with a leak check.

    Example: slmbench split --version v3 --in data/v3/validated.jsonl --train data/v3/train.jsonl --test data/v3/test.jsonl
    --test-unseen data/v3/test_unseen.jsonl --metrics metrics/datasets/v3/split.json
    """
    from stages.data import split as stage

    m = stage.main(version, params, inp, train, test, test_unseen, metrics, schemas)
    typer.echo(f"split {version}: {m['train_rows']} train, {m['test_rows']} test_seen, {m['test_unseen_rows']} test_unseen ({m['unseen_schemas']} schemas), 0 leaks", err=True)


if __name__ == "__main__":
    typer.run(split)
