"""EdgeIntent rows: the row format, and readers for BANKING77's CSV, CLINC150's JSON and our JSONL.

A row is five strings, `{"id", "text", "label", "dataset", "origin"}`:

- `id`: `<dataset>-<source>-<position>`, e.g. `banking77-train-000123`, where `source` is the CSV
  file's stem or the CLINC150 list's name and `position` counts the source's rows from 0 in file
  order. The same file always gives the same ids.
- `label`: the intent; out-of-scope queries carry OOS (`oos`, CLINC150's own label).
- `origin`: the source list the row came from: the CSV's file name (`train.csv`) or a CLINC150 list
  (`train`, `val`, `oos_train`, `oos_val`, `test`, `oos_test`). The split reads it (SIDES).

Formats (FORMATS), told apart by suffix, else by content (read_intent_file):

- `banking77`: CSV with a header holding `text` and `category` columns (other columns ignored).
- `clinc150`: clinc/oos-eval's data_full.json layout, a JSON object of lists of `[text, label]`
  pairs under split names. Scoring reads `test` + `oos_test` when `test` is present, else
  `val` + `oos_val`.
- `jsonl`: our rows, one JSON object per line, every field of FIELDS a string; other keys are
  dropped, ids must be unique.

Bad input is one line (SLMBenchError) naming the file, the line or key, and what was expected.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import jsonl_objects

Row = dict[str, str]

OOS = "oos"  # the out-of-scope label (CLINC150's `oos_*` lists carry it)
FIELDS = ("id", "text", "label", "dataset", "origin")
FORMATS = ("banking77", "clinc150", "jsonl")
BANKING77_COLUMNS = ("text", "category")
# The CLINC150 lists the import keeps, in the order rows are written.
CLINC150_LISTS = ("train", "val", "oos_train", "oos_val")
# The lists a CLINC150 file is scored on: the first pair whose in-scope list is present.
CLINC150_SCORING = (("test", "oos_test"), ("val", "oos_val"))

# Which side of the split each origin feeds, per dataset kind: TRAIN and TEST are fixed by the
# source; POOL rows are split by the seeded, stratified split (stages/tasks/intent/split.py).
TRAIN, TEST, POOL = "train", "test", "pool"
SIDES: dict[str, dict[str, str]] = {
    "banking77": {"train.csv": POOL},
    "clinc150": {"train": TRAIN, "val": TEST, "oos_train": TRAIN, "oos_val": TEST},
}
# Characters of a bad value quoted in an error message.
QUOTE_CHARS = 60


def side_of(row: Row, kind: str, where: str) -> str:
    """TRAIN, TEST or POOL for a row of dataset kind `kind`; an unknown origin is a one-line error."""
    sides = SIDES.get(kind)
    if sides is None:
        raise SLMBenchError(f"{where}: unknown dataset format {kind!r}; expected one of {', '.join(sorted(SIDES))}")
    side = sides.get(row["origin"])
    if side is None:
        raise SLMBenchError(f"{where}: row {row['id']}: origin {row['origin']!r} is not a {kind} source; expected one of {', '.join(sides)}")
    return side


def make_id(dataset: str, source: str, position: int) -> str:
    """`banking77-train-000123`: deterministic by the row's position (from 0) in its source."""
    return f"{dataset}-{source}-{position:06d}"


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 3] + "..."


