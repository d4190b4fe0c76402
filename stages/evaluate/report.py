"""`slmbench report --out metrics/report.md ...`: the release summary.

One stage over every task: it depends on the metrics folders and on stages/tasks, so a new entry
under any task's datasets or models, or a new task, reruns it. It writes `metrics/report.md` (each
registered task's section, its `report_lines`, in leaderboard order), `metrics/release.json` (the
release dataset's figures, `release.dataset` of `datasets:`, under stable keys, for `dvc metrics
diff`) and `metrics/dataset_quality.json` (the per-version plot of `datasets:`). Nothing here is
measured anew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.markdown import load
from stages.core.params import Params

RELEASE_KEYS = ("rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated", "corrupt_rows_full_suite", "corrupt_rate_full_suite", "gate_passed")


def quality_rows(versions: list[str], datasets_dir: Path) -> list[dict[str, Any]]:
    """One row per dataset version: the data behind the quality-per-version plot."""
    keys = ("corrupt_rate_full_suite", "reject_rate", "rows_regenerated", "rows_accepted")
    return [{"version": v, **{k: load(datasets_dir / v / "quality.json").get(k) for k in keys}} for v in versions]


def release_metrics(release: str, datasets_dir: Path) -> dict[str, Any]:
    """The release dataset's quality figures under stable keys, whichever version is the release.

    Every version's quality.json exists in every revision, so diffing those across two release
    tags shows nothing; this file changes exactly when the release's data does.
    """
    q = load(datasets_dir / release / "quality.json")
    sp = load(datasets_dir / release / "split.json")
    figures: dict[str, Any] = {k: q.get(k) for k in RELEASE_KEYS}
    figures["train_rows"] = sp.get("train_rows")
    figures["test_rows"] = sp.get("test_rows")
    # nested (the one metrics layout); `dvc metrics diff` shows it as `dataset.<key>`
    figures = {k: v for k, v in figures.items() if v is not None}
    return {"dataset": figures} if figures else {}


def summary(p: Params, root: Path) -> str:
    """metrics/report.md: every registered task's section (its `report_lines`), in leaderboard order,
    each read from its metrics files under `root`. No task is named here: a new task's section
    comes with its folder."""
    from stages.tasks import registry

    lines = ["# SLMBench release report", ""]
    for i, task in enumerate(registry.tasks()):
        section = task.report_lines(p, Path(root))
        lines += section if i == 0 else ["", *section]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(params_path: Path, root: Path, out: Path, release_out: Path, quality_out: Path) -> None:
    from stages.core import params as P
    from stages.core.records import atomic_open, write_json

    p = P.load(params_path)
    datasets_dir = Path(root) / "metrics" / "datasets"
    write_json(quality_out, quality_rows(list(p.datasets), datasets_dir))
    write_json(release_out, release_metrics(p.release.dataset, datasets_dir))
    with atomic_open(out) as fh:
        fh.write(summary(p, Path(root)))
