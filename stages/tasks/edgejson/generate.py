"""`slmbench generate --version v3 --out data/v3/generated.jsonl`: Faker rows for one dataset version.

Rows for every schema in the catalog, `rows_per_schema` each, in a fixed order, so the same
params give a byte-identical file. With a teacher (`teacher.backend` vllm or openai), rows are
offered to the teacher in a fixed order (a hash of the row id), in waves sized by the pass rate so
far, until `teacher_fraction` of the version's rows have teacher text or `teacher_max_sent` of
them have been offered. The teacher rewrites a row's text in a register (email, chat, note,
report); the record (`expected_output`) is never taken from the teacher. A paraphrase is kept
only if the five-level validator passes it (L1-L4 per row, L5 across the version); otherwise the row keeps its template text, and the reason is
counted in `metrics/datasets/<v>/teacher.json` and logged per row.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tqdm import tqdm

from stages.core.catalog import SchemaEntry, entry_of
from stages.core.errors import SLMBenchError
from stages.core.params import Recipe, TeacherParams
from stages.tasks.edgejson.checks import prompt_text, row_levels
from stages.tasks.edgejson.templates.rows import RowMaker


def run(
    version: str, recipe: Recipe, catalog: dict[str, SchemaEntry], progress: bool = True, generated: dict[str, SchemaEntry] | None = None
) -> list[dict[str, Any]]:
    """`rows_per_schema` rows per named schema, then `schema_generator.rows_per_schema` per generated one."""
    maker = RowMaker(version, recipe.seed, recipe.generator, recipe.surfaces)
    slots = [(catalog[sid], i) for sid in sorted(catalog) for i in range(recipe.rows_per_schema)]
    slots += [(e, i) for e in (generated or {}).values() for i in range(recipe.schema_generator.rows_per_schema)]
    return [maker.make(entry, i) for entry, i in tqdm(slots, desc=f"generate {version}", unit="row", disable=not progress)]


def generated_schemas(version: str, recipe: Recipe, catalog: dict[str, SchemaEntry]) -> dict[str, Any]:
    """The version's generated training schemas (stages/tasks/edgejson/templates/synth.py) as written to
    `data/<v>/generated_schemas.json`: none unless the recipe sets `schema_generator.schemas`.
    No generated key shares its words with a key of the named catalog."""
    from stages.tasks.edgejson.templates.synth import generate_schemas, reserved_keys

    g = recipe.schema_generator
    where = f"datasets.{version}.schema_generator"
    if g.rows_per_schema < 1:
        raise SLMBenchError(f"params.yaml: {where}.rows_per_schema: expected a positive row count per generated schema, got {g.rows_per_schema}")
    items = generate_schemas(recipe.seed, g.schemas, g.styles, g.tiers, reserved_keys([e.schema for e in catalog.values()]), where)
    return {"version": version, "count": len(items), "rows_per_schema": g.rows_per_schema, "schemas": items}


ERROR_KINDS = (("timeout", "timeout"), ("unreachable", "server_unreachable"), ("HTTP", "server_error"), ("exceeds max_model_len", "too_long"), ("empty answer", "empty_answer"))


def _error_kind(error: str) -> str:
    """The fallback-reason bucket of a failed teacher call."""
    return next((kind for needle, kind in ERROR_KINDS if needle in error), "teacher_error")


MIN_WAVE_RATE = 0.05  # sizing later waves, a pass rate below this counts as this


@dataclass
class _Waves:
    """What the teacher waves of one version share: the rows, their routes and registers, the
    backends and cache, and the running tallies the metrics are built from."""

    rows: list[dict[str, Any]]
    version: str
    recipe: Recipe
    tp: TeacherParams
    catalog: dict[str, SchemaEntry]
    backends: dict[str, Any]
    cache: Any
    progress: bool
    out: list[dict[str, Any]] = field(init=False)  # rows, with the accepted paraphrases swapped in
    bounds: tuple[int, int] = field(init=False)  # the recipe's prompt length bounds
    routes: dict[int, str] = field(default_factory=dict)  # row index -> teacher name, for the rows that may be offered
    log: dict[int, dict[str, Any]] = field(default_factory=dict)
    level_fails: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    used_keys: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.out = list(self.rows)
        self.bounds = (self.recipe.prompt_chars[0], self.recipe.prompt_chars[1])

    def send(self, wave: list[int], wave_no: int) -> None:
        """Up to `tp.attempts` tries per row of one wave; a paraphrase that passes L1-L4 replaces the row's text in `out`."""
        from stages.inference.teacher import call_cached, derived_seed, request_prompt, stable_unit

        rows, tp, pending = self.rows, self.tp, wave
        registers = {i: tp.registers[int(stable_unit(self.recipe.seed, "register", rows[i]["id"]) * len(tp.registers))] for i in wave}
        for attempt in range(tp.attempts):
            if not pending:
                break
            bar = tqdm(total=len(pending), desc=f"teacher {self.version} wave {wave_no} try {attempt + 1}", unit="row", disable=not self.progress)
            groups: dict[str, list[int]] = {}
            for i in pending:
                groups.setdefault(self.routes[i], []).append(i)
            still: list[int] = []
            for name, idx in sorted(groups.items()):
                prompts = [request_prompt(prompt_text(rows[i]["prompt"]), registers[i]) for i in idx]
                samplings = [{"temperature": tp.temperature, "top_p": tp.top_p, "max_tokens": tp.max_tokens, "seed": derived_seed(tp.seed, rows[i]["id"], attempt)} for i in idx]
                misses_before = self.cache.misses
                results, keys = call_cached(self.backends[name], self.cache, prompts, samplings, bar.update)
                self.counts["calls"] += self.cache.misses - misses_before
                for i, res, key in zip(idx, results, keys):
                    entry = self.log.setdefault(i, {"id": rows[i]["id"], "teacher": name, "register": registers[i], "attempts": 0})
                    entry["attempts"] = attempt + 1
                    if res.text is None:
                        entry["reason"] = res.error
                        if "unreachable" not in str(res.error):  # a server that is down stays down
                            still.append(i)
                        continue
                    self.used_keys.add(key)
                    if self._judge(i, res.text, registers[i], entry):
                        still.append(i)
                    self.counts["tokens"] += 0 if res.cached else res.tokens
            pending = still
            bar.close()

    def _judge(self, i: int, text: str, register: str, entry: dict[str, Any]) -> bool:
        """Check one paraphrase with L1-L4; keep it in `out` if it passes. True when it failed."""
        self.counts["candidates"] += 1
        instruction = self.rows[i]["prompt"].split("\n\n", 1)[0]
        cand = dict(self.rows[i], prompt=instruction + "\n\n" + text.strip(), source="teacher", surface=register)
        fails = row_levels(cand, entry_of(self.rows[i], self.catalog), self.bounds)
        self.level_fails.update(fails.keys())
        if fails:
            lvl, why = next(iter(fails.items()))
            entry["reason"] = f"{lvl}: {why}"
            return True
        self.counts["passed"] += 1
        self.out[i] = cand
        entry.pop("reason", None)
        return False


