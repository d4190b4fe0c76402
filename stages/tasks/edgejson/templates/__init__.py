"""Per-schema Faker record builders and the surface-form renderers.

A builder turns a seeded `Ctx` into one schema-valid record (the ground truth). Builders live
in `simple.py`, `medium.py` and `complex.py` and register themselves with `@builder("<schema_id>")`;
`rows.py`, their one user, imports those three, so this package imports none of its modules (no circle).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faker import Faker

# The finance schemas whose totals the v2 generator revision got wrong (the historical defect).
FINANCE_SCHEMAS = frozenset({"shopping_cart", "invoice", "order_details"})
# Generator revisions: "v2" reproduces the historical derived-totals bug, "v3" is the fix.
REVISIONS = ("v2", "v3")


@dataclass
class Ctx:
    """What a builder may use: a seeded Faker, a seeded RNG, the generator revision, the schema."""

    fake: Faker
    rng: random.Random
    revision: str
    schema_id: str

    @property
    def legacy_totals_bug(self) -> bool:
        """True when this record must carry v2's derived-totals defect."""
        return self.revision == "v2" and self.schema_id in FINANCE_SCHEMAS


Builder = Callable[[Ctx], dict[str, Any]]
BUILDERS: dict[str, Builder] = {}
# schema_id -> key name -> labels a text may use for that key instead of the key itself.
# Keys without an entry are humanised (`unit_price` -> "unit price").
SYNONYMS: dict[str, dict[str, list[str]]] = {}


def builder(schema_id: str, synonyms: dict[str, list[str]] | None = None) -> Callable[[Builder], Builder]:
    """Register `fn` as the record builder for `schema_id`, with its key synonyms."""

    def register(fn: Builder) -> Builder:
        assert schema_id not in BUILDERS, f"two builders for {schema_id}"
        BUILDERS[schema_id] = fn
        SYNONYMS[schema_id] = synonyms or {}
        return fn

    return register
