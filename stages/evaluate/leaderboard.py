"""The leaderboard's tables: every scored model on every task, read from the metrics files.

    board = collect(params, Path("."), Path("leaderboard/submissions"))
    board["tables"][0]["rows"][0]["metrics"]["json_exact"]  # {"value": 0.61, "ci95": [0.52, 0.70], "n": 120}

One table per task and test set, each built by its task (stages/tasks/<task>/task.py:
`leaderboard_tables`, found through stages/tasks/registry.py); today:
- EdgeJSON: the release dataset's test split, each model of `models` (metrics/models/<m>/eval.json),
  one row per variant (runtime and quantization) and decoding, with its per-tier breakdown;
- EdgeIntent: each dataset of `intent.datasets` (metrics/intent/<d>/eval.json): the NLM and the
  MLM, and the baselines (majority class, TF-IDF + logistic regression), with F1 per class group
  (CLINC150's domains, from per_class.json) as the breakdown;
- EdgeFuncCall: each dataset of `funccall.datasets` (metrics/funccall/<f>/mlm/eval.json) and the
  BFCL categories scored beside it, one row per decoding, with the per-domain breakdown.

Every figure is read from those files, never typed in: a quality figure keeps its interval and n,
size, tokens/s, p50 latency and peak memory are copied where the file has them (absent: None).
Each table also carries the sha256 of its test file (what a submission must have been scored on),
and each fine-tuned model's row the parameter count of its base (models/base/<base>, from the
safetensors headers: LoRA merged into the base keeps its count).

Submissions (stages/evaluate/submission.py) are checked, then placed: a submission on the table's
current test split hash, with the registry's metric versions, is a row like the pipeline's; one on
another hash is listed as stale, and one scored with another metric version is flagged; both with
the reason. Nothing is mixed in that was not scored on the same rows by the same definitions.

Size classes: NLM (under 10 MB), MLM (10M to 250M parameters), larger (above 250M) and unknown (at
least 10 MB with no parameter count). The Pareto frontier of each table (quality of its primary
metric against size) is marked on its rows: no other current row is as small and as good, with
one of the two strictly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.evaluate.submission import as_row, load_submissions, registry, task_titles
from stages.tasks import registry as task_registry

NLM_MAX_MB = 10.0
MLM_PARAMS = (10_000_000, 250_000_000)


def size_class(size_mb: float | None, params: int | None) -> str:
    if size_mb is not None and size_mb < NLM_MAX_MB:
        return "NLM"
    if params is None:
        return "unknown"
    if params > MLM_PARAMS[1]:
        return "larger"
    return "MLM"


def pareto(rows: list[dict[str, Any]], metric: str) -> None:
    """Mark `pareto` on each row: True when no other row is at most as large and at least as good, one strictly."""
    points = [(r.get("size_mb"), (r["metrics"].get(metric) or {}).get("value")) for r in rows]
    for i, row in enumerate(rows):
        s, q = points[i]
        if s is None or q is None:
            row["pareto"] = False
            continue
        row["pareto"] = not any(
            j != i and s2 is not None and q2 is not None and s2 <= s and q2 >= q and (s2 < s or q2 > q) for j, (s2, q2) in enumerate(points)
        )


def place_submissions(tables: list[dict[str, Any]], submissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put each checked submission in its table, as a row or in the table's `stale` list; returns
    the submissions that match no table (also stale, with the reason)."""
    by_key = {(t["task"], t["dataset"]): t for t in tables}
    orphans = []
    for sub in submissions:
        table = by_key.get((sub["task"], sub["dataset"]))
        row = as_row(sub)
        if table is None:
            row["reason"] = f"no {task_titles().get(sub['task'], sub['task'])} table for dataset {sub['dataset']!r} in this build"
            orphans.append(row)
            continue
        current = registry(sub["task"])
        changed = [f"{m} v{v} (now v{current[m]})" for m, v in sorted(sub["metric_versions"].items()) if current.get(m) != v]
        if sub["split_sha256"] != table["split_sha256"]:
            row["reason"] = f"scored on test split {sub['split_sha256'][:12]}; the current split is {table['split_sha256'][:12]}"
            table["stale"].append(row)
        elif changed:
            row["reason"] = "scored with an older metric definition: " + ", ".join(changed)
            table["stale"].append(row)
        else:
            table["rows"].append(row)
    return orphans


def finish(table: dict[str, Any]) -> None:
    """Size classes, row ids and the Pareto frontier, once every row is in."""
    for i, row in enumerate(table["rows"]):
        row["id"] = f"{table['id']}-{i}"
        row["size_class"] = size_class(row.get("size_mb"), row.get("params"))
        for key in ("size_mb", "tokens_per_s", "latency_ms_p50", "peak_rss_mb"):
            v = row.get(key)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise SLMBenchError(f"{table['id']}: {row['model']}: {key} is {v!r}; expected a finite number")
    pareto(table["rows"], table["primary"])


def collect(p: Params, root: Path, submissions_dir: Path | None) -> dict[str, Any]:
    """Every table of every task the params define, with the submissions placed (checked first)."""
    subs = load_submissions(root / submissions_dir) if submissions_dir is not None else []
    tables = [t for task in task_registry.tasks() for t in task.leaderboard_tables(p, root)]
    orphans = place_submissions(tables, subs)
    for t in tables:
        finish(t)
    return {
        "tasks": [{"task": k, "title": v, "tables": [t["id"] for t in tables if t["task"] == k]} for k, v in task_titles().items() if any(t["task"] == k for t in tables)],
        "tables": tables,
        "orphans": orphans,
        "registry": {k: registry(k) for k in task_titles()},
    }
