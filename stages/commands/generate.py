"""`python -m stages.commands.generate`: the command of dvc.yaml's generate stage, also `slmbench generate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, VersionOpt, friendly


@friendly
def generate(
    version: VersionOpt,
    out: Annotated[Path, typer.Option(help="Output JSONL, e.g. data/v3/generated.jsonl.")],
    teacher_metrics: Annotated[Path | None, typer.Option(help="teacher.json to write: rows sent, kept, fallbacks by reason, calls, cache hits.")] = None,
    teacher_log: Annotated[Path | None, typer.Option(help="Per-row teacher log (JSONL): teacher, register, attempts, outcome, reason.")] = None,
    teacher_cache: Annotated[Path | None, typer.Option(help="Teacher output cache (JSONL), read and rewritten.")] = None,
    schemas_out: Annotated[Path | None, typer.Option(help="The version's generated training schemas (JSON), e.g. data/v4/generated_schemas.json.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Generate one dataset version from its recipe (and the teacher, if `teacher.backend` is not none).

    Example: slmbench generate --version v3 --out data/v3/generated.jsonl --teacher-metrics metrics/datasets/v3/teacher.json
    """
    from stages.tasks.edgejson import generate as stage

    n = stage.main(version, params, out, teacher_metrics, teacher_log, teacher_cache, schemas_out)
    typer.echo(f"generate {version}: {n} rows -> {out}", err=True)


if __name__ == "__main__":
    typer.run(generate)
