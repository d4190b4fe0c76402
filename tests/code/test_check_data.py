"""`check-data`: the audit of any EdgeJSON-format file, ours or someone else's."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages import generate
from stages.cli import app
from stages.records import write_rows
from stages.templates import FINANCE_SCHEMAS


@pytest.fixture(scope="module")
def v2_file(real_params, catalog, tmp_path_factory) -> Path:
    recipe = dataclasses.replace(real_params.datasets["v2"], rows_per_schema=4)
    path = tmp_path_factory.mktemp("v2") / "generated.jsonl"
    write_rows(path, generate.run("v2", recipe, catalog, progress=False))
    return path


def test_check_data_fails_v2_on_arithmetic_in_finance_rows(v2_file: Path, repo_root: Path):
    result = CliRunner().invoke(app, ["check-data", str(v2_file), "--schemas", str(repo_root / "schemas"), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 100
    assert report["failures_by_check"]["arithmetic"] == 4 * len(FINANCE_SCHEMAS) == 12
    assert report["failed_rows"] == 12
    assert set(report["failed_by_schema"]) == FINANCE_SCHEMAS
    assert sum(n for c, n in report["failures_by_check"].items() if c != "arithmetic") == 0
    assert report["coverage_problems"] == []


def test_check_data_with_the_v2_suite_passes_v2(v2_file: Path, repo_root: Path):
    result = CliRunner().invoke(app, ["check-data", str(v2_file), "--schemas", str(repo_root / "schemas"), "--suite", "v2"])
    assert result.exit_code == 0, result.output
    assert "100 rows, 0 failed (v2 suite)" in result.stdout


def test_check_data_text_report_names_the_failing_check(v2_file: Path, repo_root: Path):
    result = CliRunner().invoke(app, ["check-data", str(v2_file), "--schemas", str(repo_root / "schemas")])
    assert result.exit_code == 1, result.output
    assert "arithmetic: 12" in result.stdout


# An external catalog: one draft-07 schema straight in the folder (no tier subfolders). Its
# array-form `items` is draft-07 only, so a 2020-12 reading would reject the schema.
DRAFT7_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "age", "joined", "pair"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "joined": {"type": "string", "format": "date"},
        "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
    },
}


@pytest.fixture
def external(tmp_path: Path) -> tuple[Path, Path]:
    schemas = tmp_path / "ext_schemas"
    schemas.mkdir()
    (schemas / "member.json").write_text(json.dumps(DRAFT7_SCHEMA), encoding="utf-8")
    rows = [
        {"id": "m1", "schema_id": "member", "prompt": "New member Ada Lovelace, age 36, joined March 5, 2024; locker pair: B, 12.",
         "expected_output": json.dumps({"name": "Ada Lovelace", "age": 36, "joined": "2024-03-05", "pair": ["B", 12]})},
        {"id": "m2", "schema_id": "member", "prompt": "Alan Turing (41) signed up on 23 Jun 2023 with locker pair C and 7.",
         "expected_output": json.dumps({"name": "Alan Turing", "age": 41, "joined": "2023-06-23", "pair": ["C", 7]})},
    ]
    path = tmp_path / "external.jsonl"
    # Written by hand, without complexity/surface/source/version.
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path, schemas


def test_check_data_audits_an_external_file_against_a_draft07_schema(external):
    path, schemas = external
    result = CliRunner().invoke(app, ["check-data", str(path), "--schemas", str(schemas), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 2 and report["failed_rows"] == 0
    assert report["rows_by_schema"] == {"member": 2}


def test_check_data_flags_bad_external_rows(external):
    path, schemas = external
    bad = {"id": "m3", "schema_id": "member", "prompt": "Grace Hopper, age 85, joined 2020-01-02, pair D 1.",
           "expected_output": json.dumps({"name": "Grace Hopper", "age": 86, "joined": "2020-01-02", "pair": ["D", "1"]})}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(bad) + "\n")
    result = CliRunner().invoke(app, ["check-data", str(path), "--schemas", str(schemas), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["failed_rows"] == 1
    assert report["failures_by_check"]["grounded"] == 1  # age 86 is not in the text
    assert report["failures_by_check"]["schema_valid"] == 1  # draft-07 tuple items: second must be an integer
    assert report["examples"][0]["id"] == "m3"


def test_min_per_schema_fails_on_coverage_only_when_given(external):
    path, schemas = external
    runner = CliRunner()
    assert runner.invoke(app, ["check-data", str(path), "--schemas", str(schemas)]).exit_code == 0
    result = runner.invoke(app, ["check-data", str(path), "--schemas", str(schemas), "--min-per-schema", "3"])
    assert result.exit_code == 1, result.output
    assert "coverage: member: 2 rows, expected >= 3" in result.stdout
    assert runner.invoke(app, ["check-data", str(path), "--schemas", str(schemas), "--min-per-schema", "2"]).exit_code == 0
