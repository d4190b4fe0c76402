"""EdgeIntent's gate (its `gate` part, run by the generic validate stage, stages/pipeline/validate.py):
Python checks and Great Expectations over real rows.

1. Row checks (stages/tasks/intent/checks.py): the label is in the label set, the text is not
   empty and has min_chars..max_chars characters. A failing row goes to quarantine with the
   checks it failed.
2. Duplicates, over the rows that pass: one row per (normalised text, label) stays, later copies
   go to quarantine as `duplicate_exact` or `duplicate_normalised`. The check spans the whole
   dataset, not each source list: the imported lists are the split's sources (CLINC150's train
   and oos_train feed train, val and oos_val feed test; BANKING77's train.csv is split later by
   stages/tasks/intent/split.py), so "no copy within a split source, none across train and test"
   is "no copy in the dataset". The copy kept is a test-side one when there is one, so that the
   published evaluation lists stay whole and the training copy goes; otherwise the first in file
   order.
3. Conflicts, the same normalised text under two or more labels, are counted in quality.json with
   examples. With `drop_conflicts` every row of such a text is quarantined (`label_conflict`):
   neither label can be trusted. Without it each label keeps one copy; the split's leak check
   then keeps a text out of train when test holds it.
4. GX judges three tables, each expectation named in its meta (run by stages/data/gx.py's gx_gate):
   - `input`, every row read: labels in the set and ids unique, strictly (a foreign label means a
     wrong label file, not a noisy row); text non-empty, text length, and unique
     (normalised text, label) each on at least mostly = 1 - max_reject_rate of the rows, the share
     the recipe lets the gate quarantine (GX counts every copy of a repeated pair).
   - `accepted`, the rows kept, strictly: labels in the set, every label present, text non-empty
     and within bounds, unique ids, unique (normalised text, label), and unique normalised text
     when conflicts are dropped.
   - `classes`, one row per label of the set (zeros included) with its accepted rows: each has at
     least min_per_class.
5. The stage writes quarantine.jsonl and quality.json either way. When the gate fails it leaves
   no validated.jsonl behind and raises SLMBenchError with the failed expectations in one line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import IntentRecipe
from stages.core.params import intent_recipe as recipe  # noqa: F401 (the stage's parts: recipe(p, name))
from stages.core.records import write_rows  # noqa: F401 (the stage's parts: the row writer)
from stages.core.rowgate import GateResult, RunGX, Table
from stages.core.rowgate import named as _named
from stages.tasks.intent.checks import ROW_CHECKS, SET_CHECKS, conflict_report, conflicts, normalise_text, row_failures, set_failures
from stages.tasks.intent.rows import TEST, Row, read_intent_jsonl, read_labels, side_of

NAME, TITLE = "intent", "EdgeIntent"  # the generic validate stage's parts (stages/tasks/registry.py), with gate below
INPUT, ACCEPTED, CLASSES = "input", "accepted", "classes"
# Labels named in the gate's message when classes fall below min_per_class.
NAMED_CLASSES = 5


def check_params(min_chars: int, max_chars: int, min_per_class: int, max_reject_rate: float) -> None:
    """The recipe's bounds make sense, else one line naming the parameter."""
    if min_chars < 1:
        raise SLMBenchError(f"intent validate: min_chars is {min_chars}; expected 1 or more (an empty query is never a row)")
    if max_chars < min_chars:
        raise SLMBenchError(f"intent validate: max_chars {max_chars} is below min_chars {min_chars}; expected max_chars >= min_chars")
    if min_per_class < 1:
        raise SLMBenchError(f"intent validate: min_per_class is {min_per_class}; expected 1 or more")
    if not 0.0 <= max_reject_rate < 1.0:
        raise SLMBenchError(f"intent validate: max_reject_rate is {max_reject_rate}; expected 0 <= rate < 1")


def run(
    name: str,
    kind: str,
    rows: list[Row],
    labels: list[str],
    *,
    min_chars: int,
    max_chars: int,
    min_per_class: int,
    drop_conflicts: bool,
    max_reject_rate: float,
    where: str,
    run_gx: RunGX,
) -> GateResult:
    """The gate over one imported dataset (`kind`: its format, for which lists are test-side; `where`: its file, for errors;
    `run_gx`: the GX runner, stages/data/gx.py's gx_gate)."""
    check_params(min_chars, max_chars, min_per_class, max_reject_rate)
    label_set = set(labels)
    row_fails = [row_failures(r, label_set, min_chars, max_chars) for r in rows]
    passing = [r for r, f in zip(rows, row_fails, strict=True) if not f]
    test_side = [side_of(r, kind, where) == TEST for r in passing]
    found = conflicts(passing)
    set_fails = iter(set_failures(passing, lambda i: not test_side[i], drop_conflicts))
    accepted: list[Row] = []
    quarantine: list[dict[str, Any]] = []
    by_check: Counter[str] = Counter()
    for row, fails in zip(rows, row_fails, strict=True):
        if not fails:
            fails = next(set_fails)
        if fails:
            quarantine.append({**row, "failed_checks": dict(sorted(fails.items()))})
            by_check.update(fails.keys())
        else:
            accepted.append(row)
    per_class = Counter(r["label"] for r in accepted)
    rows_by_class = {label: per_class.get(label, 0) for label in sorted(label_set)}
    below = [label for label, n in rows_by_class.items() if n < min_per_class]
    quality: dict[str, Any] = {
        "dataset": name,
        "format": kind,
        "rows_in": len(rows),
        "rows_out": len(accepted),
        "rows_quarantined": len(quarantine),
        "failures_by_check": {c: by_check.get(c, 0) for c in ROW_CHECKS + SET_CHECKS},
        "conflicts": conflict_report(found, drop_conflicts),
        "classes": len(label_set),
        "classes_below_min": below,
        "rows_by_class": rows_by_class,
        "rows_by_origin": dict(sorted(Counter(r["origin"] for r in accepted).items())),
        "mostly": mostly(max_reject_rate),
    }
    result = GateResult(accepted, quarantine, quality)
    tables = [
        Table(INPUT, frame(rows), f"intent_{name}_{INPUT}", input_expectations(labels, min_chars, max_chars, max_reject_rate)),
        Table(ACCEPTED, frame(accepted), f"intent_{name}_{ACCEPTED}", accepted_expectations(labels, min_chars, max_chars, drop_conflicts)),
        Table(CLASSES, classes_frame(rows_by_class), f"intent_{name}_{CLASSES}", classes_expectations(min_per_class)),
    ]
    failed, result.expectations = run_gx(f"intent_{name}", tables, source_name=NAME)
    # GX quotes the counts that fell short; name the classes beside them.
    result.failed_expectations = [f + f" (classes: {', '.join(below[:NAMED_CLASSES])})" if f.startswith(f"{CLASSES}.") and below else f for f in failed]
    quality["gate"] = {"passed": result.passed, "expectations": result.expectations, "failed_expectations": list(result.failed_expectations)}
    return result


