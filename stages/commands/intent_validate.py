"""`python -m stages.commands.intent_validate`: the command of dvc.yaml's intent_validate stage, also `slmbench intent-validate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import IntentOpt, ParamsOpt, friendly


@friendly
def intent_validate(
    name: IntentOpt,
    inp: Annotated[Path, typer.Option("--in", help="Imported rows (intent-import --rows).")],
    labels: Annotated[Path, typer.Option(help="The label set (intent-import --labels).")],
    validated: Annotated[Path, typer.Option(help="Accepted rows (written only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write: checks, duplicates, label conflicts, the gate.")],
    docs: Annotated[Path | None, typer.Option(help="Folder for the GX Data Docs site.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate one intent dataset with Great Expectations: labels in the set, text bounds, rows per class, duplicates, label conflicts.

    Example: slmbench intent-validate --name banking77 --in data/intent/banking77/imported.jsonl --labels data/intent/banking77/labels.json
    --validated data/intent/banking77/validated.jsonl --quarantine data/intent/banking77/quarantine.jsonl --metrics metrics/intent/banking77/quality.json
    """
    from stages.data import intent_validate as stage

    r = stage.main_params(name, params, inp, labels, validated, quarantine, metrics, docs)
    typer.echo(f"intent-validate {name}: {len(r.accepted)} accepted, {len(r.quarantine)} quarantined, gate passed", err=True)


if __name__ == "__main__":
    typer.run(intent_validate)