def read_text(path: Path, expected: str) -> str:
    """A file's text, decoded as UTF-8 (a leading byte-order mark dropped); `expected` names what it should hold."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found; expected {expected}") from None
    except IsADirectoryError:
        raise SLMBenchError(f"{path}: is a directory; expected {expected}") from None
    except OSError as exc:
        raise SLMBenchError(f"{path}: cannot be read ({exc.strerror or exc}); expected {expected}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SLMBenchError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected {expected}") from None


CSV_EXPECTED = "a UTF-8 CSV with a `text,category` header (BANKING77 layout)"
CLINC_EXPECTED = "a UTF-8 JSON object of [text, label] lists under split names (CLINC150 data_full.json layout)"
JSONL_EXPECTED = f"UTF-8 JSONL, one EdgeIntent row per line with {', '.join(FIELDS)}"


def read_banking77_csv(path: Path, dataset: str = "banking77") -> list[Row]:
    """Rows of a BANKING77-style CSV (`text,category` header); origin is the file name, ids `<dataset>-<stem>-<n>`."""
    path = Path(path)
    return _parse_csv(read_text(path, CSV_EXPECTED), path, dataset)


def _parse_csv(text: str, path: Path, dataset: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise SLMBenchError(f"{path}: empty file; expected {CSV_EXPECTED}")
        columns = [c.strip() for c in header]
        missing = [c for c in BANKING77_COLUMNS if c not in columns]
        if missing:
            raise SLMBenchError(
                f"{path}:1: CSV header has no {' or '.join(f'`{c}`' for c in missing)} column (it has {', '.join(map(repr, columns))}); expected {CSV_EXPECTED}"
            )
        at_text, at_label = columns.index("text"), columns.index("category")
        rows: list[Row] = []
        start = reader.line_num + 1  # the line a record starts on (a quoted field may span lines)
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields:  # a blank line
                continue
            if len(fields) != len(columns):
                raise SLMBenchError(f"{path}:{line}: {len(fields)} field(s), expected {len(columns)} ({', '.join(columns)})")
            query, label = fields[at_text], fields[at_label].strip()
            if not query.strip():
                raise SLMBenchError(f"{path}:{line}: empty text; expected a query in the `text` column")
            if not label:
                raise SLMBenchError(f"{path}:{line}: empty category; expected an intent label in the `category` column")
            rows.append({"id": make_id(dataset, path.stem, len(rows)), "text": query, "label": label, "dataset": dataset, "origin": path.name})
    except csv.Error as exc:
        raise SLMBenchError(f"{path}:{reader.line_num}: broken CSV ({exc}); expected {CSV_EXPECTED}") from None
    if not rows:
        raise SLMBenchError(f"{path}: no rows under the header; expected {CSV_EXPECTED}")
    return rows


def _load_json_object(text: str, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: broken JSON ({exc.msg} at column {exc.colno}); expected {CLINC_EXPECTED}") from None
    except RecursionError:
        raise SLMBenchError(f"{path}: JSON nested too deeply to read; expected {CLINC_EXPECTED}") from None
    if not isinstance(data, dict):
        raise SLMBenchError(f"{path}: top level is a JSON {type(data).__name__}; expected {CLINC_EXPECTED}")
    return data


def read_clinc150_json(path: Path, splits: Iterable[str], dataset: str = "clinc150") -> list[Row]:
    """Rows of the named lists of a CLINC150 JSON file, list by list in the order given; each must be present."""
    path = Path(path)
    return _clinc_rows(_load_json_object(read_text(path, CLINC_EXPECTED), path), path, tuple(splits), dataset)


def _clinc_rows(data: dict[str, Any], path: Path, splits: tuple[str, ...], dataset: str) -> list[Row]:
    rows: list[Row] = []
    for split in splits:
        items = data.get(split)
        if not isinstance(items, list):
            found = ", ".join(sorted(k for k, v in data.items() if isinstance(v, list))) or "none"
            got = "no" if items is None else f"a {type(items).__name__} for the"
            raise SLMBenchError(f"{path}: {got} `{split}` list (lists found: {found}); expected {CLINC_EXPECTED} with {', '.join(splits)}")
        for i, item in enumerate(items):
            key = f"{split}[{i}]"
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)):
                raise SLMBenchError(f"{path}: {key}: {_quote(item)}; expected a [text, label] pair of strings")
            query, label = item[0], item[1].strip()
            if not query.strip():
                raise SLMBenchError(f"{path}: {key}: empty text; expected a query")
            if not label:
                raise SLMBenchError(f"{path}: {key}: empty label; expected an intent label")
            rows.append({"id": make_id(dataset, split, i), "text": query, "label": label, "dataset": dataset, "origin": split})
    return rows


def clinc150_scoring_lists(data: dict[str, Any], path: Path) -> tuple[str, ...]:
    """The lists a CLINC150 file is scored on: `test` (+ `oos_test` if present), else `val` (+ `oos_val`)."""
    for in_scope, out_of_scope in CLINC150_SCORING:
        if isinstance(data.get(in_scope), list):
            return (in_scope, out_of_scope) if out_of_scope in data else (in_scope,)
    found = ", ".join(sorted(data)) or "none"
    raise SLMBenchError(f"{path}: no `test` or `val` list (keys: {found}); expected {CLINC_EXPECTED}")


def read_intent_jsonl(path: Path, allow_empty_text: bool = False) -> list[Row]:
    """Our rows from a JSONL file. `allow_empty_text`: let empty texts through (for the gate, which quarantines them)."""
    path = Path(path)
    return _parse_jsonl(read_text(path, JSONL_EXPECTED), path, allow_empty_text)


def _parse_jsonl(text: str, path: Path, allow_empty_text: bool) -> list[Row]:
    rows: list[Row] = []
    line_of: dict[str, int] = {}
    for lineno, obj in jsonl_objects(text, str(path)):
        missing = [k for k in FIELDS if k not in obj]
        if missing:
            raise SLMBenchError(f"{path}:{lineno}: row lacks field(s) {', '.join(missing)}; expected {', '.join(FIELDS)}")
        for key in FIELDS:
            if not isinstance(obj[key], str):
                raise SLMBenchError(f"{path}:{lineno}: `{key}` is {_quote(obj[key])}; expected a string")
            if key != "text" and not obj[key].strip():
                raise SLMBenchError(f"{path}:{lineno}: empty `{key}`; expected a non-empty string")
        if not allow_empty_text and not obj["text"].strip():
            raise SLMBenchError(f"{path}:{lineno}: empty text; expected a query")
        if obj["id"] in line_of:
            raise SLMBenchError(f"{path}:{lineno}: id {obj['id']} already used on line {line_of[obj['id']]}; expected unique ids")
        line_of[obj["id"]] = lineno
        rows.append({k: obj[k] for k in FIELDS})
    if not rows:
        raise SLMBenchError(f"{path}: no rows; expected {JSONL_EXPECTED}")
    return rows


def detect_format(path: Path, text: str) -> str:
    """`banking77`, `clinc150` or `jsonl`: by suffix (.csv, .json, .jsonl), else by the first line's content."""
    suffix = Path(path).suffix.lower()
    by_suffix = {".csv": "banking77", ".json": "clinc150", ".jsonl": "jsonl"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    first = text.lstrip().split("\n", 1)[0]
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return "clinc150"  # an object spread over several lines
        return "jsonl" if isinstance(obj, dict) and isinstance(obj.get("text"), str) else "clinc150"
    if {"text", "category"} <= {c.strip() for c in next(csv.reader([first]), [])}:
        return "banking77"
    raise SLMBenchError(
        f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r} or the first line; expected a .csv with a `text,category` header "
        "(BANKING77), a .json of [text, label] lists (CLINC150) or a .jsonl of EdgeIntent rows"
    )


