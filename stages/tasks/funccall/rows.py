"""EdgeFuncCall rows (docs/funccall.md): the format our generated data and converted BFCL files
share, and its reader. Each line of a JSONL file is one object:

- `id`, `source`, `domain`, `kind` ("single", "parallel" or "none"), `surface`, `split`;
- `request`: the user's text;
- `tools`: the functions offered, each `{"name", "description", "parameters"}` (JSON Schema);
- `calls`: one canonical answer, `[{"name", "arguments"}]` (`[]`: no call), the training target;
- `accepted`: BFCL's possible-answer form, `[{"name", "arguments": {param: [accepted values]}}]`,
  where `""` among a parameter's values means it may be left out (`[]`: no call).

`read_call_rows` stops at the first malformed row with one line naming the file, the line and the
key, and what was expected; a row whose accepted call names a tool it does not offer is malformed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_open, jsonl_objects

REQUIRED = ("id", "request", "tools", "calls", "accepted")
TEACHER_SURFACE = "teacher"  # the surface of a row whose request a teacher paraphrased (stages/tasks/funccall/teacher.py)


def check_row(row: dict[str, Any], where: str) -> None:
    """One line for the first thing wrong with a row's shape."""
    for key in REQUIRED:
        if key not in row:
            raise SLMBenchError(f"{where}: missing key {key!r}; expected {', '.join(REQUIRED)}")
    if not isinstance(row["request"], str) or not row["request"].strip():
        raise SLMBenchError(f"{where}: 'request' must be a non-empty string")
    tools = row["tools"]
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("parameters", {}), dict) for t in tools
    ):
        raise SLMBenchError(f"{where}: 'tools' must be a list of objects with a string 'name' and an object 'parameters'")
    names = [t["name"] for t in tools]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SLMBenchError(f"{where}: two tools named {dupes[0]!r}; expected unique names")
    for key in ("calls", "accepted"):
        calls = row[key]
        if not isinstance(calls, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("arguments"), dict) for c in calls
        ):
            raise SLMBenchError(f"{where}: {key!r} must be a list of {{'name': str, 'arguments': object}}")
        for c in calls:
            if c["name"] not in names:
                raise SLMBenchError(f"{where}: {key!r} names the tool {c['name']!r}, which the row does not offer (offered: {', '.join(names) or 'none'})")
    for c in row["accepted"]:
        bad = [p for p, v in c["arguments"].items() if not isinstance(v, list) or not v]
        if bad:
            raise SLMBenchError(f"{where}: accepted values of {c['name']}.{bad[0]} must be a non-empty list")


def read_call_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a JSONL file, each checked by `check_row`; ids must be unique."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SLMBenchError(f"{path}: cannot read it ({exc.__class__.__name__}); expected a UTF-8 JSONL file of function-call rows") from None
    rows, seen = [], set()
    for line, row in jsonl_objects(text, str(path)):
        check_row(row, f"{path}:{line}")
        if row["id"] in seen:
            raise SLMBenchError(f"{path}:{line}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        rows.append(row)
    if not rows:
        raise SLMBenchError(f"{path}: no rows; expected JSONL function-call rows")
    return rows


def first_of_shuffle(rows: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """The first `n` rows of a shuffle of `rows` (in id order) seeded with `seed`, returned in id
    order; every row when n is 0. The same rows and seed pick the same rows."""
    ordered = sorted(rows, key=lambda r: str(r["id"]))
    if 0 < n < len(ordered):
        random.Random(seed).shuffle(ordered)
        ordered = sorted(ordered[:n], key=lambda r: str(r["id"]))
    return ordered


def dumps_call_row(row: dict[str, Any]) -> str:
    """One JSONL line with keys in the order they were built: a call's arguments keep their
    canonical order (records.dumps_row sorts keys, which would lose it). Compact, UTF-8 as is."""
    return json.dumps(row, ensure_ascii=False, separators=(", ", ": "))


def write_call_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Rows to a JSONL file, atomically (records.atomic_open), argument order kept."""
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(dumps_call_row(row) + "\n")
            n += 1
    return n
