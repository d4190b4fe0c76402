"""Constrained decoding: grammars from every schema run in real llama.cpp, and training answers
use the key order those grammars force."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stages.models import answer_text, embedded_gguf, key_order
from stages.runtime import grammar_pattern, grammar_schema


def _root_kv_order(gbnf: str) -> list[str]:
    root = next(line for line in gbnf.splitlines() if line.startswith("root ::="))
    return re.findall(r"([A-Za-z0-9-]+)-kv", root)


def test_answers_use_the_key_order_the_grammar_forces(catalog: dict[str, Any]) -> None:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    for sid, entry in catalog.items():
        gbnf = json_schema_to_gbnf(json.dumps(grammar_schema(entry.schema, True)))
        required = [k for k in key_order(entry.schema) if k in entry.schema.get("required", [])]
        assert _root_kv_order(gbnf)[: len(required)] == [k.replace("_", "-") for k in required], sid


def test_answer_text_reorders_nested_objects_and_keeps_values() -> None:
    schema = {
        "type": "object",
        "required": ["b", "a"],
        "properties": {"z": {"type": "string"}, "b": {"type": "array", "items": {"type": "object", "required": ["x", "y"], "properties": {"y": {}, "x": {}}}}, "a": {"type": "integer"}},
    }
    expected = {"a": 1, "b": [{"x": 1, "y": 2}], "z": "s", "extra": True}
    text = answer_text(expected, schema)
    assert text == '{"b":[{"y":2,"x":1}],"a":1,"z":"s","extra":true}'
    assert json.loads(text) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^[0-9]+\.[0-9]+$", "^[0-9]+[.][0-9]+$"),
        (r"^[A-Z](\.[0-9]{1,4})?$", "^[A-Z]([.][0-9]{1,4})?$"),
        (r"^\+1-[0-9]{3}$", r"^\+1-[0-9]{3}$"),  # the builder handles \+ itself
        (r"^[a-z\.\-]+$", r"^[a-z.\-]+$"),  # inside a class: \. loses its backslash, \- stays a literal dash
    ],
)
def test_grammar_pattern_rewrites_escapes_gbnf_rejects(pattern: str, expected: str) -> None:
    assert grammar_pattern(pattern) == expected
    assert re.fullmatch(expected, "1.5") is not None or re.fullmatch(pattern, "1.5") is None


def test_grammar_schema_keeps_property_names_that_look_like_keywords() -> None:
    schema = {"type": "object", "properties": {"format": {"type": "string", "format": "email"}, "pattern": {"type": "string", "pattern": r"^a\.b$"}, "when": {"type": "string", "format": "date"}}}
    g = grammar_schema(schema, True)
    assert set(g["properties"]) == {"format", "pattern", "when"}
    assert "format" not in g["properties"]["format"], "email has no llama.cpp grammar rule"
    assert g["properties"]["when"]["format"] == "date" and g["properties"]["pattern"]["pattern"] == "^a[.]b$"
    loose = grammar_schema(schema, False)
    assert "format" not in loose["properties"]["when"] and "pattern" not in loose["properties"]["pattern"]


def test_every_schema_grammar_runs_in_llama_cpp(catalog: dict[str, Any]) -> None:
    """A grammar llama.cpp cannot parse crashes the process at the first sampled token, so each
    schema's enforced grammar runs in the isolated worker on the real embedded model."""
    from stages.evaluate import generate_isolated

    ids = sorted(catalog)
    schemas = [grammar_schema(catalog[s].schema, True) for s in ids]
    prompts = [f"<|im_start|>user\nExtract {s} as JSON.<|im_end|>\n<|im_start|>assistant\n" for s in ids]
    gens, info = generate_isolated("gguf", Path(embedded_gguf("smollm2-135m-instruct")), prompts, schemas, 24, 2, 1024, 1)
    assert info.get("crashes", 0) == 0
    assert [g["finish"] for g in gens if g["finish"] not in ("stop", "length")] == []
    for sid, g in zip(ids, gens):
        assert g["text"].lstrip().startswith("{"), (sid, g["text"])


def test_formats_llama_cpp_lacks_become_patterns_and_small_integer_ranges_enums() -> None:
    import jsonschema

    schema = {
        "type": "object",
        "properties": {
            "mail": {"type": "string", "format": "email"},
            "ip": {"type": "string", "format": "ipv4"},
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "big": {"type": "integer", "minimum": 0, "maximum": 100000},
        },
    }
    g = grammar_schema(schema, True)["properties"]
    assert g["stars"]["enum"] == [1, 2, 3, 4, 5] and "enum" not in g["big"]
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for fmt, good, bad in (("email", ["ana.b+x@mail.example.org"], ["ana", "a@b", "@x.org"]), ("ipv4", ["10.0.255.1", "192.168.1.20"], ["256.1.1.1", "1.2.3", "01.2.3.4"])):
        pattern = g["mail" if fmt == "email" else "ip"]["pattern"]
        for v in good:
            assert re.fullmatch(pattern, v) and checker.conforms(v, fmt), (fmt, v)
        for v in bad:
            assert not re.fullmatch(pattern, v), (fmt, v)
    assert "pattern" not in grammar_schema(schema, False)["properties"]["mail"]
