"""`python -m stages.commands.funccall_validate`: the command of dvc.yaml's funccall_validate stage, also `slmbench funccall-validate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import FuncCallOpt, ParamsOpt, friendly


@friendly
def funccall_validate(
    name: FuncCallOpt,
    inp: Annotated[Path, typer.Option("--in", help="Generated rows (funccall-generate --out).")],
    tools: Annotated[Path, typer.Option(help="The tool catalogue the rows were made from.")],
    validated: Annotated[Path, typer.Option(help="Accepted rows to write (only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows to write, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write.")],
    docs: Annotated[Path | None, typer.Option(help="Folder for the GX Data Docs site.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate EdgeFuncCall rows with Great Expectations: schema-valid calls, grounded values, offered tools, no leak, coverage per tool.

    Example: slmbench funccall-validate --name edgefunccall --in data/funccall/edgefunccall/generated.jsonl --tools tools
    --validated data/funccall/edgefunccall/validated.jsonl --quarantine data/funccall/edgefunccall/quarantine.jsonl
    --metrics metrics/funccall/edgefunccall/quality.json
    """
    from stages.core import params as P
    from stages.data.funccall_validate import main

    d = P.funccall_data(P.load(params), name)
    r = main(inp, tools, validated, quarantine, metrics, max_reject_rate=d.max_reject_rate, min_per_tool=d.min_per_tool, docs_dir=docs)
    typer.echo(f"funccall-validate {name}: {r['rows_accepted']} accepted, {r['rows_quarantined']} quarantined -> {validated}", err=True)


if __name__ == "__main__":
    typer.run(funccall_validate)
