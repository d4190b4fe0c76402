"""`python -m stages.commands.intent_import`: the command of dvc.yaml's intent_import stage, also `slmbench intent-import`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_import(
    name: IntentOpt,
    source: Annotated[Path, typer.Option(help="The source folder as its authors released it, e.g. data/sources/banking77.")],
    rows: Annotated[Path, typer.Option(help="EdgeIntent rows (JSONL) to write.")],
    labels: Annotated[Path, typer.Option(help="The sorted label list (JSON) to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Import one real intent dataset (BANKING77 or CLINC150 layout) as EdgeIntent rows and its label set.

    Example: slmbench intent-import --name banking77 --source data/sources/banking77 --rows data/intent/banking77/imported.jsonl
    --labels data/intent/banking77/labels.json
    """
    from stages.tasks.intent import import_stage as stage

    m = stage.main(name, params, source, rows, labels)
    typer.echo(f"intent-import {name}: {m['rows']} rows, {m['labels']} labels -> {rows}", err=True)


if __name__ == "__main__":
    typer.run(intent_import)
