"""`python -m stages.commands.funccall_generate`: the command of dvc.yaml's funccall_generate stage, also `slmbench funccall-generate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import FuncCallOpt, ParamsOpt, friendly


@friendly
def funccall_generate(
    name: FuncCallOpt,
    tools: Annotated[Path, typer.Option(help="The tool catalogue: one <domain>.json per domain (OpenAI tools format).")],
    out: Annotated[Path, typer.Option(help="Generated rows (JSONL) to write.")],
    metrics: Annotated[Path, typer.Option(help="generate.json to write: the row mix, the catalogue's hash, rows/s, the teacher's figures.")],
    teacher_cache: Annotated[Path | None, typer.Option(help="Teacher output cache (JSONL), read and rewritten.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Generate one EdgeFuncCall dataset (funccall.datasets.NAME): seeded Faker values in templated requests, the tools offered, the expected calls.

    Example: slmbench funccall-generate --name edgefunccall --tools tools --out data/funccall/edgefunccall/generated.jsonl
    --metrics metrics/funccall/edgefunccall/generate.json
    """
    from stages.tasks.funccall.generate_stage import main_params

    r = main_params(name, params, tools, out, metrics, teacher_cache)
    teacher = f", {r['teacher']['teacher_rows']} teacher requests" if r["teacher"]["enabled"] else ""
    typer.echo(f"funccall-generate {name}: {r['rows']} rows ({r['rows_per_s']} rows/s){teacher} -> {out}", err=True)


if __name__ == "__main__":
    typer.run(funccall_generate)
