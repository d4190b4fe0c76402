"""EdgeJSON's split rule (its `split_rows` part, run by the generic split stage,
stages/pipeline/split.py): a seeded split with held-out schemas and a leak check.

Two test splits:

* **test_unseen** (`test_unseen.jsonl`): every row of `split.unseen_schemas` schemas that
  training never sees, drawn with the split seed and stratified by tier (each tier gives its
  share, at least one schema per tier while the count allows). It measures whether a model
  reads the schema in its prompt rather than remembering the schemas it was trained on.
* **test_seen** (`test.jsonl`): within each remaining schema the rows are shuffled with the
  split seed and the first round(n * test_fraction) go to test (at least one when a schema has
  two or more rows); the rest is `train.jsonl`.

A prompt that is identical, or identical after normalisation, in train and in either test split
is a leak and fails the stage. split.json records which schemas are held out (`by_schema`) and how many of
their field names also occur in a training schema (the 25 named schemas share some generic
names such as `id` or `email`; the share says how unseen the held-out schemas are); the stage
adds `test_sha256`, the SHA-256 of test.jsonl's bytes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.catalog import load_catalog, load_generated
from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.core.records import read_rows, write_rows  # noqa: F401 (the stage's parts: the row reader and writer)
from stages.tasks.edgejson.checks import normalise_prompt

NAME, TITLE = "edgejson", "EdgeJSON"  # the generic split stage's parts (stages/tasks/registry.py), with recipe and split_rows below

Rows = list[dict[str, Any]]


def unseen_schemas(tiers: dict[str, str], count: int, seed: int) -> list[str]:
    """`count` schema ids out of `tiers` (schema id -> tier), stratified by tier and drawn with
    `seed`: each tier's share of `count` by its share of the schemas (largest remainders first),
    at least one per tier while the count allows, and always at least one schema left for
    training in each tier that has more than one."""
    if count < 0:
        raise SLMBenchError(f"params.yaml: split.unseen_schemas: expected 0 or more schemas, got {count}")
    if count >= len(tiers):
        raise SLMBenchError(f"params.yaml: split.unseen_schemas: {count} held out of {len(tiers)} schemas leaves none to train on; expected fewer")
    by_tier: dict[str, list[str]] = defaultdict(list)
    for sid in sorted(tiers):
        by_tier[tiers[sid]].append(sid)
    names = sorted(by_tier)
    exact = {t: count * len(by_tier[t]) / len(tiers) for t in names}
    take = {t: int(exact[t]) for t in names}
    if count >= len(names):
        for t in names:
            take[t] = max(take[t], 1)
    for t in sorted(names, key=lambda t: (-(exact[t] - int(exact[t])), t)):
        if sum(take.values()) >= count:
            break
        take[t] += 1
    while sum(take.values()) > count:  # the at-least-one rule overshot: trim the largest tiers
        t = max(names, key=lambda t: (take[t], t))
        take[t] -= 1
    chosen: list[str] = []
    for t in names:
        pool = list(by_tier[t])
        random.Random(f"{seed}:unseen:{t}").shuffle(pool)
        chosen += pool[: min(take[t], max(0, len(pool) - 1))]
    return sorted(chosen)


def field_names(schema: dict[str, Any]) -> set[str]:
    """Every property name in a JSON Schema, at any depth."""
    out: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                out.update(props)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return out


def run(
    rows: Rows, test_fraction: float, seed: int, unseen_count: int = 0, schemas: dict[str, dict[str, Any]] | None = None, train_only: Rows = ()
) -> tuple[Rows, Rows, Rows, dict[str, Any]]:
    """(train, test_seen, test_unseen, split.json). `schemas` (schema id -> JSON Schema) gives the
    held-out schemas' field names for the overlap figure. `train_only`: rows of generated schemas,
    all in train (they are neither held out nor tested)."""
    by_schema: dict[str, Rows] = defaultdict(list)
    tiers: dict[str, str] = {}
    for row in rows:
        sid = str(row["schema_id"])
        by_schema[sid].append(row)
        tiers.setdefault(sid, str(row.get("complexity", "")))
    held = set(unseen_schemas(tiers, unseen_count, seed)) if unseen_count else set()
    train: Rows = []
    test: Rows = []
    unseen: Rows = []
    per_schema: dict[str, dict[str, int]] = {}
    for sid in sorted(by_schema):
        group = sorted(by_schema[sid], key=lambda r: str(r["id"]))
        if sid in held:
            unseen.extend(group)
            per_schema[sid] = {"train": 0, "test": 0, "test_unseen": len(group)}
            continue
        random.Random(f"{seed}:{sid}").shuffle(group)
        n_test = round(len(group) * test_fraction)
        if len(group) >= 2:
            n_test = min(max(n_test, 1), len(group) - 1)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
        per_schema[sid] = {"train": len(group) - n_test, "test": n_test, "test_unseen": 0}
    train.extend(train_only)
    for part in (train, test, unseen):
        part.sort(key=lambda r: str(r["id"]))
    train_norm = {normalise_prompt(str(r["prompt"])): r["id"] for r in train}
    for name, part in (("test", test), ("test_unseen", unseen)):
        leaks = [(train_norm[n], r["id"]) for r in part if (n := normalise_prompt(str(r["prompt"]))) in train_norm]
        if leaks:
            a, b = leaks[0]
            raise SLMBenchError(f"split leak: {len(leaks)} train prompt(s) also in {name} after normalisation, e.g. {a} and {b}")
    metrics: dict[str, Any] = {
        "train_rows": len(train),
        "test_rows": len(test),
        "test_unseen_rows": len(unseen),
        "test_fraction": round(len(test) / max(1, len(rows) - len(unseen)), 6),
        "unseen_schemas": len(held),
        "leaks": 0,
        "by_schema": per_schema,
    }
    generated = {str(r["schema_id"]) for r in train_only}
    if generated:
        metrics["generated_schemas"] = len(generated)
        metrics["generated_schema_train_rows"] = len(train_only)
    if held and schemas:
        trained = set().union(*(field_names(schemas[s]) for s in set(by_schema) | generated if s not in held and s in schemas))
        names = set().union(*(field_names(schemas[s]) for s in held if s in schemas))
        metrics["unseen_field_names"] = len(names)
        metrics["unseen_field_names_in_train"] = len(names & trained)
    return train, test, unseen, metrics


@dataclass(frozen=True)
class SplitPlan:
    """What the split reads from params: `split` (test share, seed, held-out schema count) and the named schemas' folder."""

    test_fraction: float
    seed: int
    unseen_schemas: int
    schemas_dir: str


def recipe(p: Params, name: str) -> SplitPlan:
    """The `recipe` part of the split stage: the version must be in `datasets`; the rule is `split`'s."""
    P.recipe(p, name)
    return SplitPlan(p.split.test_fraction, p.split.seed, p.split.unseen_schemas, p.schemas_dir)


def split_rows(rows: Rows, plan: SplitPlan, where: str, generated: Path | None = None) -> tuple[dict[str, Rows], dict[str, Any]]:
    """The `split_rows` part: train, test and test_unseen, and split.json's figures. `generated`:
    the version's generated schemas (the stage's --constraint); their rows all go to train."""
    schemas = {sid: e.schema for sid, e in load_catalog(Path(plan.schemas_dir)).items()}
    extra = {sid: e.schema for sid, e in load_generated(generated).items()} if generated is not None else {}
    named = [r for r in rows if r.get("schema_id") not in extra]
    train_only = [r for r in rows if r.get("schema_id") in extra]
    train, test, unseen, metrics = run(named, plan.test_fraction, plan.seed, plan.unseen_schemas, {**schemas, **extra}, train_only)
    return {"train": train, "test": test, "test_unseen": unseen}, metrics
