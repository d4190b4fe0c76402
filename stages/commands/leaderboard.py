"""`python -m stages.commands.leaderboard`: the command of dvc.yaml's leaderboard stage, also `slmbench leaderboard`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def leaderboard(
    out: Annotated[Path, typer.Option(help="Folder of the static site to write (replaced whole).")] = Path("site"),
    submissions: Annotated[Path, typer.Option(help="Folder of submission files (*.json).")] = Path("leaderboard/submissions"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Build the leaderboard site: every model, baseline and submission on every task, from the metrics files.

    Example: slmbench leaderboard --out site --submissions leaderboard/submissions   (then open site/index.html)
    """
    from stages.evaluate import site as stage

    typer.echo(stage.main(params, submissions, out))


if __name__ == "__main__":
    typer.run(leaderboard)
