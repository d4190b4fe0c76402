"""Discover the JSON Schemas: `schemas/<tier>/<name>.json`; the folder gives the tier.

Each schema is checked against the metaschema its `$schema` names (2020-12 by default),
so schemas from elsewhere (draft-07, say) validate with their own validator class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from stages.errors import SLMBenchError

TIERS = ("simple", "medium", "complex")


@dataclass(frozen=True)
class SchemaEntry:
    schema_id: str
    tier: str | None  # None when the schema sits outside a tier folder (external catalogs)
    path: Path
    schema: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @cached_property
    def validator(self) -> Validator:
        cls = jsonschema.validators.validator_for(self.schema, default=jsonschema.Draft202012Validator)
        return cls(self.schema, format_checker=cls.FORMAT_CHECKER)

    def errors(self, instance: Any) -> list[str]:
        """Every schema violation of `instance`, format checking on, as short strings."""
        out = []
        for err in self.validator.iter_errors(instance):
            where = "/".join(str(p) for p in err.absolute_path) or "<root>"
            out.append(f"{where}: {err.message[:200]}")
        return sorted(out)

    def compact(self) -> str:
        """The schema rendered small, for a model's prompt: titles and descriptions dropped."""
        return json.dumps(_strip_docs(self.schema), separators=(",", ":"), sort_keys=True)


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip_docs(v)
            for k, v in node.items()
            if k not in {"$schema", "$id", "title", "description", "examples", "$comment"}
            and not k.startswith("x-")
        }
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def load_schema(path: Path, tier: str | None) -> SchemaEntry:
    """Read, parse and meta-validate one schema file, with a one-line error naming the file."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: malformed schema JSON: {exc.msg}") from None
    except OSError as exc:
        raise SLMBenchError(f"{path}: cannot read schema: {exc.strerror}") from None
    if not isinstance(schema, dict):
        raise SLMBenchError(f"{path}: expected a JSON object as the schema, got {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "<root>"
        raise SLMBenchError(f"{path}: not a valid JSON Schema at {where}: {exc.message[:160]}") from None
    return SchemaEntry(schema_id=path.stem, tier=tier, path=path, schema=schema)


def load_catalog(root: Path) -> dict[str, SchemaEntry]:
    """All schemas under `root`, by id. Tier folders are used when present; else files directly."""
    root = Path(root)
    if not root.is_dir():
        raise SLMBenchError(f"{root}: schema directory not found")
    entries: dict[str, SchemaEntry] = {}
    files = [(p, p.parent.name if p.parent.name in TIERS else None) for p in sorted(root.rglob("*.json"))]
    for path, tier in files:
        entry = load_schema(path, tier)
        if entry.schema_id in entries:
            raise SLMBenchError(f"{path}: duplicate schema id {entry.schema_id!r} (also {entries[entry.schema_id].path})")
        entries[entry.schema_id] = entry
    if not entries:
        raise SLMBenchError(f"{root}: no *.json schemas found")
    return entries
