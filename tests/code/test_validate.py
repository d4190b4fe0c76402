"""The validate gate on tiny recipes: v2's defect slips through its own suite, v3 is clean,
selective regeneration refills rejected slots, and a failed gate leaves no validated file."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages import generate, validate
from stages.cli import app
from stages.records import read_rows, write_rows
from stages.templates import FINANCE_SCHEMAS

TINY = {"rows_per_schema": 4, "min_per_schema": 4}
# With v3's seed, 4 rows per schema and prompts capped at 800 characters, 12 of 100 first
# attempts are too long and each slot finds a short enough row within 5 attempts.
TIGHT_MAX = 800


def _recipe(real_params, version, **changes):
    return dataclasses.replace(real_params.datasets[version], **{**TINY, **changes})


@pytest.fixture(scope="module")
def tiny_rows(real_params, catalog):
    return {v: generate.run(v, _recipe(real_params, v), catalog, progress=False) for v in ("v2", "v3")}


def test_v2_passes_its_own_gate_but_its_finance_rows_are_corrupt(real_params, catalog, tiny_rows):
    rows = tiny_rows["v2"]
    result = validate.run("v2", _recipe(real_params, "v2"), rows, catalog)
    q = result.quality
    assert result.passed, result.failed_expectations
    assert q["gate_passed"] is True
    assert q["rows_accepted"] == len(rows) == 100 and q["rows_rejected"] == 0
    finance_share = sum(r["schema_id"] in FINANCE_SCHEMAS for r in rows) / len(rows)
    assert finance_share == pytest.approx(0.12)
    assert q["corrupt_rate_full_suite"] == pytest.approx(finance_share)
    assert {k for k, n in q["corrupt_by_schema"].items() if n} == FINANCE_SCHEMAS
    assert q["full_suite_failures_by_check"]["arithmetic"] == q["corrupt_rows_full_suite"] == 12
    assert "arithmetic" not in q["failures_by_check"]


def test_v3_passes_with_nothing_corrupt(real_params, catalog, tiny_rows):
    result = validate.run("v3", _recipe(real_params, "v3"), tiny_rows["v3"], catalog)
    q = result.quality
    assert result.passed, result.failed_expectations
    assert q["corrupt_rate_full_suite"] == 0 and q["corrupt_rows_full_suite"] == 0
    assert q["failures_by_check"]["arithmetic"] == 0
    assert set(q["rows_by_schema"].values()) == {4} and len(q["rows_by_schema"]) == len(catalog)
    assert all(isinstance(n, int) for n in q["failures_by_check"].values()), q["failures_by_check"]


def test_v3_regenerates_rows_a_tight_prompt_bound_rejects(real_params, catalog, tiny_rows):
    recipe = _recipe(real_params, "v3", prompt_chars=[60, TIGHT_MAX], max_reject_rate=0.5)
    rows = tiny_rows["v3"]
    too_long = {r["id"] for r in rows if len(r["prompt"]) > TIGHT_MAX}
    assert too_long, "the bound must reject some first attempts"
    result = validate.run("v3", recipe, rows, catalog)
    q = result.quality
    assert result.passed, result.failed_expectations
    assert q["rows_regenerated"] == len(too_long)
    assert q["rows_by_schema"] == {sid: 4 for sid in catalog}
    assert sorted(r["id"] for r in result.accepted) == sorted(r["id"] for r in rows)
    assert all(len(r["prompt"]) <= TIGHT_MAX for r in result.accepted)
    assert {r["id"] for r in result.quarantine} == too_long
    for row in result.quarantine:
        assert set(row["failed_checks"]) == {"prompt_length"}, row["failed_checks"]
        assert "chars" in row["failed_checks"]["prompt_length"]
    assert q["rows_rejected"] == len(result.quarantine)
    assert q["failures_by_check"]["prompt_length"] == len(result.quarantine)
    json.dumps(q)  # quality.json must serialise


def test_without_regeneration_a_tight_bound_fails_the_gate(real_params, catalog, tiny_rows):
    recipe = _recipe(real_params, "v3", prompt_chars=[60, TIGHT_MAX], regenerate=False)
    result = validate.run("v3", recipe, tiny_rows["v3"], catalog)
    assert not result.passed
    assert result.quality["gate_passed"] is False
    assert result.quality["rows_regenerated"] == 0
    assert result.quality["reject_rate"] > recipe.max_reject_rate
    assert any("reject rate" in f for f in result.failed_expectations), result.failed_expectations
    assert any(f.startswith("coverage_min_per_schema") for f in result.failed_expectations)


QUALITY_KEYS = {
    "rows_total", "rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated",
    "gate_passed", "corrupt_rate_full_suite", "failures_by_check",
}


def _validate_args(tmp_path: Path, params: Path, generated: Path) -> list[str]:
    return [
        "validate", "--version", "v3", "--in", str(generated),
        "--validated", str(tmp_path / "validated.jsonl"), "--quarantine", str(tmp_path / "quarantine.jsonl"),
        "--metrics", str(tmp_path / "quality.json"), "--docs", str(tmp_path / "docs"),
        "--params", str(params),
    ]


def test_validate_cli_passing_gate_writes_outputs(tmp_path: Path, tiny_params: Path, tiny_rows):
    generated = tmp_path / "generated.jsonl"
    write_rows(generated, tiny_rows["v3"])
    result = CliRunner().invoke(app, _validate_args(tmp_path, tiny_params, generated))
    assert result.exit_code == 0, result.output
    quality = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert QUALITY_KEYS <= set(quality)
    assert quality["gate_passed"] is True and quality["rows_total"] == 100
    accepted = read_rows(tmp_path / "validated.jsonl")
    assert len(accepted) == quality["rows_accepted"] == 100
    assert Counter(r["schema_id"] for r in accepted) == Counter(r["schema_id"] for r in tiny_rows["v3"])
    assert (tmp_path / "docs" / "index.html").is_file()
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "docs.tmp").exists()


def test_validate_cli_failing_gate_exits_nonzero_and_removes_validated(tmp_path: Path, make_params, tiny_rows):
    # Coverage asks for 5 rows per schema; only 4 are generated and nothing can add more.
    params = make_params(v3={"rows_per_schema": 4, "min_per_schema": 5})
    generated = tmp_path / "generated.jsonl"
    write_rows(generated, tiny_rows["v3"])
    stale = tmp_path / "validated.jsonl"
    stale.write_text('{"stale": true}\n', encoding="utf-8")
    result = CliRunner().invoke(app, _validate_args(tmp_path, params, generated))
    assert result.exit_code == 1, result.output
    assert "coverage_min_per_schema" in result.stderr
    assert "gate failed" in result.stderr
    assert not stale.exists()
    quality = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert quality["gate_passed"] is False
