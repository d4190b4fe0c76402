"""records: atomic writes and byte-stable rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from stages.records import atomic_open, dumps_row, read_rows, write_rows


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
