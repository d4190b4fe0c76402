"""`slmbench validate --version v3 ...`: the gate. jsonschema and Great Expectations over every row.

1. Every generated row gets the row checks of the version's own suite (checks.SUITES).
2. Rejected rows go to quarantine with the checks they failed. With `regenerate` on, each
   rejected slot is regenerated with fresh seeds (attempt 1, 2, ...) until a row passes.
3. The accepted rows become a DataFrame with one boolean column per check, and a GX suite
   (one expectation per property) must pass on them, along with coverage and the reject rate.
4. Today's full suite is run over the accepted rows too: `corrupt_rate_full_suite` is what
   slipped through the version's own gate.

When the gate fails the stage exits non-zero and leaves no validated.jsonl behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stages.catalog import TIERS, SchemaEntry
from stages.checks import SET_CHECKS, SUITES, five_levels, level_rates, normalise_prompt, row_failures, screen
from stages.params import Recipe
from stages.records import atomic_dir
from stages.templates.rows import RowMaker, slot_of


@dataclass
class GateResult:
    accepted: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    quality: dict[str, Any]
    failed_expectations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failed_expectations


def run(version: str, recipe: Recipe, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], docs_dir: Path | None = None) -> GateResult:
    suite = SUITES[recipe.suite]
    bounds = (recipe.prompt_chars[0], recipe.prompt_chars[1])
    maker = RowMaker(version, recipe.seed, recipe.generator, recipe.surfaces)
    accepted: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    seen_prompts: set[str] = set()
    seen_ids: set[str] = set()
    rejected_by_check: Counter[str] = Counter()
    regenerated = 0

    def admit(row: dict[str, Any], fails: dict[str, str]) -> bool:
        """Row checks are given; the set checks run against what is accepted so far."""
        norm = normalise_prompt(str(row.get("prompt", "")))
        if "unique_prompt" in suite and norm in seen_prompts:
            fails["unique_prompt"] = "same text as an accepted row"
        if "unique_id" in suite and str(row.get("id")) in seen_ids:
            fails["unique_id"] = f"id {row.get('id')} used twice"
        if fails:
            quarantine.append({**row, "failed_checks": dict(sorted(fails.items()))})
            rejected_by_check.update(fails.keys())  # count check names; `fails` maps them to messages
            return False
        seen_prompts.add(norm)
        seen_ids.add(str(row.get("id")))
        accepted.append(row)
        return True

    for row in rows:
        entry = catalog.get(str(row.get("schema_id")))
        if admit(row, row_failures(row, entry, bounds, suite)) or not recipe.regenerate or entry is None:
            continue
        for attempt in range(1, recipe.max_attempts + 1):
            fresh = maker.make(entry, slot_of(str(row["id"])), attempt)
            if admit(fresh, row_failures(fresh, entry, bounds, suite)):
                regenerated += 1
                break

    n_generated = len(rows)
    n_rejected = len(quarantine)
    counts = Counter(str(r["schema_id"]) for r in accepted)
    tiers = Counter(str(r.get("complexity")) for r in accepted)
    # Today's full suite over what this version's own gate accepted.
    full = screen(accepted, catalog, bounds, SUITES["full"])
    corrupt = [(r, f) for r, f in zip(accepted, full) if f]
    bad = Counter(str(r["schema_id"]) for r, _ in corrupt)
    quality: dict[str, Any] = {
        "rows_total": n_generated,
        "rows_accepted": len(accepted),
        "rows_rejected": n_rejected,
        "reject_rate": round(n_rejected / max(1, n_generated + regenerated), 6),
        "rows_regenerated": regenerated,
        "failures_by_check": {c: rejected_by_check.get(c, 0) for c in SUITES[recipe.suite]},
        "corrupt_rows_full_suite": len(corrupt),
        "corrupt_rate_full_suite": round(len(corrupt) / max(1, len(accepted)), 6),
        "full_suite_failures_by_check": {c: sum(1 for _, f in corrupt if c in f) for c in SUITES["full"]},
        # every schema, zeros included, so the keys are the same in every version and revision
        "corrupt_by_schema": {sid: bad.get(sid, 0) for sid in sorted(catalog)},
        "rows_by_schema": dict(sorted(counts.items())),
        "rows_by_tier": {t: tiers.get(t, 0) for t in TIERS},
    }
    # The five-level validator over every generated row, template or teacher (before any
    # regeneration): pass rates per level, per source and per schema.
    quality["levels"] = level_rates(rows, five_levels(rows, catalog, bounds))
    quality["rows_by_source"] = dict(sorted(Counter(str(r.get("source", "template")) for r in accepted).items()))
    result = GateResult(accepted, quarantine, quality)
    result.failed_expectations = gx_gate(version, accepted, catalog, recipe, suite, docs_dir)
    if quality["reject_rate"] > recipe.max_reject_rate:
        result.failed_expectations.append(f"reject rate {quality['reject_rate']:.3f} exceeds the recipe's limit {recipe.max_reject_rate}")
    quality["gate_passed"] = result.passed
    quality["gate_failed_expectations"] = len(result.failed_expectations)
    return result


def frame(rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], prompt_chars: tuple[int, int]) -> Any:
    """One row per example, with the computed check columns the expectations read."""
    import pandas as pd

    fails = screen(rows, catalog, prompt_chars, SUITES["full"])
    counts = Counter(str(r.get("schema_id")) for r in rows)
    data: dict[str, list[Any]] = {
        "id": [str(r.get("id")) for r in rows],
        "schema_id": [str(r.get("schema_id")) for r in rows],
        "complexity": [str(r.get("complexity")) for r in rows],
        "prompt_norm": [normalise_prompt(str(r.get("prompt", ""))) for r in rows],
        "prompt_chars": [len(str(r.get("prompt", ""))) for r in rows],
        "schema_rows": [counts[str(r.get("schema_id"))] for r in rows],
    }
    for check in SUITES["full"]:
        if check not in SET_CHECKS and check != "prompt_length":
            data[check] = [check not in f for f in fails]
    return pd.DataFrame(data)


def build_suite(name: str, suite: tuple[str, ...], catalog: dict[str, SchemaEntry], recipe: Recipe) -> Any:
    import great_expectations as gx

    E = gx.expectations
    s = gx.ExpectationSuite(name=name)
    ok = [True]
    # the expected output parses as a JSON object
    if "parses" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeInSet(column="parses", value_set=ok, meta={"property": "parses"}))
    # it validates against its schema, format checking on
    if "schema_valid" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeInSet(column="schema_valid", value_set=ok, meta={"property": "schema_valid"}))
    # it is grounded: every leaf value appears in the prompt (numbers and dates normalised)
    if "grounded" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeInSet(column="grounded", value_set=ok, meta={"property": "grounded"}))
    # its arithmetic is consistent: line totals, subtotal, total, counts
    if "arithmetic" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeInSet(column="arithmetic", value_set=ok, meta={"property": "arithmetic"}))
    # dates are in order (start before end, issue before due, ...)
    if "dates_in_order" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeInSet(column="dates_in_order", value_set=ok, meta={"property": "dates_in_order"}))
    # no two prompts are duplicates (after normalisation)
    if "unique_prompt" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeUnique(column="prompt_norm", meta={"property": "unique_prompt"}))
    # ids are unique
    if "unique_id" in suite:
        s.add_expectation(E.ExpectColumnValuesToBeUnique(column="id", meta={"property": "unique_id"}))
    # every schema and every tier is present ...
    s.add_expectation(E.ExpectColumnDistinctValuesToContainSet(column="schema_id", value_set=sorted(catalog), meta={"property": "coverage_schemas"}))
    tiers = sorted({e.tier for e in catalog.values() if e.tier})
    s.add_expectation(E.ExpectColumnDistinctValuesToContainSet(column="complexity", value_set=tiers, meta={"property": "coverage_tiers"}))
    # ... each schema with at least its minimum count
    s.add_expectation(E.ExpectColumnMinToBeBetween(column="schema_rows", min_value=recipe.min_per_schema, meta={"property": "coverage_min_per_schema"}))
    # the prompt length is within bounds (characters)
    if "prompt_length" in suite:
        s.add_expectation(
            E.ExpectColumnValuesToBeBetween(column="prompt_chars", min_value=recipe.prompt_chars[0], max_value=recipe.prompt_chars[1], meta={"property": "prompt_length"})
        )
    return s


def gx_gate(version: str, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], recipe: Recipe, suite: tuple[str, ...], docs_dir: Path | None) -> list[str]:
    """Run the version's GX suite on the accepted rows; the failed expectations, described."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    df = frame(rows, catalog, (recipe.prompt_chars[0], recipe.prompt_chars[1]))
    if df.empty:
        return ["no rows were accepted"]
    with tempfile.TemporaryDirectory(prefix="gx-") as tmp:
        ctx = gx.get_context(mode="file", project_root_dir=tmp)
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch = ctx.data_sources.add_pandas("edgejson").add_dataframe_asset(name=f"{version}_accepted").add_batch_definition_whole_dataframe("all")
        s = ctx.suites.add(build_suite(f"edgejson_{version}_{recipe.suite}", suite, catalog, recipe))
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{version}_gate", data=batch, suite=s))
        cp = ctx.checkpoints.add(
            gx.Checkpoint(name=f"{version}_gate", validation_definitions=[vd], actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")], result_format={"result_format": "SUMMARY"})
        )
        result = cp.run(batch_parameters={"dataframe": df})
        failed = []
        for vr in result.run_results.values():
            for er in vr.results:
                if not er.success:
                    cfg = er.expectation_config
                    prop = (cfg.meta or {}).get("property", cfg.type)
                    detail = er.result.get("unexpected_count", er.result.get("observed_value"))
                    failed.append(f"{prop} ({cfg.type} on {cfg.kwargs.get('column')}): {detail}")
        if docs_dir is not None:
            site = Path(tmp) / "gx" / "uncommitted" / "data_docs" / "local_site"
            with atomic_dir(Path(docs_dir)) as staging:
                shutil.copytree(site, staging, dirs_exist_ok=True)
    return sorted(failed)


def main(version: str, params_path: Path, inp: Path, validated: Path, quarantine: Path, metrics: Path, docs: Path) -> GateResult:
    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json, write_rows

    p = P.load(params_path)
    recipe = P.recipe(p, version)
    catalog = load_catalog(Path(p.schemas_dir))
    rows = read_rows(inp)
    Path(validated).unlink(missing_ok=True)  # a failed gate must not leave an old file behind
    result = run(version, recipe, rows, catalog, docs_dir=docs)
    write_rows(quarantine, result.quarantine)
    write_json(metrics, result.quality)
    # The verdict in words, beside the numbers: which suite judged the version and what failed.
    write_json(Path(metrics).with_name("gate.json"), {"version": version, "suite": recipe.suite, "checks": list(SUITES[recipe.suite]), "passed": result.passed, "failed_expectations": list(result.failed_expectations)})
    if result.passed:
        write_rows(validated, result.accepted)
    return result
