"""EdgeJSON's gate (its `gate` part, run by the generic validate stage, stages/pipeline/validate.py):
jsonschema and Great Expectations over every row.

1. Every generated row gets the row checks of the version's own suite (checks.SUITES).
2. Rejected rows go to quarantine with the checks they failed. With `regenerate` on, each
   rejected slot is regenerated with fresh seeds (attempt 1, 2, ...) until a row passes.
3. GX judges ALL generated rows (the input, before quarantine): one boolean column per check,
   each expected true on at least `mostly` = 1 - max_reject_rate of the rows, since that is the
   share the recipe lets the gate quarantine. What must never occur is strict: a duplicate id,
   or a schema id outside the catalog.
4. GX judges the ACCEPTED rows again, with expectations it evaluates itself rather than copies
   of the Python verdicts: expected_output against each schema's JSON Schema (one expectation
   per schema), unique ids and texts, prompt length bounds, the value sets of schema_id,
   complexity, surface and source, coverage and the rows per schema.
5. The reject rate must be within the recipe's limit.
6. Today's full suite is run over the accepted rows too: `corrupt_rate_full_suite` is what
   slipped through the version's own gate.

When the gate fails the stage exits non-zero and leaves no validated.jsonl behind. The Data Docs
site (both validations) is written either way, with its web libraries inside (stages/data/datadocs.py),
and so is gate.json beside quality.json: the verdict in words (the suite, its checks, what failed).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core.catalog import TIERS, SchemaEntry, entry_of, load_catalog, with_generated
from stages.core.params import Params, Recipe
from stages.core.records import (
    read_rows,
    write_rows,  # noqa: F401 (the stage's parts: the row writer)
)
from stages.core.rowgate import GateResult, RunGX, Table
from stages.core.rowgate import named as _named
from stages.tasks.edgejson.checks import ROW_CHECKS, SUITES, five_levels, level_rates, normalise_prompt, row_failures, screen, set_failures
from stages.tasks.edgejson.recipes import recipe as checked_recipe
from stages.tasks.edgejson.templates.rows import RowMaker, slot_of

NAME, TITLE = "edgejson", "EdgeJSON"  # the generic validate stage's parts (stages/tasks/registry.py), with recipe and gate below
# Where a row's text comes from: the generator's templates, or the teacher's paraphrase.
SOURCES = ("teacher", "template")
# The two tables GX validates, in order.
GENERATED, ACCEPTED = "generated", "accepted"



def mostly(recipe: Recipe) -> float:
    """The share of generated rows that must pass each quarantinable check."""
    return round(1.0 - recipe.max_reject_rate, 6)


def run(
    version: str,
    recipe: Recipe,
    rows: list[dict[str, Any]],
    catalog: dict[str, SchemaEntry],
    run_gx: RunGX,
    registers: Sequence[str] = (),
) -> GateResult:
    """The gate; `run_gx`: the GX runner (stages/data/gx.py's gx_gate); `registers` are the
    teacher's registers, the surfaces its rows may carry."""
    suite = SUITES[recipe.suite]
    bounds = (recipe.prompt_chars[0], recipe.prompt_chars[1])
    maker = RowMaker(version, recipe.seed, recipe.generator, recipe.surfaces)
    accepted: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    seen_prompts: set[str] = set()
    seen_ids: set[str] = set()
    rejected_by_check: Counter[str] = Counter()
    regenerated = 0
    verdicts: list[dict[str, str]] = []  # the row checks each generated row (first attempt) fails

    def admit(row: dict[str, Any], fails: dict[str, str]) -> bool:
        """Row checks are given; the set checks run against what is accepted so far."""
        fails = dict(fails)
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
        entry = entry_of(row, catalog)
        verdicts.append(row_failures(row, entry, bounds, suite))
        if admit(row, verdicts[-1]) or not recipe.regenerate or entry is None:
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
    corrupt = [(r, f) for r, f in zip(accepted, full, strict=True) if f]
    bad = Counter(str(r["schema_id"]) for r, _ in corrupt)
    generated = generated_table(version, recipe, rows, catalog, verdicts)
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
        # every named schema, zeros included, so the keys are the same in every version and revision
        "corrupt_by_schema": {sid: bad.get(sid, 0) for sid in sorted(catalog) if not catalog[sid].topic},
        "rows_by_schema": {sid: n for sid, n in sorted(counts.items()) if sid not in catalog or not catalog[sid].topic},
        # the generated training schemas (stages/tasks/edgejson/templates/synth.py), summed
        "generated_schemas": sum(1 for e in catalog.values() if e.topic),
        "generated_schema_rows": sum(n for sid, n in counts.items() if sid in catalog and catalog[sid].topic),
        "generated_schema_corrupt_rows": sum(n for sid, n in bad.items() if sid in catalog and catalog[sid].topic),
        "rows_by_tier": {t: tiers.get(t, 0) for t in TIERS},
        # What GX's first validation compares with `mostly`: the share of generated rows (first
        # attempts, before quarantine) that fail each check.
        "generated_fail_rate_by_check": {c: round(float(1.0 - generated.frame[c].mean()), 6) if len(rows) else 0.0 for c in frame_checks(suite)},
        "generated_mostly": mostly(recipe),
    }
    # The five-level validator over every generated row, template or teacher (before any
    # regeneration): pass rates per level, per source and per schema.
    quality["levels"] = level_rates(rows, five_levels(rows, catalog, bounds))
    quality["rows_by_source"] = dict(sorted(Counter(str(r.get("source", "template")) for r in accepted).items()))
    result = GateResult(accepted, quarantine, quality)
    tables = [generated, accepted_table(version, recipe, accepted, catalog, registers)]
    result.failed_expectations, result.expectations = run_gx(version, tables, source_name=NAME)
    if quality["reject_rate"] > recipe.max_reject_rate:
        result.failed_expectations.append(f"reject rate {quality['reject_rate']:.3f} exceeds the recipe's limit {recipe.max_reject_rate}")
    quality["gate_passed"] = result.passed
    quality["gate_failed_expectations"] = len(result.failed_expectations)
    quality["expectations_evaluated"] = len(result.expectations)
    quality["expectations_failed"] = sum(1 for ok in result.expectations.values() if not ok)
    return result


