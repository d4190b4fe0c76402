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
    datasets_dir: Annotated[Path, typer.Option(help="Folder with one metrics folder per dataset version (quality.json, split.json).")] = Path("metrics/datasets"),
    models_dir: Annotated[Path, typer.Option(help="Folder with one metrics folder per model (eval.json, quantize.json).")] = Path("metrics/models"),
    out: Annotated[Path, typer.Option(help="Markdown report to write.")] = Path("metrics/report.md"),
    release: Annotated[Path, typer.Option(help="release.json to write: the release dataset's figures under stable keys.")] = Path("metrics/release.json"),
    quality: Annotated[Path, typer.Option(help="Per-version quality rows (JSON) for the plot.")] = Path("metrics/dataset_quality.json"),
    intent_dir: Annotated[Path | None, typer.Option(help="EdgeIntent metrics: one folder per intent dataset (eval.json).")] = None,
    funccall_dir: Annotated[Path | None, typer.Option(help="EdgeFuncCall metrics: one folder per dataset (quality.json, split.json, mlm/eval.json, train.json, quantize.json).")] = None,
    tasks_dir: Annotated[Path | None, typer.Option(help="Metrics of the tasks run by the generic stages: metrics/tasks/<task>/<dataset>/ (each task's report_lines reads its own).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the release summary: every model's scores and quantization check, every dataset version's quality, EdgeIntent's tables.

    Example: slmbench report --datasets-dir metrics/datasets --models-dir metrics/models --out metrics/report.md
    """
    from stages.evaluate import report as stage

    stage.main(params, datasets_dir, models_dir, out, release, quality, intent_dir, funccall_dir, tasks_dir)


if __name__ == "__main__":
    typer.run(report)
