"""The split stage, for every pipeline task: the task's split rule (`split_rows`) over the validated
rows, train and test written as the task's rows, and split.json with the rule's figures and
`test_sha256`, the SHA-256 of the test file's bytes (what names the test set, and what a
leaderboard submission must match)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json
from stages.pipeline.common import task_recipe

TASK_MODULE = "split"  # the task module this stage loads (registry.pipeline_task): its deps are that code
PARTS = ("read_rows", "write_rows", "split_rows")


def main(task: str, name: str, params_path: Path, inp: Path, train_out: Path, test_out: Path, metrics: Path) -> dict[str, Any]:
    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    rows = t.read_rows(Path(inp))
    train, test, figures = t.split_rows(rows, recipe, str(inp))
    if not train or not test:
        raise SLMBenchError(f"{inp}: the {t.TITLE} split rule gives {len(train)} train and {len(test)} test rows; expected both non-empty")
    t.write_rows(Path(train_out), train)
    t.write_rows(Path(test_out), test)
    out = {**figures, "test_sha256": hashlib.sha256(Path(test_out).read_bytes()).hexdigest()}
    write_json(Path(metrics), out)
    return out