def generated_table(
    version: str, recipe: Recipe, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], verdicts: list[dict[str, str]] | None = None
) -> Table:
    """GX's first table: every generated row; `verdicts` are the row checks each fails (computed if None)."""
    suite = SUITES[recipe.suite]
    if verdicts is None:
        bounds = (recipe.prompt_chars[0], recipe.prompt_chars[1])
        verdicts = [row_failures(r, entry_of(r, catalog), bounds, suite) for r in rows]
    name = f"edgejson_{version}_{recipe.suite}_{GENERATED}"
    return Table(GENERATED, generated_frame(rows, verdicts, suite), name, generated_expectations(suite, catalog, recipe))


def accepted_table(version: str, recipe: Recipe, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], registers: Sequence[str] = ()) -> Table:
    """GX's second table: the accepted rows, judged by expectations GX evaluates itself."""
    suite = SUITES[recipe.suite]
    return Table(ACCEPTED, accepted_frame(rows), f"edgejson_{version}_{recipe.suite}_{ACCEPTED}", accepted_expectations(suite, catalog, recipe, registers))


def frame_checks(suite: tuple[str, ...]) -> list[str]:
    """The checks that become boolean columns of the generated table (unique_id is GX's own)."""
    return [c for c in ROW_CHECKS + ("unique_prompt",) if c in suite]


def generated_frame(rows: list[dict[str, Any]], verdicts: list[dict[str, str]], suite: tuple[str, ...]) -> Any:
    """Every generated row with one boolean column per check of `suite` (True: the row passes it)."""
    import pandas as pd

    later_copies = set_failures(rows, ("unique_prompt",))
    data: dict[str, list[Any]] = {
        "id": [str(r.get("id")) for r in rows],
        "schema_id": [str(r.get("schema_id")) for r in rows],
    }
    for check in frame_checks(suite):
        if check == "unique_prompt":
            data[check] = [not f for f in later_copies]
        else:
            data[check] = [check not in v for v in verdicts]
    return pd.DataFrame(data)