def read_intent_file(path: Path) -> tuple[list[Row], str]:
    """(rows, format) of a file to score: a BANKING77 CSV, a CLINC150 JSON (its scoring lists) or our JSONL."""
    path = Path(path)
    text = read_text(path, "a .csv (BANKING77), .json (CLINC150) or .jsonl (EdgeIntent rows) file")
    kind = detect_format(path, text)
    if kind == "banking77":
        return _parse_csv(text, path, "banking77"), kind
    if kind == "clinc150":
        data = _load_json_object(text, path)
        return _clinc_rows(data, path, clinc150_scoring_lists(data, path), "clinc150"), kind
    return _parse_jsonl(text, path, allow_empty_text=False), kind


def read_labels(path: Path) -> list[str]:
    """A labels file: a JSON list of distinct, non-empty label strings."""
    path = Path(path)
    expected = "a JSON list of distinct label strings"
    try:
        data = json.loads(read_text(path, expected))
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: broken JSON ({exc.msg} at column {exc.colno}); expected {expected}") from None
    if not isinstance(data, list) or not data:
        raise SLMBenchError(f"{path}: {_quote(data)}; expected {expected}")
    seen: set[str] = set()
    for i, label in enumerate(data):
        if not isinstance(label, str) or not label.strip():
            raise SLMBenchError(f"{path}: [{i}]: {_quote(label)}; expected a non-empty label string")
        if label in seen:
            raise SLMBenchError(f"{path}: [{i}]: label {label!r} listed twice; expected {expected}")
        seen.add(label)
    return list(data)


def check_labels(rows: Iterable[Row], labels: Iterable[str], where: str) -> None:
    """Every row's label is in `labels`; else one line naming the first row outside it (and how many more)."""
    known = set(labels)
    bad = [r for r in rows if r["label"] not in known]
    if bad:
        first = bad[0]
        hint = difflib.get_close_matches(first["label"], sorted(known), n=1)
        more = f" (and {len(bad) - 1} more row(s))" if len(bad) > 1 else ""
        guess = f"; did you mean {hint[0]!r}?" if hint else ""
        raise SLMBenchError(f"{where}: row {first['id']}: label {first['label']!r} is not one of the {len(known)} labels{more}{guess}")


def per_class_subset(rows: list[Row], per_class: int, seed: int, keep_whole: Iterable[str] = ()) -> list[Row]:
    """`per_class` rows of each class (all of a smaller class, and all of each label in `keep_whole`),
    drawn with `seed` from the rows sorted by id, so the source order does not matter; 0: every row.
    The result is shuffled with the same seed, so classes are mixed across micro-batches."""
    rng = random.Random(seed)
    whole = set(keep_whole)
    by_label: dict[str, list[Row]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        by_label[r["label"]].append(r)
    picked: list[Row] = []
    for label in sorted(by_label):  # classes in sorted order: the draws do not depend on the file's order
        group = by_label[label]
        picked += group if per_class <= 0 or label in whole else rng.sample(group, min(per_class, len(group)))
    rng.shuffle(picked)
    return picked


def per_class_share(rows: list[Row], total: int) -> int:
    """Rows per class for about `total` rows in all, the same from each class (at least 1); 0: every row."""
    return 0 if total <= 0 else max(1, total // len({r["label"] for r in rows} or {""}))


def draw(rows: list[Row], total: int, seed: int) -> list[Row]:
    """About `total` rows, the same number from each in-scope class and every out-of-scope row
    (`oos` stands for everything outside the intents, so a class's share of it starves it), drawn
    with `seed` (`per_class_subset`); 0: every row. The MLM's training and scoring rows."""
    share = per_class_share([r for r in rows if r["label"] != OOS], total)
    return per_class_subset(rows, share, seed, keep_whole=[OOS])
