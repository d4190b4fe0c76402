"""The validate gate on tiny recipes: v2's defect slips through its own suite, v3 is clean,
selective regeneration refills rejected slots, and a failed gate leaves no validated file."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.records import read_rows, write_rows
from stages.data.gx import gx_gate
from stages.tasks.edgejson import gate as validate
from stages.tasks.edgejson import generate
from stages.tasks.edgejson.templates import FINANCE_SCHEMAS

RUN_GX = partial(gx_gate, docs_dir=None, source_name="edgejson")  # GX as the validate stage runs it, without Data Docs
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
    result = validate.run("v2", _recipe(real_params, "v2"), rows, catalog, RUN_GX)
    q = result.quality
    assert result.passed, result.failed_expectations
    assert q["gate_passed"] is True
    assert q["rows_accepted"] == len(rows) == 100 and q["rows_rejected"] == 0
    finance_share = sum(r["schema_id"] in FINANCE_SCHEMAS for r in rows) / len(rows)
    assert finance_share == pytest.approx(0.12)
    # the full suite also flags v2's doubled label words ("merchant merchant name"), rows outside finance too
    from stages.tasks.edgejson.checks import check_clean_labels

    doubled = {r["id"] for r in rows if check_clean_labels(r["expected_output"], r["prompt"])}
    finance = {r["id"] for r in rows if r["schema_id"] in FINANCE_SCHEMAS}
    assert q["corrupt_rows_full_suite"] == len(finance | doubled) and q["corrupt_rate_full_suite"] == pytest.approx(len(finance | doubled) / len(rows))
    assert {k for k, n in q["corrupt_by_schema"].items() if n} >= FINANCE_SCHEMAS
    assert q["full_suite_failures_by_check"]["arithmetic"] == 12 and q["full_suite_failures_by_check"]["clean_labels"] == len(doubled)
    assert "arithmetic" not in q["failures_by_check"]


@pytest.fixture(scope="module")
def v3_result(real_params, catalog, tiny_rows):
    return validate.run("v3", _recipe(real_params, "v3"), tiny_rows["v3"], catalog, RUN_GX, registers=real_params.teacher.registers)


def test_v3_passes_with_nothing_corrupt(catalog, v3_result):
    result = v3_result
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
    result = validate.run("v3", recipe, rows, catalog, RUN_GX)
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
    result = validate.run("v3", recipe, tiny_rows["v3"], catalog, RUN_GX)
    assert not result.passed
    assert result.quality["gate_passed"] is False
    assert result.quality["rows_regenerated"] == 0
    assert result.quality["reject_rate"] > recipe.max_reject_rate
    assert any("reject rate" in f for f in result.failed_expectations), result.failed_expectations
    assert any(f.startswith("accepted.coverage_min_per_schema.") for f in result.failed_expectations), result.failed_expectations
    # GX saw the too-long first attempts among all generated rows: 12 of 100 is above the 5 % tolerance.
    assert any(f.startswith("generated.prompt_length ") for f in result.failed_expectations), result.failed_expectations


QUALITY_KEYS = {
    "rows_total", "rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated",
    "gate_passed", "corrupt_rate_full_suite", "failures_by_check",
}


def _validate_args(tmp_path: Path, params: Path, generated: Path) -> list[str]:
    return [
        "task-validate", "--task", "edgejson", "--name", "v3", "--in", str(generated),
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
    index = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    # Offline: the libraries are in the site, and nothing loads from a CDN (tests/dvc/test_datadocs_browser.py opens it).
    assert 'src="static/vendor/jquery-3.7.1/dist/jquery.min.js"' in index and "cdn." not in index and "amazonaws" not in index
    assert (tmp_path / "docs" / "static" / "vendor" / "jquery-3.7.1" / "dist" / "jquery.min.js").is_file()
    gate = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))
    assert gate["passed"] is True and len(gate["expectations"]) == quality["expectations_evaluated"] and all(gate["expectations"].values())
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "docs.tmp").exists()


def test_validate_cli_failing_gate_exits_nonzero_and_removes_validated(tmp_path: Path, make_params, tiny_rows):
    # Coverage asks for 5 rows per schema; only 4 are generated and nothing can add more.
    params = make_params(v3={"rows_per_schema": 4, "min_per_schema": 5})
    generated = tmp_path / "generated.jsonl"
    write_rows(generated, tiny_rows["v3"])
    stale = tmp_path / "validated.jsonl"
    stale.write_text('{"stale": true}\n', encoding="utf-8")
    result = CliRunner().invoke(app, _validate_args(tmp_path, params, generated))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output  # one line naming the file and what failed
    assert "coverage_min_per_schema" in result.stderr
    assert "gate failed" in result.stderr
    assert not stale.exists()
    quality = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    assert quality["gate_passed"] is False


def test_v3_gate_runs_both_validations_and_records_them(real_params, catalog, v3_result):
    recipe = _recipe(real_params, "v3")
    result = v3_result
    assert result.passed, result.failed_expectations
    names = set(result.expectations)
    # GX's first table: every generated row, one column per check of the suite, plus strict ids and schemas.
    assert {f"generated.{c}" for c in ("parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "prompt_length", "unique_prompt")} < names
    assert {"generated.unique_id", "generated.schema_id_in_set"} < names
    # GX's second table: the accepted rows, one JSON Schema expectation and one row count per schema.
    assert {f"accepted.schema_valid.{sid}" for sid in catalog} < names
    assert {f"accepted.coverage_min_per_schema.{sid}" for sid in catalog} < names
    assert all(result.expectations.values())
    q = result.quality
    assert q["expectations_evaluated"] == len(names) and q["expectations_failed"] == 0
    assert q["generated_mostly"] == pytest.approx(1 - recipe.max_reject_rate)
    assert set(q["generated_fail_rate_by_check"]) == {n.split(".", 1)[1] for n in names if n.startswith("generated.")} - {"unique_id", "schema_id_in_set"}


# ---- Mutation tests: every expectation of both tables fails on a row made to violate it. ----
# A catalog of three real schemas, one per tier (contact_info: simple; invoice: medium, with line
# items and two dates; nested_organization: complex) keeps each GX run well under a second.
SMALL = ("contact_info", "invoice", "nested_organization")


@pytest.fixture(scope="module")
def small(real_params, catalog):
    """(recipe, catalog, clean rows): rows of the three named schemas and of two generated (complex)
    ones, that pass every check and every expectation."""
    from stages.core.catalog import SchemaEntry
    from stages.core.params import SchemaGenerator

    cat = {sid: catalog[sid] for sid in SMALL}
    recipe = _recipe(real_params, "v3", schema_generator=SchemaGenerator(schemas=2, rows_per_schema=2, tiers={"complex": 1.0}))
    doc = generate.generated_schemas("v3", recipe, catalog)
    gen = {i["schema_id"]: SchemaEntry(i["schema_id"], i["tier"], Path("generated_schemas.json"), i["schema"], i["topic"]) for i in doc["schemas"]}
    result = validate.run("v3", recipe, generate.run("v3", recipe, cat, progress=False, generated=gen), {**cat, **gen}, RUN_GX)
    assert result.passed, result.failed_expectations
    assert len(result.accepted) == 4 * len(SMALL) + 2 * len(gen)
    return recipe, {**cat, **gen}, result.accepted


def _rows(rows, sid):
    return [r for r in rows if r["schema_id"] == sid]


def _gen(rows):
    """Phase A mutations change the generated rows: GX judges them all, whatever Python rejects."""
    return copy.deepcopy(rows)


def _break_json(rows):
    rows = _gen(rows)
    rows[0]["expected_output"] = "{broken"
    return rows


def _drop_required(rows):
    rows = _gen(rows)
    del _rows(rows, "contact_info")[0]["expected_output"]["email"]  # required by the schema; nothing else changes
    return rows


def _ungrounded(rows):
    rows = _gen(rows)
    _rows(rows, "contact_info")[0]["expected_output"]["full_name"] = "Zebulon Quartermaine"  # in no text
    return rows


def _wrong_subtotal(rows):
    rows = _gen(rows)
    row = _rows(rows, "invoice")[0]
    row["expected_output"]["subtotal"] = new = round(row["expected_output"]["subtotal"] + 10, 2)
    row["prompt"] += f" Subtotal as stated: {new:.2f}."  # still grounded: only the arithmetic is wrong
    return rows


def _dates_swapped(rows):
    rows = _gen(rows)
    row = next(r for r in _rows(rows, "invoice") if r["expected_output"]["issue_date"] != r["expected_output"]["due_date"])
    out = row["expected_output"]
    out["issue_date"], out["due_date"] = out["due_date"], out["issue_date"]
    return rows


def _too_long(rows):
    rows = _gen(rows)
    rows[0]["prompt"] += " Thanks." * 200  # 1600 more characters than any bound here
    return rows


def _doubled_label(rows):
    rows = _gen(rows)
    row = min(rows, key=lambda r: len(r["prompt"]))  # far from the prompt-length bound
    row["prompt"] += "\nsam: merchant merchant name is on file"  # values untouched: only a label doubles a word
    return rows


def _repeated_text(rows):
    rows = _gen(rows)
    return rows + [{**copy.deepcopy(rows[0]), "id": "v3-extra-0000"}]


def _repeated_id(rows):
    rows = _gen(rows)
    rows[1]["id"] = rows[0]["id"]
    return rows


def _unknown_schema(rows):
    rows = _gen(rows)
    rows[0]["schema_id"] = "no_such_schema"
    return rows


GENERATED_MUTATIONS = {
    # mutation: the generated-table expectations it must fail, exactly
    "broken_json": (_break_json, {"parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "clean_labels"}),
    "required_field_missing": (_drop_required, {"schema_valid"}),
    "value_not_in_text": (_ungrounded, {"grounded"}),
    "subtotal_off": (_wrong_subtotal, {"arithmetic"}),
    "due_before_issue": (_dates_swapped, {"dates_in_order"}),
    "prompt_too_long": (_too_long, {"prompt_length"}),
    "label_doubles_a_word": (_doubled_label, {"clean_labels"}),
    "same_text_twice": (_repeated_text, {"unique_prompt"}),
    "same_id_twice": (_repeated_id, {"unique_id"}),
    "schema_not_in_catalog": (_unknown_schema, {"schema_id_in_set", "schema_valid"}),
}


@pytest.mark.parametrize("mutation", sorted(GENERATED_MUTATIONS))
def test_each_generated_rows_expectation_fails_on_its_mutation(small, mutation):
    recipe, cat, clean = small
    mutate, expected = GENERATED_MUTATIONS[mutation]
    failed, outcome = RUN_GX("v3", [validate.generated_table("v3", recipe, mutate(clean), cat)])
    assert {n for n, ok in outcome.items() if not ok} == {f"generated.{e}" for e in expected}, failed
    assert sorted(f.split(" ", 1)[0] for f in failed) == sorted(f"generated.{e}" for e in expected), failed


def _acc(rows):
    """Phase B mutations change rows that already passed every Python check."""
    return copy.deepcopy(rows)


def _schema_invalid_each(rows):
    rows = _acc(rows)
    for sid in SMALL:
        _rows(rows, sid)[0]["expected_output"] = {}  # every schema requires fields
    return rows


def _generated_answer_invalid(rows):
    rows = _acc(rows)
    next(r for r in rows if r["schema_id"].startswith("gen"))["expected_output"] = {}  # generated schemas require fields
    return rows


def _acc_set(key, value, sid=None):
    def mutate(rows):
        rows = _acc(rows)
        (_rows(rows, sid) if sid else rows)[0][key] = value
        return rows

    return mutate


def _acc_same_text(rows):
    rows = _acc(rows)
    rows[1]["prompt"] = rows[0]["prompt"].upper() + " !!"  # the same text once normalised
    return rows


def _acc_extra_schema(rows):
    rows = _acc(rows)
    return rows + [{**copy.deepcopy(rows[0]), "id": "v3-extra-0000", "schema_id": "no_such_schema", "prompt": rows[0]["prompt"] + " (extra)"}]


def _acc_drop_schema(rows):
    return [r for r in _acc(rows) if r["schema_id"] != "contact_info"]  # the only simple schema here


def _acc_drop_one_each(rows):
    rows = _acc(rows)
    return [r for r in rows if r is not _rows(rows, r["schema_id"])[0]]


ACCEPTED_MUTATIONS = {
    "schema_invalid_answer_per_schema": (_schema_invalid_each, {f"schema_valid.{sid}" for sid in SMALL}),
    "generated_schema_answer_invalid": (_generated_answer_invalid, {"schema_valid.generated.00"}),
    "same_id_twice": (_acc_set("id", "v3-contact_info-0001", "invoice"), {"unique_id"}),
    "same_text_twice": (_acc_same_text, {"unique_prompt"}),
    "prompt_too_long": (_acc_set("prompt", "x" * 1201), {"prompt_length"}),
    "prompt_too_short": (_acc_set("prompt", "short"), {"prompt_length"}),
    "schema_not_in_catalog": (_acc_extra_schema, {"schema_id_in_set", "complexity_matches_schema"}),
    "complexity_not_a_tier": (_acc_set("complexity", "extreme"), {"complexity_in_set", "complexity_matches_schema"}),
    "complexity_of_another_schema": (_acc_set("complexity", "complex", "contact_info"), {"complexity_matches_schema"}),
    "surface_unknown": (_acc_set("surface", "fax"), {"surface_in_set"}),
    "source_unknown": (_acc_set("source", "scraped"), {"source_in_set"}),
    "schema_and_tier_missing": (_acc_drop_schema, {"coverage_schemas", "coverage_tiers", "coverage_min_per_schema.contact_info"}),
    "one_row_short_per_schema": (_acc_drop_one_each, {f"coverage_min_per_schema.{sid}" for sid in SMALL}),
}


@pytest.mark.parametrize("mutation", sorted(ACCEPTED_MUTATIONS))
def test_each_accepted_rows_expectation_fails_on_its_mutation(small, mutation):
    recipe, cat, clean = small
    mutate, expected = ACCEPTED_MUTATIONS[mutation]
    failed, outcome = RUN_GX("v3", [validate.accepted_table("v3", recipe, mutate(clean), cat)])
    assert {n for n, ok in outcome.items() if not ok} == {f"accepted.{e}" for e in expected}, failed
    assert sorted(f.split(" ", 1)[0] for f in failed) == sorted(f"accepted.{e}" for e in expected), failed


def test_every_expectation_has_a_mutation_that_fails_it(small):
    """A gate that cannot fail is a defect: no expectation of either table may lack a mutation."""
    recipe, cat, clean = small
    failed, outcome = RUN_GX("v3", [validate.generated_table("v3", recipe, clean, cat), validate.accepted_table("v3", recipe, clean, cat)])
    assert failed == [] and all(outcome.values())
    covered = {f"generated.{e}" for _, exp in GENERATED_MUTATIONS.values() for e in exp}
    covered |= {f"accepted.{e}" for _, exp in ACCEPTED_MUTATIONS.values() for e in exp}
    assert set(outcome) == covered, f"expectations without a mutation: {sorted(set(outcome) - covered)}"


def test_generated_tolerance_is_the_reject_limit(small):
    # mostly = 1 - max_reject_rate: with a 10 % limit, 1 ungrounded row of 16 (6.2 %) is tolerated, 2 (12.5 %) are not.
    recipe, cat, clean = small
    recipe = dataclasses.replace(recipe, max_reject_rate=0.1)
    one = _ungrounded(clean)
    two = copy.deepcopy(one)
    _rows(two, "contact_info")[1]["expected_output"]["full_name"] = "Zebulon Quartermaine"
    failed, _ = RUN_GX("v3", [validate.generated_table("v3", recipe, one, cat)])
    assert failed == []
    failed, _ = RUN_GX("v3", [validate.generated_table("v3", recipe, two, cat)])
    assert failed == ["generated.grounded (expect_column_values_to_be_in_set on grounded): 2 of 16 rows unexpected (mostly 0.9), e.g. 'False', 'False'"], failed


def test_a_duplicate_id_fails_the_whole_gate_within_the_reject_limit(small):
    # A generator that gives two rows one id: Python quarantines the later row, 1 reject in 16,
    # within a 10 % limit, and coverage asks for 3 rows per schema. Duplicate ids must never
    # occur, so GX's strict expectation on all generated rows fails the gate by itself.
    recipe, cat, clean = small
    rows = copy.deepcopy(clean)
    rows[5]["id"] = rows[4]["id"]
    recipe = dataclasses.replace(recipe, max_reject_rate=0.1, min_per_schema=3, regenerate=False)
    result = validate.run("v3", recipe, rows, cat, RUN_GX)
    q = result.quality
    assert q["reject_rate"] <= recipe.max_reject_rate and q["failures_by_check"]["unique_id"] == 1, q
    dup = rows[4]["id"]
    assert result.failed_expectations == [f"generated.unique_id (expect_column_values_to_be_unique on id): 2 of 16 rows unexpected, e.g. '{dup}', '{dup}'"]
    assert q["expectations_failed"] == 1 and q["gate_passed"] is False


def test_data_docs_without_the_offline_libraries_is_a_one_line_error(tmp_path: Path):
    from stages.core.errors import SLMBenchError
    from stages.data import datadocs

    with pytest.raises(SLMBenchError, match=r"manifest.tsv: the offline Data Docs libraries are not installed; run `bash .ci/setup.sh`"):
        datadocs.libraries(tmp_path)


def test_make_offline_rewrites_known_urls_and_refuses_unknown_ones(tmp_path: Path):
    from stages.core.errors import SLMBenchError
    from stages.data import datadocs

    site = tmp_path / "site"
    page = site / "validations" / "s" / "run" / "p.html"
    page.parent.mkdir(parents=True)
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "favicon.ico").write_bytes(b"\0")
    page.write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" integrity="sha384-x" crossorigin="anonymous"></script>\n'
        '<link rel="shortcut icon" href="../../static/images/favicon.ico">\n'  # one level short, as GX writes it
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=2">\n',
        encoding="utf-8",
    )
    datadocs.make_offline(site)
    assert page.read_text(encoding="utf-8") == (
        '<script src="../../../static/vendor/jquery-3.7.1/dist/jquery.min.js"></script>\n'
        '<link rel="shortcut icon" href="../../../static/images/favicon.ico">\n'
        '<img src="../../../static/images/logo-long.png">\n'
    )
    assert (page.parent / "../../../static/vendor/jquery-3.7.1/dist/jquery.min.js").resolve().is_file()
    page.write_text('<script src="https://cdn.example.org/lib.js"></script>\n', encoding="utf-8")
    with pytest.raises(SLMBenchError, match=r"p.html: loads https://cdn.example.org/lib.js from the network, which .*manifest.tsv does not provide"):
        datadocs.make_offline(site)
