"""`check-data`: the audit of any EdgeJSON-format file, ours or someone else's."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.records import write_rows
from stages.tasks.edgejson import generate
from stages.tasks.edgejson.templates import FINANCE_SCHEMAS


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
    # v2's templates also doubled a group's word into its labels ("merchant merchant name"), which
    # the full suite's clean_labels check reports and v2's own suite did not have
    from stages.core.records import read_rows
    from stages.tasks.edgejson.checks import check_clean_labels

    rows = read_rows(v2_file)
    doubled = {r["id"] for r in rows if check_clean_labels(r["expected_output"], r["prompt"])}
    finance = {r["id"] for r in rows if r["schema_id"] in FINANCE_SCHEMAS}
    assert doubled and report["failures_by_check"]["clean_labels"] == len(doubled)
    assert report["failed_rows"] == len(finance | doubled)
    assert FINANCE_SCHEMAS <= set(report["failed_by_schema"])
    assert sum(n for c, n in report["failures_by_check"].items() if c not in ("arithmetic", "clean_labels")) == 0
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


# ---- Files from elsewhere: per-item discounts, and lines no reader can take ----
# An external order schema whose line items carry their own discount (each item discounted, then summed).
ORDER_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["order_id", "items", "subtotal", "total"],
    "properties": {
        "order_id": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "quantity": {"type": "integer"}, "unit_price": {"type": "number"},
            "discount_percentage": {"type": "number"}, "line_total": {"type": "number"}}}},
        "subtotal": {"type": "number"},
        "total": {"type": "number"},
    },
}
#   Desk Lamp: 2 x 24.99 = 49.98, less 10 % = 44.982 -> 44.98
#   Mug:       3 x  3.33 =  9.99, less 15 % =  8.4915 -> 8.49
#   subtotal = total = 53.47
GOOD_ORDER = {"order_id": "O-7", "items": [
    {"name": "Desk Lamp", "quantity": 2, "unit_price": 24.99, "discount_percentage": 10, "line_total": 44.98},
    {"name": "Mug", "quantity": 3, "unit_price": 3.33, "discount_percentage": 15, "line_total": 8.49}], "subtotal": 53.47, "total": 53.47}


def _order_prompt(order: dict) -> str:
    items = "; ".join(f"{i['name']}: {i['quantity']} at {i['unit_price']}, {i['discount_percentage']}% off, line {i['line_total']}" for i in order["items"])
    return f"Order {order['order_id']}. {items}. Subtotal {order['subtotal']}, total {order['total']}."


def test_check_data_trusts_per_item_discounts_and_flags_a_wrong_total(tmp_path: Path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "order.json").write_text(json.dumps(ORDER_SCHEMA), encoding="utf-8")
    wrong = {**GOOD_ORDER, "order_id": "O-8", "total": 59.97}  # 49.98 + 9.99: the items' discounts left out
    rows = [{"id": o["order_id"], "schema_id": "order", "prompt": _order_prompt(o), "expected_output": o} for o in (GOOD_ORDER, wrong)]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["check-data", str(path), "--schemas", str(schemas), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["failed_rows"] == 1 and report["failures_by_check"]["arithmetic"] == 1, report
    assert report["examples"] == [{"id": "O-8", "failed_checks": {"arithmetic": "total 59.97 != derived 53.47 over items"}}]


def _one_line_error(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture
def deep_file(tmp_path: Path) -> Path:
    """A JSONL file whose second line's expected_output is nested 100,000 levels deep."""
    path = tmp_path / "deep.jsonl"
    good = {"id": "r1", "schema_id": "contact_info", "prompt": "Ada Lovelace, ada@example.org", "expected_output": {"full_name": "Ada Lovelace"}}
    deep = '{"id": "r2", "schema_id": "contact_info", "prompt": "p", "expected_output": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    path.write_text(json.dumps(good) + "\n" + deep + "\n", encoding="utf-8")
    return path


def test_check_data_on_a_line_nested_100000_levels_is_a_one_line_error(deep_file: Path, repo_root: Path):
    result = CliRunner().invoke(app, ["check-data", str(deep_file), "--schemas", str(repo_root / "schemas")])
    _one_line_error(result, f"{deep_file}:2:", "nested too deeply")


def test_evaluate_on_a_line_nested_100000_levels_is_a_one_line_error(deep_file: Path, repo_root: Path, tmp_path: Path):
    from stages.inference.prompt import embedded_gguf

    model = embedded_gguf("smollm2-135m-instruct")  # a real model file; the data is refused before it loads
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["evaluate", "--model", str(model), "--data", str(deep_file), "--schemas", str(repo_root / "schemas"), "--out", str(out)])
    _one_line_error(result, f"{deep_file}:2:", "nested too deeply")
    assert not out.exists()


def test_check_data_on_a_directory_is_a_one_line_error(tmp_path: Path, repo_root: Path):
    result = CliRunner().invoke(app, ["check-data", str(tmp_path), "--schemas", str(repo_root / "schemas")])
    _one_line_error(result, f"{tmp_path}: is a directory")
