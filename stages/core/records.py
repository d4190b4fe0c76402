"""EdgeJSON rows: read JSONL with line-numbered errors, write atomically with sorted keys.

A row has `id`, `schema_id`, `prompt` and `expected_output`; pipeline rows also carry
`complexity`, `source`, `surface` and `version` (external files may lack these).

A line nested deeper than MAX_NESTING levels is refused like a broken line: no EdgeJSON answer
nests anywhere near that, and deeper data can exhaust Python's stack in the checks and scorers.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from stages.core.errors import SLMBenchError

REQUIRED_FIELDS = ("id", "schema_id", "prompt", "expected_output")
# Levels of objects and arrays in one line, the row object itself counted (EdgeJSON's deepest schema nests 5 levels).
MAX_NESTING = 100
ROW_FIELDS = ("id", "schema_id", "complexity", "prompt", "expected_output", "source", "surface", "version")


def dumps_row(row: dict[str, Any]) -> str:
    """One JSONL line: sorted keys, compact, UTF-8 kept as is, so output is byte-stable."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def read_rows(path: Path, required: tuple[str, ...] = REQUIRED_FIELDS) -> list[dict[str, Any]]:
    """All rows of a JSONL file. A broken line, a non-object or a missing field is a one-line error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SLMBenchError(f"{path}: is a directory; expected a JSONL file, one JSON object per line") from None
    except UnicodeDecodeError as exc:
        raise SLMBenchError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SLMBenchError(f"{path}: cannot be read ({exc.strerror or exc}); expected a readable JSONL file") from None
    rows = []
    for lineno, row in jsonl_objects(text, str(path)):
        missing = [k for k in required if k not in row]
        if missing:
            raise SLMBenchError(f"{path}:{lineno}: row lacks required field(s) {', '.join(missing)}")
        rows.append(row)
    if not rows:
        raise SLMBenchError(f"{path}: empty file; expected EdgeJSON rows, one JSON object per line")
    return rows


def jsonl_objects(text: str, where: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line of JSONL `text`; `where` names the source in
    the one-line error a broken line, a line nested too deeply or a non-object gets."""
    # Split on "\n" only: str.splitlines() also breaks on U+2028, U+0085 and friends, which
    # dumps_row (ensure_ascii=False) writes raw inside strings. A trailing "\r" is JSON whitespace.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SLMBenchError(f"{where}:{lineno}: broken JSONL line ({exc.msg} at column {exc.colno}); expected one JSON object per line") from None
        except RecursionError:  # the C parser gives up at Python's recursion limit (about 1000 levels)
            raise SLMBenchError(f"{where}:{lineno}: JSON nested too deeply to read; expected at most {MAX_NESTING} levels") from None
        if (depth := nesting(row)) > MAX_NESTING:
            raise SLMBenchError(f"{where}:{lineno}: JSON nested {depth} levels deep; expected at most {MAX_NESTING}")
        if not isinstance(row, dict):
            raise SLMBenchError(f"{where}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield lineno, row


def nesting(value: Any) -> int:
    """Levels of objects and arrays in a parsed JSON value (a scalar is 0), walked without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, dict):
            children: Iterable[Any] = obj.values()
        elif isinstance(obj, list):
            children = obj
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


@contextmanager
def atomic_open(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temp file in the same folder, then rename: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A SIGKILLed writer cannot clean up after itself; its leftovers go before the next write.
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Build a folder at `<path>.tmp`, then swap it in for `path`; a killed run leaves the old folder."""
    path = Path(path)
    staging = path.with_name(path.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
    staging.rename(path)


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(dumps_row(row) + "\n")
            n += 1
    return n


def write_json(path: Path, obj: Any) -> None:
    """A small JSON file (metrics), sorted keys, trailing newline, written atomically."""
    with atomic_open(path) as fh:
        fh.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
