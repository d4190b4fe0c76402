"""The split stage, for every pipeline task: the task's split rule (`split_rows`) over the validated
rows gives its parts, each written as the task's rows: `train` and `test`, and any other part the
rule makes (EdgeJSON's `test_unseen`) to the path given with `--part NAME=PATH`. split.json holds
the rule's figures and `test_sha256`, the SHA-256 of the test file's bytes (what names the test
set, and what a leaderboard submission must match). `source`: the file the rule reads beside the
rows, where it has one (EdgeJSON's generated schemas), given as the stage's --constraint."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json
from stages.pipeline.common import task_recipe

TASK_MODULE = "split"  # the task module this stage loads (registry.pipeline_task): its deps are that code
PARTS = ("read_rows", "write_rows", "split_rows")
MAIN_PARTS = ("train", "test")


def main(
    task: str, name: str, params_path: Path, inp: Path, train_out: Path, test_out: Path, metrics: Path,
    more: dict[str, Path] | None = None, source: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`more`: part name -> path, for the parts beside train and test."""
    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    outs = {"train": Path(train_out), "test": Path(test_out), **{k: Path(v) for k, v in (more or {}).items()}}
    rows = t.read_rows(Path(inp))
    parts, figures = t.split_rows(rows, recipe, str(inp), source)
    if set(parts) != set(outs):
        made, given = ", ".join(sorted(parts)), ", ".join(sorted(outs))
        raise SLMBenchError(f"{inp}: the {t.TITLE} split rule makes the parts {made}, but the stage was given {given}; expected --part NAME=PATH for each part beyond train and test")
    if not parts["train"] or not parts["test"]:
        raise SLMBenchError(f"{inp}: the {t.TITLE} split rule gives {len(parts['train'])} train and {len(parts['test'])} test rows; expected both non-empty")
    for part, path in outs.items():
        t.write_rows(path, parts[part])
    out = {**figures, "test_sha256": hashlib.sha256(outs["test"].read_bytes()).hexdigest()}
    write_json(Path(metrics), out)
    return out
