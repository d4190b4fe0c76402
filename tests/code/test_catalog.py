"""The schema catalog: names, tiers, metaschema validity and the shape rules of each tier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stages.core.catalog import TIERS, load_catalog, load_schema
from stages.core.errors import SLMBenchError

EXPECTED = {
    "simple": [
        "contact_info", "product_info", "sensor_reading", "location", "log_entry",
        "notification", "rating", "tag_list", "user_profile", "simple_config",
    ],
    "medium": [
        "shopping_cart", "invoice", "order_details", "transaction_record", "support_ticket",
        "event_registration", "email_metadata", "api_response", "meeting_notes", "medical_record",
    ],
    "complex": [
        "ecommerce_analytics", "iot_device_network", "medical_encounter", "multi_party_transaction", "nested_organization",
    ],
}


def _objects(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object-typed subschema, with a JSON-pointer-ish path."""
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{path}/{i}")


def _depth(s: dict[str, Any]) -> int:
    """Object nesting depth: a flat object is 1, an object holding an object (or array of them) is 2."""
    if s.get("type") == "object":
        return 1 + max([_depth(v) for v in s.get("properties", {}).values()] + [0])
    if s.get("type") == "array":
        return _depth(s.get("items", {}))
    return 0


def _leaves(s: dict[str, Any]) -> int:
    if s.get("type") == "object":
        return sum(_leaves(v) for v in s["properties"].values())
    if s.get("type") == "array" and s.get("items", {}).get("type") in ("object", "array"):
        return _leaves(s["items"])
    return 1


def _keywords(node: Any) -> Iterator[str]:
    """The formats used, plus 'enum' wherever an enum appears."""
    if isinstance(node, dict):
        if "format" in node:
            yield node["format"]
        if "enum" in node:
            yield "enum"
        for value in node.values():
            yield from _keywords(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keywords(value)


def _is_array_of_objects(s: dict[str, Any]) -> bool:
    return s.get("type") == "array" and s.get("items", {}).get("type") == "object"


def test_catalog_has_at_least_24_schemas_with_tiers_from_folders(catalog):
    assert len(catalog) >= 24
    for sid, entry in catalog.items():
        assert entry.tier in TIERS, sid
        assert entry.path.parent.name == entry.tier
        assert entry.path.stem == sid


def test_the_25_named_schemas_exist_in_their_tiers(catalog):
    for tier, names in EXPECTED.items():
        for name in names:
            assert name in catalog, f"missing schema {name}"
            assert catalog[name].tier == tier, name
    assert sum(len(v) for v in EXPECTED.values()) == 25


def test_every_schema_meta_validates_with_its_own_validator_class(catalog):
    for sid, entry in catalog.items():
        cls = jsonschema.validators.validator_for(entry.schema)
        cls.check_schema(entry.schema)
        assert type(entry.validator) is cls, sid


def test_every_object_level_is_closed_and_has_required(catalog):
    for sid, entry in catalog.items():
        objects = list(_objects(entry.schema))
        assert objects, sid
        for path, obj in objects:
            assert obj.get("additionalProperties") is False, f"{sid} {path}: additionalProperties must be false"
            assert isinstance(obj.get("required"), list) and obj["required"], f"{sid} {path}: needs required"


def test_simple_tier_has_2_to_4_flat_top_level_properties(catalog):
    for name in EXPECTED["simple"]:
        props = catalog[name].schema["properties"]
        assert 2 <= len(props) <= 4, name
        for key, sub in props.items():
            assert sub.get("type") != "object" and not _is_array_of_objects(sub), f"{name}.{key} is nested"


def test_medium_tier_has_4_to_8_properties_with_nesting_or_arrays(catalog):
    for name in EXPECTED["medium"]:
        props = catalog[name].schema["properties"]
        assert 4 <= len(props) <= 8, name
        assert any(sub.get("type") in ("object", "array") for sub in props.values()), f"{name} has no nesting or array"


def test_complex_tier_has_8_leaves_depth_2_and_an_array_of_objects(catalog):
    for name in EXPECTED["complex"]:
        schema = catalog[name].schema
        assert _leaves(schema) >= 8, name
        assert _depth(schema) >= 2, name
        arrays = [sub for _, obj in _objects(schema) for sub in obj.get("properties", {}).values() if _is_array_of_objects(sub)]
        assert arrays, f"{name} has no array of objects"


def test_catalog_uses_date_datetime_email_uuid_and_enums(catalog):
    used = {kw for entry in catalog.values() for kw in _keywords(entry.schema)}
    assert {"date", "date-time", "email", "uuid", "enum"} <= used


def test_draft07_schema_loads_with_draft7_validator(tmp_path: Path):
    # Array-form `items` is draft-07 only: 2020-12's metaschema rejects it, so this also
    # proves the schema is meta-validated by the draft its `$schema` names.
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "required": ["pair"],
        "properties": {"pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}},
    }
    path = tmp_path / "pair.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    entry = load_schema(path, None)
    assert isinstance(entry.validator, jsonschema.Draft7Validator)
    assert entry.errors({"pair": ["a", 1]}) == []
    assert entry.errors({"pair": ["a", "b"]})  # tuple validation is draft-07's
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema({k: v for k, v in schema.items() if k != "$schema"})
    # A folder without tier subfolders still loads; tier is None.
    assert load_catalog(tmp_path)["pair"].tier is None


def test_duplicate_schema_ids_across_folders_are_an_error(tmp_path: Path):
    for tier in ("simple", "medium"):
        (tmp_path / tier).mkdir()
        (tmp_path / tier / "same.json").write_text('{"type": "object"}', encoding="utf-8")
    with pytest.raises(SLMBenchError, match="duplicate schema id"):
        load_catalog(tmp_path)
