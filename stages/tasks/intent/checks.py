"""EdgeIntent data checks: text normalisation, row checks, duplicates and label conflicts.

normalise_text (stages/core/text.py, shared with EdgeFuncCall) is the one definition of "the same query" for duplicates, conflicts and the split's
leak check: lower case (str.lower), every run of whitespace as one space, and punctuation
(Unicode category P*) and whitespace stripped from both ends. Punctuation inside the text stays
("what's my balance?" and "whats my balance" differ); Unicode forms are not folded.

A conflict is one normalised text carrying two or more labels. Public intent datasets hold a few
(annotators disagreed, or two intents overlap); conflicts() finds and counts them, the gate
reports them and its recipe decides whether they are dropped (stages/tasks/intent/gate.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from stages.core.text import normalise_text
from stages.tasks.intent.rows import Row

# Row-level checks, in report order: a failing row is quarantined.
ROW_CHECKS = ("label_in_set", "text_nonempty", "text_length")
# Set-level checks: a later copy of a query (exact or normalised) and, by recipe, label conflicts.
SET_CHECKS = ("duplicate_exact", "duplicate_normalised", "label_conflict")
# Conflict groups quoted in quality.json.
CONFLICT_EXAMPLES = 5


def length_failure(text: str, min_chars: int, max_chars: int) -> str | None:
    """Why `text` is outside [min_chars, max_chars] characters, or None."""
    if min_chars <= len(text) <= max_chars:
        return None
    return f"text has {len(text)} chars, expected {min_chars}..{max_chars}"


def row_failures(row: Row, labels: set[str], min_chars: int, max_chars: int) -> dict[str, str]:
    """check name -> problem, for the row-level checks (ROW_CHECKS) that `row` fails."""
    fails: dict[str, str] = {}
    if row["label"] not in labels:
        fails["label_in_set"] = f"label {row['label']!r} is not in the label set"
    if not row["text"].strip():
        fails["text_nonempty"] = "empty text"
    if (why := length_failure(row["text"], min_chars, max_chars)) is not None:
        fails["text_length"] = why
    return fails


def groups_by_text(rows: Sequence[Row]) -> dict[str, list[int]]:
    """Normalised text -> the positions of the rows carrying it, in row order."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[normalise_text(row["text"])].append(i)
    return dict(groups)


def conflicts(rows: Sequence[Row]) -> dict[str, dict[str, list[str]]]:
    """The label conflicts: normalised text -> label -> ids of the rows, for each text with 2+ labels."""
    found: dict[str, dict[str, list[str]]] = {}
    for norm, members in sorted(groups_by_text(rows).items()):
        by_label: dict[str, list[str]] = defaultdict(list)
        for i in members:
            by_label[rows[i]["label"]].append(rows[i]["id"])
        if len(by_label) > 1:
            found[norm] = dict(sorted(by_label.items()))
    return found


def conflict_report(found: dict[str, dict[str, list[str]]], dropped: bool) -> dict[str, Any]:
    """What quality.json says about conflicts: groups, rows, whether they were dropped, a few examples."""
    return {
        "groups": len(found),
        "rows": sum(len(ids) for by_label in found.values() for ids in by_label.values()),
        "dropped": dropped,
        "examples": [{"text": norm, "labels": by_label} for norm, by_label in list(found.items())[:CONFLICT_EXAMPLES]],
    }


def set_failures(rows: Sequence[Row], keep_first: Callable[[int], Any], drop_conflicts: bool) -> list[dict[str, str]]:
    """check name -> problem per row for the set-level checks (SET_CHECKS).

    Within each normalised text, rows of one label keep one copy, the one that sorts first by
    `keep_first(position)` (ties by position); the others are `duplicate_exact` (same text as
    the kept row) or `duplicate_normalised`. With `drop_conflicts`, every row of a text carrying
    two or more labels fails `label_conflict` instead; otherwise each label keeps its copy.
    """
    fails: list[dict[str, str]] = [{} for _ in rows]
    for norm, members in groups_by_text(rows).items():
        labels = {rows[i]["label"] for i in members}
        if len(labels) > 1 and drop_conflicts:
            for i in members:
                fails[i]["label_conflict"] = f"normalised text {norm!r} carries {len(labels)} labels: {', '.join(sorted(labels))}"
            continue
        for label in sorted(labels):
            same = sorted((i for i in members if rows[i]["label"] == label), key=lambda i: (keep_first(i), i))
            kept = rows[same[0]]
            for i in same[1:]:
                check = "duplicate_exact" if rows[i]["text"] == kept["text"] else "duplicate_normalised"
                fails[i][check] = f"same query as {kept['id']}"
    return fails