def generated_expectations(suite: tuple[str, ...], catalog: dict[str, SchemaEntry], recipe: Recipe) -> list[Any]:
    """Over every generated row: each check with the recipe's tolerance; duplicate ids and unknown schemas never."""
    import great_expectations as gx

    E = gx.expectations
    s: list[Any] = []
    tolerance = mostly(recipe)
    # What each column checks (a failing row is quarantined, so a share of them is tolerated):
    what = {
        "parses": "the expected output parses as a JSON object",
        "schema_valid": "it validates against its schema, format checking on",
        "grounded": "every leaf value appears in the prompt (numbers and dates normalised)",
        "arithmetic": "line totals, subtotal, total and counts are consistent",
        "dates_in_order": "dates are in order (start before end, issue before due, ...)",
        "prompt_length": f"the prompt has {recipe.prompt_chars[0]}..{recipe.prompt_chars[1]} characters",
        "unique_prompt": "no prompt repeats an earlier one (after normalisation)",
        "clean_labels": "no label in the text doubles a word ('merchant merchant name')",
    }
    for check in frame_checks(suite):
        s.append(E.ExpectColumnValuesToBeInSet(column=check, value_set=[True], mostly=tolerance, **_named(f"{GENERATED}.{check}", what[check])))
    # Never: two generated rows with one id (regeneration keys its slots by id), or a schema id the catalog lacks.
    if "unique_id" in suite:
        s.append(E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{GENERATED}.unique_id", "every row has its own id")))
    s.append(
        E.ExpectColumnValuesToBeInSet(
            column="schema_id", value_set=sorted(catalog),
            **_named(f"{GENERATED}.schema_id_in_set", "every schema id is in the catalog"),
        )
    )
    return s


def accepted_frame(rows: list[dict[str, Any]]) -> Any:
    """The accepted rows as GX reads them: fields as text, expected_output as a JSON document."""
    import pandas as pd

    def as_json(value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    def text(row: dict[str, Any], key: str) -> str:
        return str(row.get(key))  # a missing field reads "None", which no value set holds

    return pd.DataFrame(
        {
            "id": [text(r, "id") for r in rows],
            "schema_id": [text(r, "schema_id") for r in rows],
            "complexity": [text(r, "complexity") for r in rows],
            "surface": [text(r, "surface") for r in rows],
            "source": [text(r, "source") for r in rows],
            "prompt": [r["prompt"] if isinstance(r.get("prompt"), str) else "" for r in rows],
            "prompt_norm": [normalise_prompt(str(r.get("prompt", ""))) for r in rows],
            "expected_output": [as_json(r.get("expected_output")) for r in rows],
            # a row and its schema id in one document, for the one expectation over generated schemas
            "keyed_output": [as_json({"schema_id": r.get("schema_id"), "output": r.get("expected_output")}) for r in rows],
        }
    )


GENERATED_CHUNK = 4  # generated schemas per JSON Schema expectation


def accepted_expectations(suite: tuple[str, ...], catalog: dict[str, SchemaEntry], recipe: Recipe, registers: Sequence[str] = ()) -> list[Any]:
    """Over the accepted rows: properties GX evaluates itself, none of them a Python verdict."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    s: list[Any] = []
    schema_id = Column(name="schema_id")
    named = {sid: e for sid, e in catalog.items() if not e.topic}
    generated = {sid: e for sid, e in catalog.items() if e.topic}
    if "schema_valid" in suite and generated:
        # Hundreds of generated schemas: one expectation per chunk of them, whose JSON Schema holds
        # each under an if/then on the row's schema id (GX evaluates it; no Python verdict is copied
        # in). GX meta-checks the whole schema for every row, so chunks stay small, and the wrapper
        # is draft-07 (the generator uses nothing newer), whose metaschema checks ~5x faster.
        ids = sorted(generated)
        for n in range(0, len(ids), GENERATED_CHUNK):
            chunk = ids[n : n + GENERATED_CHUNK]
            keyed = {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "required": ["schema_id", "output"],
                "allOf": [
                    {"if": {"properties": {"schema_id": {"const": sid}}}, "then": {"properties": {"output": {k: v for k, v in generated[sid].schema.items() if k != "$schema"}}}}
                    for sid in chunk
                ],
            }
            s.append(
                E.ExpectColumnValuesToMatchJsonSchema(
                    column="keyed_output", json_schema=keyed, row_condition=schema_id.is_in(chunk),
                    **_named(f"{ACCEPTED}.schema_valid.generated.{n // GENERATED_CHUNK:02d}", f"every answer of generated schemas {chunk[0]}..{chunk[-1]} validates against its schema"),
                )
            )
    if "schema_valid" in suite:
        for sid, entry in sorted(named.items()):
            s.append(
                E.ExpectColumnValuesToMatchJsonSchema(
                    column="expected_output", json_schema=entry.schema, row_condition=schema_id == sid,
                    **_named(f"{ACCEPTED}.schema_valid.{sid}", f"every {sid} answer validates against {entry.path.name}"),
                )
            )
    if "unique_id" in suite:
        s.append(E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{ACCEPTED}.unique_id", "ids are unique")))
    if "unique_prompt" in suite:
        s.append(E.ExpectColumnValuesToBeUnique(column="prompt_norm", **_named(f"{ACCEPTED}.unique_prompt", "no two prompts are the same after normalisation")))
    if "prompt_length" in suite:
        lo, hi = recipe.prompt_chars[0], recipe.prompt_chars[1]
        s.append(
            E.ExpectColumnValueLengthsToBeBetween(
                column="prompt", min_value=lo, max_value=hi,
                **_named(f"{ACCEPTED}.prompt_length", f"prompts have {lo}..{hi} characters"),
            )
        )
    tiers = {sid: e.tier for sid, e in catalog.items() if e.tier}
    s.append(
        E.ExpectColumnValuesToBeInSet(
            column="schema_id", value_set=sorted(catalog),
            **_named(f"{ACCEPTED}.schema_id_in_set", "schema ids are in the catalog"),
        )
    )
    if tiers:
        s.append(
            E.ExpectColumnValuesToBeInSet(
                column="complexity", value_set=sorted(set(tiers.values())),
                **_named(f"{ACCEPTED}.complexity_in_set", "complexity is a tier"),
            )
        )
        s.append(
            E.ExpectColumnPairValuesToBeInSet(
                column_A="schema_id", column_B="complexity", value_pairs_set=sorted(tiers.items()),
                description="Each row's complexity must be the tier of its schema (the folder it sits in under schemas/).",
                **_named(f"{ACCEPTED}.complexity_matches_schema", "complexity is the tier of the row's schema"),
            )
        )
    surfaces = sorted(set(recipe.surfaces) | set(registers))
    s.append(
        E.ExpectColumnValuesToBeInSet(
            column="surface", value_set=surfaces,
            **_named(f"{ACCEPTED}.surface_in_set", "surface is a recipe surface or a teacher register"),
        )
    )
    s.append(E.ExpectColumnValuesToBeInSet(column="source", value_set=list(SOURCES), **_named(f"{ACCEPTED}.source_in_set", "source is template or teacher")))
    # Coverage: every schema and every tier present, each schema with at least its minimum count.
    s.append(
        E.ExpectColumnDistinctValuesToContainSet(
            column="schema_id", value_set=sorted(catalog),
            **_named(f"{ACCEPTED}.coverage_schemas", "every schema is present"),
        )
    )
    if tiers:
        s.append(
            E.ExpectColumnDistinctValuesToContainSet(
                column="complexity", value_set=sorted(set(tiers.values())), **_named(f"{ACCEPTED}.coverage_tiers", "every tier is present")
            )
        )
    for sid in sorted(named):  # generated schemas have a few rows each; coverage_schemas asks each for one
        s.append(
            E.ExpectTableRowCountToBeBetween(
                min_value=recipe.min_per_schema, row_condition=schema_id == sid,
                # GX's own wording of a table expectation leaves its row condition out
                description=f"Must have at least {recipe.min_per_schema} rows with schema_id {sid}.",
                **_named(f"{ACCEPTED}.coverage_min_per_schema.{sid}", f"{sid} has at least {recipe.min_per_schema} rows"),
            )
        )
    return s


@dataclass(frozen=True)
class GatePlan:
    """What the gate reads from params: the version's recipe (checked against the code), the named
    schemas' folder and the teacher's registers."""

    recipe: Recipe
    schemas_dir: str
    registers: tuple[str, ...]


def recipe(p: Params, name: str) -> GatePlan:
    """The `recipe` part of the validate stage: version `name`'s recipe, its generator, suite and
    surfaces checked against the code (stages.tasks.edgejson.recipes)."""
    return GatePlan(checked_recipe(p, name), p.schemas_dir, tuple(p.teacher.registers))


def gate(name: str, plan: GatePlan, inp: Path, schemas: Path | None, run_gx: RunGX) -> GateResult:
    """The `gate` part: version `name`'s generated rows `inp` against the named schemas and the
    version's generated ones (`schemas`, the stage's --constraint: generate --schemas-out), which
    are checked like the named ones. gate.json, the verdict in words, goes beside quality.json."""
    catalog = with_generated(load_catalog(Path(plan.schemas_dir)), schemas)
    rows = read_rows(inp)
    result = run(name, plan.recipe, rows, catalog, run_gx, registers=plan.registers)
    result.files["gate.json"] = {
        "version": name, "suite": plan.recipe.suite, "checks": list(SUITES[plan.recipe.suite]), "passed": result.passed,
        "failed_expectations": list(result.failed_expectations), "expectations": result.expectations,
    }  # fmt: skip
    return result
