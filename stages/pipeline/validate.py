"""The validate stage, for every pipeline task: each row gets the task's Python checks
(`row_problems`: a row with a problem goes to quarantine with its reasons), then the Great
Expectations gate runs the task's suites (`expectations`) over every row read (`input`, with the
recipe's tolerance) and over the rows kept (`accepted`, strictly), on the task's DataFrame
(`frame`). quality.json has the counts, the reject rate and every expectation's outcome. A failed
gate writes quality.json and the quarantine, removes any old validated file, and exits with one
line naming the input file and every failed expectation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json, write_rows
from stages.data.gx import Table, gx_gate
from stages.pipeline.common import task_recipe

TABLES = ("input", "accepted")
PARTS = ("read_rows", "row_problems", "frame", "expectations")


def main(task: str, name: str, params_path: Path, inp: Path, validated: Path, quarantine: Path, metrics: Path, docs: Path | None = None) -> dict[str, Any]:
    t, p, recipe = task_recipe(task, name, params_path, PARTS)
    rows = t.read_rows(Path(inp))
    Path(validated).unlink(missing_ok=True)  # a failed gate must not leave an old file behind
    accepted, quarantined = [], []
    reasons: Counter[str] = Counter()
    for row in rows:
        problems = t.row_problems(row, recipe)
        if problems:
            quarantined.append({**row, "reasons": problems})
            reasons.update(problems)
        else:
            accepted.append(row)
    tables = [Table(table, t.frame(subset), f"{task}_{table}", t.expectations(recipe, table)) for table, subset in zip(TABLES, (rows, accepted), strict=True)]
    failed, outcome = gx_gate(f"{task}_{name}", tables, docs, source_name=task)
    quality = {
        "task": task,
        "dataset": name,
        "rows_in": len(rows),
        "rows_accepted": len(accepted),
        "rows_quarantined": len(quarantined),
        "reject_rate": round(len(quarantined) / len(rows), 6) if rows else 0.0,
        "reasons": dict(sorted(reasons.items())),
        "expectations": outcome,
        "gate_passed": not failed,
    }
    write_rows(Path(quarantine), quarantined)
    write_json(Path(metrics), quality)
    if failed:
        raise SLMBenchError(f"{inp}: the {task} {name} gate failed {len(failed)} expectation(s): {'; '.join(failed)}")
    write_rows(Path(validated), accepted)
    return quality
