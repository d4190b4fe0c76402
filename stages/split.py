"""`slmbench split --version v3 ...`: a seeded split stratified by schema_id, with a leak check.

Within each schema the rows are shuffled with the split seed and the first
round(n * test_fraction) go to test (at least one when a schema has two or more rows).
A prompt that is identical, or identical after normalisation, in both train and test is a
leak and fails the stage.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from stages.checks import normalise_prompt
from stages.errors import SLMBenchError


def run(rows: list[dict[str, Any]], test_fraction: float, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    by_schema: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_schema[str(row["schema_id"])].append(row)
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    per_schema: dict[str, dict[str, int]] = {}
    for sid in sorted(by_schema):
        group = sorted(by_schema[sid], key=lambda r: str(r["id"]))
        random.Random(f"{seed}:{sid}").shuffle(group)
        n_test = round(len(group) * test_fraction)
        if len(group) >= 2:
            n_test = min(max(n_test, 1), len(group) - 1)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
        per_schema[sid] = {"train": len(group) - n_test, "test": n_test}
    train.sort(key=lambda r: str(r["id"]))
    test.sort(key=lambda r: str(r["id"]))
    test_norm = {normalise_prompt(str(r["prompt"])): r["id"] for r in test}
    leaks = [(r["id"], test_norm[n]) for r in train if (n := normalise_prompt(str(r["prompt"]))) in test_norm]
    if leaks:
        a, b = leaks[0]
        raise SLMBenchError(f"split leak: {len(leaks)} train prompt(s) also in test after normalisation, e.g. {a} and {b}")
    metrics = {
        "train_rows": len(train),
        "test_rows": len(test),
        "test_fraction": round(len(test) / max(1, len(rows)), 6),
        "leaks": 0,
        "by_schema": per_schema,
    }
    return train, test, metrics


def main(version: str, params_path: Path, inp: Path, train_out: Path, test_out: Path, metrics_out: Path) -> dict[str, Any]:
    from stages import params as P
    from stages.records import read_rows, write_json, write_rows

    p = P.load(params_path)
    P.recipe(p, version)
    train, test, metrics = run(read_rows(inp), p.split.test_fraction, p.split.seed)
    write_rows(train_out, train)
    write_rows(test_out, test)
    write_json(metrics_out, metrics)
    return metrics
