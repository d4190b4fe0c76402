"""`python -m stages.commands.validate`: the command of dvc.yaml's validate stage, also `slmbench validate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, VersionOpt, friendly


@friendly
def validate(
    version: VersionOpt,
    inp: Annotated[Path, typer.Option("--in", help="Generated JSONL.")],
    validated: Annotated[Path, typer.Option(help="Accepted rows (written only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write.")],
    docs: Annotated[Path, typer.Option(help="Folder for the GX Data Docs site.")],
    schemas: Annotated[Path | None, typer.Option(help="The version's generated schemas (generate --schemas-out).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate one dataset version with jsonschema and Great Expectations.

    Example: slmbench validate --version v3 --in data/v3/generated.jsonl --validated data/v3/validated.jsonl
    --quarantine data/v3/quarantine.jsonl --metrics metrics/datasets/v3/quality.json --docs metrics/datasets/v3/data_docs
    """
    from stages.data import validate as stage

    result = stage.main(version, params, inp, validated, quarantine, metrics, docs, schemas)
    q = result.quality
    typer.echo(
        f"validate {version}: {q['rows_accepted']} accepted, {q['rows_rejected']} rejected, {q['rows_regenerated']} regenerated; "
        f"corrupt under the full suite: {q['corrupt_rate_full_suite']:.3f}",
        err=True,
    )
    if not result.passed:
        typer.echo(f"error: the {version} gate failed ({len(result.failed_expectations)} expectation(s)):", err=True)
        for line in result.failed_expectations:
            typer.echo(f"  - {line}", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(validate)
