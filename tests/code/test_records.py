"""records: atomic writes, byte-stable rows, and one-line errors for what cannot be read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stages.core.errors import SLMBenchError
from stages.core.records import MAX_NESTING, atomic_open, dumps_row, nesting, read_rows, write_rows


def test_atomic_open_keeps_the_old_file_when_a_write_fails(tmp_path: Path):
    path = tmp_path / "data.jsonl"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="mid-write"):
        with atomic_open(path) as fh:
            fh.write("new, half written")
            raise RuntimeError("mid-write")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_atomic_open_replaces_the_file_on_success(tmp_path: Path):
    path = tmp_path / "sub" / "data.jsonl"
    with atomic_open(path) as fh:
        fh.write("new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["data.jsonl"]


def test_rows_round_trip_with_sorted_keys_and_unicode(tmp_path: Path):
    row = {"prompt": "Zoë paid 5 €", "id": "r1", "schema_id": "s", "expected_output": {"b": 1, "a": [2]}}
    assert dumps_row(row) == '{"expected_output": {"a": [2], "b": 1}, "id": "r1", "prompt": "Zoë paid 5 €", "schema_id": "s"}'
    path = tmp_path / "rows.jsonl"
    assert write_rows(path, [row, row]) == 2
    assert read_rows(path) == [row, row]


def test_rows_with_unicode_line_separators_round_trip(tmp_path: Path):
    # dumps_row keeps U+2028 / U+0085 raw; reading must split on "\n" only, not str.splitlines().
    row = {"id": "r1", "schema_id": "s", "prompt": "first\u2028second\x85third\x1cfourth", "expected_output": {"note": "a\u2029b"}}
    path = tmp_path / "rows.jsonl"
    write_rows(path, [row, {**row, "id": "r2"}])
    assert [r["id"] for r in read_rows(path)] == ["r1", "r2"]
    assert read_rows(path)[0] == row


def test_crlf_line_endings_are_read(tmp_path: Path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"id": "r1", "schema_id": "s", "prompt": "p", "expected_output": {}}\r\n\r\n')
    assert read_rows(path) == [{"id": "r1", "schema_id": "s", "prompt": "p", "expected_output": {}}]


GOOD_LINE = '{"id": "r1", "schema_id": "s", "prompt": "p", "expected_output": {"a": [1, {"b": 2}]}}\n'


def _deep_line(levels: int) -> str:
    return '{"id": "r2", "schema_id": "s", "prompt": "p", "expected_output": ' + "[" * levels + "]" * levels + "}\n"


def test_a_line_nested_100000_levels_is_a_one_line_error(tmp_path: Path):
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD_LINE + _deep_line(100_000), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=rf"^{re.escape(str(path))}:2: JSON nested too deeply to read; expected at most {MAX_NESTING} levels$"):
        read_rows(path)


def test_a_line_nested_past_the_limit_but_parseable_is_refused_too(tmp_path: Path):
    # 150 levels parse, but the checks and scorers walk answers recursively: refused by depth.
    path = tmp_path / "deep.jsonl"
    path.write_text(GOOD_LINE + _deep_line(150), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=rf"^{re.escape(str(path))}:2: JSON nested 151 levels deep; expected at most {MAX_NESTING}$"):
        read_rows(path)
    path.write_text(GOOD_LINE + _deep_line(MAX_NESTING - 1), encoding="utf-8")
    assert len(read_rows(path)) == 2  # the row object and 99 levels of arrays: exactly the limit


def test_nesting_counts_objects_and_arrays():
    assert nesting(1) == 0 and nesting([]) == 1 and nesting({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(10_000):  # no recursion: deeper than Python's stack allows
        deep = [deep]
    assert nesting(deep) == 10_001


def test_a_directory_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(SLMBenchError, match=rf"^{re.escape(str(tmp_path))}: is a directory; expected a JSONL file"):
        read_rows(tmp_path)
