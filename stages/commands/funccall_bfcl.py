"""`python -m stages.commands.funccall_bfcl`: the command of dvc.yaml's funccall_bfcl stage, also `slmbench funccall-bfcl`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def funccall_bfcl(
    src: Annotated[Path, typer.Option(help="Where .ci/bfcl.sh unpacked bfcl-eval (the folder holding bfcl_eval/data).")],
    out: Annotated[Path, typer.Option(help="Folder to write: bfcl_<category>.jsonl per category of funccall.bfcl.")],
    metrics: Annotated[Path, typer.Option(help="bfcl.json to write: rows per category.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert BFCL's single-call AST categories (funccall.bfcl) into EdgeFuncCall rows: the outside test.

    Example: slmbench funccall-bfcl --src .venv/share/slmbench/bfcl --out data/funccall/edgefunccall/bfcl --metrics metrics/funccall/edgefunccall/bfcl.json
    """
    from stages.tasks.funccall.bfcl_stage import main

    r = main(params, src, out, metrics)
    counts = ", ".join(f"{c} {v['rows']}" for c, v in r["categories"].items())
    typer.echo(f"funccall-bfcl: {counts} rows -> {out}", err=True)


if __name__ == "__main__":
    typer.run(funccall_bfcl)
