"""`slmbench intent-import --name banking77 --source data/sources/banking77 --format banking77 ...`: one real dataset to EdgeIntent rows.

Reads a source folder as its authors released it and writes our JSONL rows (stages/tasks/intent/rows.py)
and the sorted label list:

- `banking77`: every row of `train.csv` (origin `train.csv`); the labels are `categories.json`.
- `clinc150`: the `train`, `val`, `oos_train` and `oos_val` lists of `data_train_val.json` (or of
  clinc/oos-eval's `data_full.json`), each row keeping its list as origin; the labels are the
  intents of `domains.json` plus `oos`.

Without the label file the labels are those the rows carry. A row whose label is not in the label
file stops the import with one line naming it. Rows keep source order, so the same folder gives
byte-identical files; both are written atomically.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json, write_rows
from stages.tasks.intent.rows import CLINC150_LISTS, OOS, Row, check_labels, read_banking77_csv, read_clinc150_json, read_labels, read_text

# Per dataset kind: the data files it may be released as (the first present is read) and its label file.
SOURCE_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "banking77": (("train.csv",), "categories.json"),
    "clinc150": (("data_train_val.json", "data_full.json"), "domains.json"),
}


def _clinc150_labels(path: Path) -> list[str]:
    """The intents of CLINC150's domains.json (domain -> list of intents), plus OOS."""
    expected = "a JSON object of domain -> list of intent names (CLINC150 domains.json)"
    try:
        data = json.loads(read_text(path, expected))
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: broken JSON ({exc.msg} at column {exc.colno}); expected {expected}") from None
    if not isinstance(data, dict):
        raise SLMBenchError(f"{path}: top level is a JSON {type(data).__name__}; expected {expected}")
    labels = {OOS}
    for domain, intents in data.items():
        if not (isinstance(intents, list) and all(isinstance(i, str) and i.strip() for i in intents)):
            raise SLMBenchError(f"{path}: `{domain}`: expected a list of intent names")
        labels.update(intents)
    return sorted(labels)


def load(name: str, source_dir: Path, kind: str) -> tuple[list[Row], list[str]]:
    """(rows in source order, sorted labels) of one source folder; `name` is the rows' dataset and id prefix."""
    if kind not in SOURCE_FILES:
        raise SLMBenchError(f"intent import {name}: unknown format {kind!r}; expected one of {', '.join(SOURCE_FILES)}")
    source_dir = Path(source_dir)
    names, label_name = SOURCE_FILES[kind]
    data = next((source_dir / n for n in names if (source_dir / n).is_file()), None)
    if data is None:
        raise SLMBenchError(f"{source_dir}: no {' or '.join(names)}; expected a {kind} source folder")
    rows = read_banking77_csv(data, name) if kind == "banking77" else read_clinc150_json(data, CLINC150_LISTS, name)
    label_file = source_dir / label_name
    if not label_file.is_file():
        return rows, sorted({r["label"] for r in rows})
    labels = sorted(read_labels(label_file)) if kind == "banking77" else _clinc150_labels(label_file)
    check_labels(rows, labels, f"{data} (labels from {label_file})")
    return rows, labels


def run(name: str, source_dir: Path, kind: str, out_rows: Path, out_labels: Path) -> dict[str, Any]:
    """Import one dataset: rows to `out_rows` (JSONL), sorted labels to `out_labels` (JSON). Returns counts."""
    rows, labels = load(name, source_dir, kind)
    write_rows(out_rows, rows)
    write_json(out_labels, labels)
    return {"rows": len(rows), "labels": len(labels), "rows_by_origin": dict(sorted(Counter(r["origin"] for r in rows).items()))}


def main(name: str, params_path: Path, source: Path, out_rows: Path, out_labels: Path) -> dict[str, Any]:
    """The import stage: `intent.datasets.<name>` names the source's format."""
    from stages.core import params as P

    recipe = P.intent_recipe(P.load(params_path), name)
    return run(name, source, recipe.format, out_rows, out_labels)
