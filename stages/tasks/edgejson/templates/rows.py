"""One EdgeJSON row from a recipe slot: (version, schema, index, attempt) -> row. Pure and seeded.

Shared by `generate` (attempt 0) and `validate` (selective regeneration, attempts 1..n).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from faker import Faker

from stages.core.catalog import SchemaEntry
from stages.core.errors import SLMBenchError
from stages.tasks.edgejson.templates import BUILDERS, SYNONYMS, Ctx
from stages.tasks.edgejson.templates import complex as _complex  # noqa: F401  (imported for their @builder registrations)
from stages.tasks.edgejson.templates import medium as _medium  # noqa: F401
from stages.tasks.edgejson.templates import simple as _simple  # noqa: F401
from stages.tasks.edgejson.templates.render import render
from stages.tasks.edgejson.templates.synth import build_record


def row_seed(seed: int, schema_id: str, index: int, attempt: int) -> int:
    """A 64-bit seed per slot and attempt, stable across Python runs (no `hash()` salt)."""
    digest = hashlib.sha256(f"{seed}:{schema_id}:{index}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def row_id(version: str, schema_id: str, index: int) -> str:
    return f"{version}-{schema_id}-{index:04d}"


def slot_of(row_id_: str) -> int:
    """The index part of a pipeline row id (`v3-invoice-0007` -> 7)."""
    return int(row_id_.rsplit("-", 1)[1])


class RowMaker:
    """Makes rows for one version; holds one Faker, reseeded per row (creating Fakers is slow)."""

    def __init__(self, version: str, seed: int, generator: str, surfaces: list[str]):
        self.version, self.seed, self.generator, self.surfaces = version, seed, generator, surfaces
        self.fake = Faker("en_US")

    def make(self, entry: SchemaEntry, index: int, attempt: int = 0) -> dict[str, Any]:
        """A named schema's row comes from its builder, with the surfaces taken in turn; a generated
        schema's (`entry.topic`, stages/tasks/edgejson/templates/synth.py) from its `x-faker` fields, on a seeded surface."""
        if entry.schema_id not in BUILDERS and not entry.topic:
            raise SLMBenchError(f"{entry.path}: no record builder for schema {entry.schema_id!r} in stages/tasks/edgejson/templates")
        s = row_seed(self.seed, entry.schema_id, index, attempt)
        self.fake.seed_instance(s)
        rng = random.Random(s)
        ctx = Ctx(fake=self.fake, rng=rng, revision=self.generator, schema_id=entry.schema_id)
        if entry.topic:
            record = build_record(ctx, entry.schema)
            surface = rng.choice(self.surfaces)
        else:
            record = BUILDERS[entry.schema_id](ctx)
            surface = self.surfaces[(index + attempt) % len(self.surfaces)]
        what = entry.topic or None
        prompt = render(record, entry.schema_id, surface, SYNONYMS.get(entry.schema_id, {}), rng, dedupe=self.generator != "v2", what=what)
        return {
            "id": row_id(self.version, entry.schema_id, index),
            "schema_id": entry.schema_id,
            "complexity": entry.tier,
            "prompt": prompt,
            "expected_output": record,
            "source": "template",
            "surface": surface,
            "version": self.version,
        }