def paraphrase(rows: list[dict[str, Any]], version: str, recipe: Recipe, tp: TeacherParams, catalog: dict[str, SchemaEntry], cache_path: Path | None, progress: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """(rows with accepted paraphrases, teacher metrics, per-row log). Pure given the cache."""
    from stages.inference.teacher import Cache, build_backend, route, stable_unit
    from stages.tasks.edgejson.checks import LEVELS, five_levels

    stats: dict[str, Any] = {"enabled": int(tp.backend != "none"), "fraction": recipe.teacher_fraction, "rows": len(rows)}
    if tp.backend == "none" or recipe.teacher_fraction <= 0:
        return rows, stats | {"rows_sent": 0, "teacher_rows": 0, "teacher_share": 0.0}, []
    # Rows are offered in a fixed order (a hash of seed and row id), in waves, until the target
    # share of teacher rows is met or `teacher_max_sent` of the rows have been offered.
    order = sorted(range(len(rows)), key=lambda i: (stable_unit(recipe.seed, "teacher", rows[i]["id"]), i))
    target = round(recipe.teacher_fraction * len(rows))
    cap = max(target, round(recipe.teacher_max_sent * len(rows)))
    cache = Cache(cache_path)
    start = time.perf_counter()
    selected: list[int] = []
    waves = 0
    with tempfile.TemporaryDirectory(prefix="teacher-model-") as work:
        # Every teacher a row may route to is checked before any call (bad settings fail here).
        routes = {i: route(rows[i]["schema_id"], str(rows[i].get("complexity")), tp.routes) for i in order[:cap]}
        backends = {name: build_backend(name, SimpleNamespace(**vars(tp.resolve(name)), **vars(tp.vllm), **vars(tp.openai)), Path(work)) for name in sorted(set(routes.values()))}
        w = _Waves(rows, version, recipe, tp, catalog, backends, cache, progress, routes=routes)
        while len(selected) < cap:
            kept = sum(1 for i in selected if w.out[i]["source"] == "teacher")
            if kept >= target:
                break
            rate = kept / len(selected) if selected else 1.0  # the first wave assumes every row passes
            size = min(cap - len(selected), max(1, math.ceil((target - kept) / max(rate, MIN_WAVE_RATE))))
            wave = order[len(selected) : len(selected) + size]
            selected += wave
            waves += 1
            w.send(wave, waves)
    out, log, level_fails, counts, reasons = w.out, w.log, w.level_fails, w.counts, Counter[str]()
    # L5 across the version: a paraphrase that repeats another row's text goes back to its template.
    for i, fails in enumerate(five_levels(out, catalog, w.bounds)):
        if out[i]["source"] == "teacher" and "L5_uniqueness" in fails:
            out[i] = rows[i]
            log[i]["reason"] = f"L5_uniqueness: {fails['L5_uniqueness']}"
            level_fails["L5_uniqueness"] += 1
            counts["passed"] -= 1
    for i in selected:
        entry = log.get(i, {"id": rows[i]["id"], "reason": "not attempted"})
        entry["outcome"] = "teacher" if out[i]["source"] == "teacher" else "template fallback"
        if entry["outcome"] != "teacher":
            reason = str(entry.get("reason", "unknown"))
            reasons[reason.split(":", 1)[0] if reason.startswith("L") else _error_kind(reason)] += 1
        log[i] = entry
    wall = time.perf_counter() - start
    teacher_rows = sum(1 for r in out if r["source"] == "teacher")
    cache.save(keep=w.used_keys)
    candidates = counts["candidates"]
    stats.update(
        target_rows=target,
        max_sent=cap,
        waves=waves,
        rows_sent=len(selected),
        teacher_rows=teacher_rows,
        teacher_share=round(teacher_rows / max(1, len(rows)), 6),
        fallbacks=len(selected) - teacher_rows,
        fallback_reasons={k: reasons.get(k, 0) for k in sorted(set(reasons) | set(LEVELS))},
        candidates=candidates,
        candidates_passed=counts["passed"],
        candidate_pass_rate=round(counts["passed"] / max(1, candidates), 6),
        candidate_level_pass_rate={lvl: round(1 - level_fails.get(lvl, 0) / max(1, candidates), 6) for lvl in LEVELS},
        calls=counts["calls"],
        cache_hits=cache.hits,
        new_tokens=counts["tokens"],
        seconds=round(wall, 2),
    )
    return out, stats, [log[i] for i in sorted(log)]


def main(
    version: str, params_path: Path, out: Path, teacher_metrics: Path | None = None, teacher_log: Path | None = None, cache: Path | None = None,
    schemas_out: Path | None = None,
) -> int:
    """`schemas_out`: where the generated schemas go (always written, an empty list when the recipe asks for none)."""
    from stages.core import params as P
    from stages.core.catalog import load_catalog, load_generated
    from stages.core.records import write_json, write_rows
    from stages.inference.teacher import check_params
    from stages.tasks.edgejson.recipes import recipe as checked_recipe

    p = P.load(params_path)
    recipe = checked_recipe(p, version)
    check_params(p.teacher)
    catalog = load_catalog(Path(p.schemas_dir))
    generated: dict[str, SchemaEntry] = {}
    if recipe.schema_generator.schemas and schemas_out is None:
        raise SLMBenchError(f"params.yaml: datasets.{version}.schema_generator.schemas: generated schemas need --schemas-out, the file later stages read them from")
    if schemas_out is not None:
        write_json(schemas_out, generated_schemas(version, recipe, catalog))
        generated = load_generated(schemas_out)  # meta-validated as every later stage will read them
    rows = run(version, recipe, catalog, generated=generated)
    rows, stats, log = paraphrase(rows, version, recipe, p.teacher, {**catalog, **generated}, cache)
    if cache is not None and not Path(cache).exists():
        from stages.inference.teacher import Cache

        Cache(cache).save()  # an empty cache: the stage always has its outputs
    if teacher_log is not None:
        write_rows(teacher_log, log)
    if teacher_metrics is not None:
        write_json(teacher_metrics, stats)
    return write_rows(out, rows)
