"""`python -m stages.commands.report`: the command of dvc.yaml's report stage, also `slmbench report`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def report(
    root: Annotated[Path, typer.Option(help="The project folder whose metrics/ every task's section reads.")] = Path("."),
    out: Annotated[Path, typer.Option(help="Markdown report to write.")] = Path("metrics/report.md"),
    release: Annotated[Path, typer.Option(help="release.json to write: the release dataset's figures under stable keys.")] = Path("metrics/release.json"),
    quality: Annotated[Path, typer.Option(help="Per-version quality rows (JSON) for the plot.")] = Path("metrics/dataset_quality.json"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the release summary: every registered task's section (its report_lines), in leaderboard order.

    Example: slmbench report --root . --out metrics/report.md --release metrics/release.json --quality metrics/dataset_quality.json
    """
    from stages.evaluate import report as stage

    stage.main(params, root, out, release, quality)


if __name__ == "__main__":
    typer.run(report)