def mostly(max_reject_rate: float) -> float:
    """The share of input rows that must pass each quarantinable check."""
    return round(1.0 - max_reject_rate, 6)


def frame(rows: list[Row]) -> Any:
    """Rows as GX reads them, with the normalised text the duplicate expectations compare."""
    import pandas as pd

    return pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "label": [r["label"] for r in rows],
            "text": [r["text"] for r in rows],
            "text_norm": [normalise_text(r["text"]) for r in rows],
        }
    )


def classes_frame(rows_by_class: dict[str, int]) -> Any:
    """One row per label of the set: its accepted rows."""
    import pandas as pd

    return pd.DataFrame({"label": list(rows_by_class), "rows": list(rows_by_class.values())})


def input_expectations(labels: list[str], min_chars: int, max_chars: int, max_reject_rate: float) -> list[Any]:
    """Over every row read: labels and ids strictly; the quarantinable checks with the recipe's tolerance."""
    import great_expectations as gx

    E = gx.expectations
    tolerance = mostly(max_reject_rate)
    return [
        E.ExpectColumnValuesToBeInSet(column="label", value_set=sorted(labels), **_named(f"{INPUT}.label_in_set", "every label is in the label set")),
        E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{INPUT}.unique_id", "every row has its own id")),
        E.ExpectColumnValuesToMatchRegex(column="text", regex=r"\S", mostly=tolerance, **_named(f"{INPUT}.text_nonempty", "the text is not empty")),
        E.ExpectColumnValueLengthsToBeBetween(
            column="text", min_value=min_chars, max_value=max_chars, mostly=tolerance,
            **_named(f"{INPUT}.text_length", f"the text has {min_chars}..{max_chars} characters"),
        ),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=["text_norm", "label"], mostly=tolerance,
            **_named(f"{INPUT}.unique_text", "no query repeats under the same label (after normalisation)"),
        ),
    ]


def accepted_expectations(labels: list[str], min_chars: int, max_chars: int, drop_conflicts: bool) -> list[Any]:
    """Over the rows kept, strictly."""
    import great_expectations as gx

    E = gx.expectations
    s = [
        E.ExpectColumnValuesToBeInSet(column="label", value_set=sorted(labels), **_named(f"{ACCEPTED}.label_in_set", "every label is in the label set")),
        E.ExpectColumnDistinctValuesToContainSet(column="label", value_set=sorted(labels), **_named(f"{ACCEPTED}.coverage_labels", "every label is present")),
        E.ExpectColumnValuesToMatchRegex(column="text", regex=r"\S", **_named(f"{ACCEPTED}.text_nonempty", "the text is not empty")),
        E.ExpectColumnValueLengthsToBeBetween(
            column="text", min_value=min_chars, max_value=max_chars,
            **_named(f"{ACCEPTED}.text_length", f"the text has {min_chars}..{max_chars} characters"),
        ),
        E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{ACCEPTED}.unique_id", "every row has its own id")),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=["text_norm", "label"], **_named(f"{ACCEPTED}.unique_text", "no query repeats under the same label (after normalisation)")
        ),
    ]
    if drop_conflicts:
        s.append(E.ExpectColumnValuesToBeUnique(column="text_norm", **_named(f"{ACCEPTED}.no_conflicts", "no query carries two labels (after normalisation)")))
    return s


def classes_expectations(min_per_class: int) -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="rows", min_value=min_per_class, **_named(f"{CLASSES}.min_per_class", f"every label has at least {min_per_class} accepted rows")
        )
    ]


def gate(name: str, r: IntentRecipe, inp: Path, labels: Path | None, run_gx: RunGX) -> GateResult:
    """The `gate` part: dataset `name`'s imported rows `inp` against the label set `labels` (the
    stage's --constraint, the import's labels.json), with the bounds of its recipe `r`."""
    check_params(r.min_chars, r.max_chars, r.min_per_class, r.max_reject_rate)
    if labels is None:
        raise SLMBenchError(f"--constraint: the EdgeIntent gate checks {inp}'s labels against its label set; give the dataset's labels.json")
    rows = read_intent_jsonl(inp, allow_empty_text=True)  # empty texts are the gate's to quarantine
    return run(
        name, r.format, rows, read_labels(labels), min_chars=r.min_chars, max_chars=r.max_chars, min_per_class=r.min_per_class,
        drop_conflicts=r.drop_conflicts, max_reject_rate=r.max_reject_rate, where=str(inp), run_gx=run_gx,
    )  # fmt: skip
