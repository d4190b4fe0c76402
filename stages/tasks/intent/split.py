"""EdgeIntent's split rule (its `split_rows` part, run by the generic split stage, stages/pipeline/split.py):
train and test sets, with a leak check.

Which rows go where is set by each row's origin (stages/tasks/intent/rows.py, SIDES):

- `banking77`, one pool (`train.csv`): a seeded split stratified by label. Within each label the
  rows, ordered by id, are shuffled with `Random(f"{seed}:{label}")` and the first
  round(n * test_fraction) go to test (at least one, and at least one left for train, when the
  label has two rows or more); the rest is train.
- `clinc150`, fixed by source: train is `train` plus `oos_train` when `include_oos_train`, test is
  `val` plus `oos_val`. `seed` and `test_fraction` are not used. oos_train rows left out are
  counted as `unused_rows`.

Leak check: a normalised text (stages/tasks/intent/checks.py) in both train and test is a leak,
and its train copy is dropped, not moved, and counted in `leaked_rows_removed`: the test set stays
as drawn (or as published), and moving a copy would add to test a query whose label the data
disputes. The gate has already removed duplicates, so what can leak is a conflict the recipe kept
(the same text under two labels).

Both files are sorted by id. split.json: rows per split and per label, the leaks removed (with a
few examples) and, from the stage, `test_sha256`, the SHA-256 of test.jsonl's bytes, which names
the test set.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import IntentRecipe
from stages.core.params import intent_recipe as recipe  # noqa: F401 (the stage's parts: recipe(p, name))
from stages.core.records import write_rows  # noqa: F401 (the stage's parts: the row writer)
from stages.tasks.intent.checks import normalise_text
from stages.tasks.intent.rows import POOL, TEST, TRAIN, Row, side_of
from stages.tasks.intent.rows import read_intent_jsonl as read_rows  # noqa: F401 (the stage's parts: the row reader)

NAME, TITLE = "intent", "EdgeIntent"  # the generic split stage's parts (stages/tasks/registry.py), with split_rows below
# Leaked (train id, test id) pairs quoted in split.json.
LEAK_EXAMPLES = 5


def stratified(rows: list[Row], test_fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    """(train, test) of a pool of rows: per label, a seeded shuffle and the first round(n * test_fraction) to test."""
    if not 0.0 < test_fraction < 1.0:
        raise SLMBenchError(f"intent split: test_fraction is {test_fraction}; expected 0 < fraction < 1")
    by_label: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_label[row["label"]].append(row)
    train: list[Row] = []
    test: list[Row] = []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda r: r["id"])
        random.Random(f"{seed}:{label}").shuffle(group)
        n_test = round(len(group) * test_fraction)
        if len(group) >= 2:
            n_test = min(max(n_test, 1), len(group) - 1)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    return train, test


def run(
    rows: list[Row], kind: str, *, seed: int, test_fraction: float, include_oos_train: bool, where: str
) -> tuple[list[Row], list[Row], dict[str, Any]]:
    """(train, test, split.json without the test hash) of one validated dataset of format `kind`; `where` names its file in errors."""
    sides: dict[str, list[Row]] = {TRAIN: [], TEST: [], POOL: []}
    unused: list[Row] = []
    for row in rows:
        side = side_of(row, kind, where)
        if side == TRAIN and row["origin"].startswith("oos_") and not include_oos_train:
            unused.append(row)
        else:
            sides[side].append(row)
    train, test = sides[TRAIN], sides[TEST]
    if sides[POOL]:
        pool_train, pool_test = stratified(sides[POOL], test_fraction, seed)
        train, test = train + pool_train, test + pool_test
    test_norm = {normalise_text(r["text"]): r["id"] for r in sorted(test, key=lambda r: r["id"])}
    leaks = [(r["id"], test_norm[n]) for r in train if (n := normalise_text(r["text"])) in test_norm]
    leaked = {train_id for train_id, _ in leaks}
    train = sorted((r for r in train if r["id"] not in leaked), key=lambda r: r["id"])
    test = sorted(test, key=lambda r: r["id"])
    if not train or not test:
        raise SLMBenchError(f"{where}: {kind} split gives {len(train)} train and {len(test)} test rows; expected both non-empty")
    n_train, n_test = Counter(r["label"] for r in train), Counter(r["label"] for r in test)
    labels = sorted(set(n_train) | set(n_test))
    metrics: dict[str, Any] = {
        "format": kind,
        "train_rows": len(train),
        "test_rows": len(test),
        "unused_rows": len(unused),
        "test_fraction": round(len(test) / (len(train) + len(test)), 6),
        "classes": len(labels),
        "train_classes": len(n_train),
        "test_classes": len(n_test),
        "leaked_rows_removed": len(leaked),
        "leak_examples": [{"train": a, "test": b} for a, b in sorted(leaks)[:LEAK_EXAMPLES]],
        "rows_by_class": {label: {"train": n_train.get(label, 0), "test": n_test.get(label, 0)} for label in labels},
        "rows_by_origin": {
            "train": dict(sorted(Counter(r["origin"] for r in train).items())),
            "test": dict(sorted(Counter(r["origin"] for r in test).items())),
        },
    }
    return train, test, metrics


def split_rows(rows: list[Row], r: IntentRecipe, where: str, source: Path | None = None) -> tuple[dict[str, list[Row]], dict[str, Any]]:
    """The `split_rows` part: train and test, and split.json's figures, with the recipe's seed, test share and oos_train."""
    train, test, figures = run(rows, r.format, seed=r.seed, test_fraction=r.test_fraction, include_oos_train=r.include_oos_train, where=where)
    return {"train": train, "test": test}, figures
