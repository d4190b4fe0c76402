"""EdgeFuncCall's split rule (its `split_rows` part, run by the generic split stage,
stages/pipeline/split.py): validated rows to train.jsonl and test.jsonl by their `split` field.

The split was drawn when the rows were generated, per template rather than per row
(stages/tasks/funccall/generate.py), and the gate has quarantined any train row whose normalised
request is also a test row's. This stage re-checks that: a leak found here is a one-line
SLMBenchError naming the rows (the gate was bypassed or its input edited), and no train or test
file is written. Rows keep their file order (id order) and their key order (arguments in
canonical order). split.json holds the rows per split, kind and domain, the rows calling each tool per
split, and (from the stage) `test_sha256`, the SHA-256 of test.jsonl's bytes, which names the test set.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import FuncCallData
from stages.core.params import funccall_data as recipe  # noqa: F401 (the stage's parts: recipe(p, name))
from stages.tasks.funccall.checks import KINDS, SPLITS, leaks
from stages.tasks.funccall.rows import read_call_rows as read_rows  # noqa: F401 (the stage's parts: the row reader)
from stages.tasks.funccall.rows import write_call_rows as write_rows  # noqa: F401 (the stage's parts: the row writer)

NAME, TITLE = "funccall", "EdgeFuncCall"  # the generic split stage's parts (stages/tasks/registry.py), with split_rows below
LEAK_EXAMPLES = 3  # (train id, test id) pairs quoted when a leak stops the split


def run(rows: list[dict[str, Any]], where: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(train, test, split.json without the test hash); `where` names the input in errors."""
    bad = [(i, r.get("split")) for i, r in enumerate(rows) if r.get("split") not in SPLITS]
    if bad:
        i, value = bad[0]
        raise SLMBenchError(f"{where}: row {rows[i].get('id')!r} has split {value!r}; expected train or test (and {len(bad) - 1} more row(s))")
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    if not train or not test:
        raise SLMBenchError(f"{where}: {len(train)} train and {len(test)} test rows; expected both splits non-empty")
    found = leaks(train, test)
    if found:
        pairs = ", ".join(f"{a} ~ {b}" for a, b in found[:LEAK_EXAMPLES])
        raise SLMBenchError(f"{where}: {len(found)} train row(s) repeat a test request (normalised): {pairs}; expected none (run the gate first)")
    stats: dict[str, Any] = {"rows": len(rows), "leaked_rows": 0}
    for name, part in (("train", train), ("test", test)):
        calls = Counter(name for r in part for name in dict.fromkeys(c["name"] for c in r["calls"]))
        stats[name] = {
            "rows": len(part),
            "rows_by_kind": {k: sum(1 for r in part if r.get("kind") == k) for k in KINDS},
            "rows_by_domain": dict(sorted(Counter(str(r.get("domain")) for r in part).items())),
            "rows_by_tool": dict(sorted(calls.items())),
        }
    return train, test, stats


def split_rows(rows: list[dict[str, Any]], r: FuncCallData, where: str, source: Path | None = None) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The `split_rows` part: the split drawn at generation, re-checked (the recipe sets nothing here)."""
    train, test, figures = run(rows, where)
    return {"train": train, "test": test}, figures
