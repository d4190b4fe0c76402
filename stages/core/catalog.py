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

from stages.core.errors import SLMBenchError

TIERS = ("simple", "medium", "complex")


@dataclass(frozen=True)
class SchemaEntry:
    schema_id: str
    tier: str | None  # None when the schema sits outside a tier folder (external catalogs)
    path: Path
    schema: dict[str, Any] = field(repr=False, hash=False, compare=False)
    topic: str = ""  # a generated schema's topic words ("library loan"); "" for a named schema

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


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: malformed {what} JSON: {exc.msg}") from None
    except OSError as exc:
        raise SLMBenchError(f"{path}: cannot read {what}: {exc.strerror}") from None


def _meta_validate(schema: dict[str, Any], where: str) -> None:
    """Check `schema` against the metaschema its `$schema` names (2020-12 by default)."""
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "<root>"
        raise SLMBenchError(f"{where}: not a valid JSON Schema at {at}: {exc.message[:160]}") from None


def load_schema(path: Path, tier: str | None) -> SchemaEntry:
    """Read, parse and meta-validate one schema file, with a one-line error naming the file."""
    schema = _read_json(path, "schema")
    if not isinstance(schema, dict):
        raise SLMBenchError(f"{path}: expected a JSON object as the schema, got {type(schema).__name__}")
    _meta_validate(schema, str(path))
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


def load_generated(path: Path) -> dict[str, SchemaEntry]:
    """The generated schemas a dataset version trains on (`data/<v>/generated_schemas.json`, written by
    the generate stage), each meta-validated, with a one-line error naming the file and schema."""
    path = Path(path)
    doc = _read_json(path, "generated schemas")
    items = doc.get("schemas") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SLMBenchError(f"{path}: expected an object with a 'schemas' list")
    out: dict[str, SchemaEntry] = {}
    for n, item in enumerate(items):
        where = f"{path}: schemas[{n}]"
        ok = isinstance(item, dict) and isinstance(item.get("schema_id"), str) and item.get("tier") in TIERS and isinstance(item.get("schema"), dict)
        if not ok:
            raise SLMBenchError(f"{where}: expected schema_id, tier ({', '.join(TIERS)}), topic and schema")
        schema = item["schema"]
        _meta_validate(schema, f"{where} ({item['schema_id']})")
        if item["schema_id"] in out:
            raise SLMBenchError(f"{where}: duplicate schema id {item['schema_id']!r}")
        out[item["schema_id"]] = SchemaEntry(item["schema_id"], item["tier"], path, schema, str(item.get("topic", "")))
    return out


def with_generated(catalog: dict[str, SchemaEntry], path: Path | None) -> dict[str, SchemaEntry]:
    """The named catalog plus a version's generated schemas (none when `path` is None)."""
    if path is None:
        return catalog
    extra = load_generated(path)
    clash = sorted(set(extra) & set(catalog))
    if clash:
        raise SLMBenchError(f"{path}: generated schema id {clash[0]!r} is also a named schema")
    return {**catalog, **extra}


def entry_of(row: dict[str, Any], catalog: dict[str, SchemaEntry], required: bool = False) -> SchemaEntry | None:
    """The schema a row names: the one lookup every stage uses. A miss is None (a data check then
    fails the row), or with `required` a one-line error naming the row and its schema id."""
    sid = str(row.get("schema_id"))
    entry = catalog.get(sid)
    if entry is None and required:
        raise SLMBenchError(f"row {row.get('id')}: no schema {sid!r} in the schema directory or the version's generated schemas")
    return entry
