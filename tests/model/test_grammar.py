"""Constrained decoding: grammars from every schema run in real llama.cpp, and training answers
use the key order those grammars force."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stages.inference.grammar import grammar_pattern, grammar_schema
from stages.inference.prompt import answer_text, embedded_gguf, key_order


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
    from stages.tasks.edgejson.evaluation import generate_isolated

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


UNIQUE = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": ["work", "home", "travel"]}},
    },
}


def test_scan_finds_the_open_unique_item_and_the_first_repeat() -> None:
    from stages.inference.unique_items import first_duplicate, open_unique_item

    assert open_unique_item('{"tags":["a","b', UNIQUE) == ("b", {"a"}, None)
    assert open_unique_item('{"tags":["a", ', UNIQUE) == (None, {"a"}, None)
    assert open_unique_item('{"tags":["a"', UNIQUE) is None  # an item just closed; no new one yet
    assert open_unique_item('{"notes":["a","', UNIQUE) is None  # repeats are allowed there
    assert open_unique_item('{"tags":["a\\"b","', UNIQUE) == ("", {'a\\"b'}, None)  # raw text, escapes kept
    assert open_unique_item('{"tags":["a\\', UNIQUE) is None  # an escape half written: not judged
    assert open_unique_item('{"tags":"x","notes":["a"],"labels":["work","ho', UNIQUE) == ("ho", {"work"}, ["work", "home", "travel"])
    assert open_unique_item('{"notes":["a"],"tags":["', UNIQUE) == ("", set(), None)  # keys and other arrays' items are not items
    text = '{"tags":["a","b","a","c"],"notes":["x","x"]}'
    cut = first_duplicate(text, UNIQUE)
    assert cut is not None and text[:cut] == '{"tags":["a","b"'
    assert first_duplicate('{"notes":["x","x"],"tags":["x"]}', UNIQUE) is None


def test_guard_pushes_down_tokens_that_complete_or_lead_only_to_repeats() -> None:
    from stages.inference.unique_items import UniqueItemsGuard

    vocab = [(0, '"'), (1, 'a"'), (2, "b"), (3, '","'), (4, '"w'), (5, '"work"'), (6, '"t'), (7, "x"), (8, 'a\\"'), (9, "rav")]
    guard = UniqueItemsGuard(vocab, lambda ids: b"", UNIQUE, forced=[])
    assert guard.banned("a", {"a", "ab"}, None) == [0, 3, 4, 5, 6]  # each closes "a" ("ab" is never completed here)
    assert guard.banned("", {"a"}, None) == [1]  # 'a"' would close "a"; the backslash token is not judged
    assert guard.banned(None, {"work"}, ["work", "home", "travel"]) == [4, 5]  # "w..." can only be "work"
    assert guard.banned("t", {"travel"}, ["work", "home", "travel"]) == [2, 7, 9]  # "t" + the token leads to no unused value ("trav" only to "travel")


def test_repeated_unique_items_are_generated_again_from_before_the_repeat() -> None:
    """Real llama.cpp on the embedded model: the plain grammar repeats "health"; the guarded
    runner ends the array before the repeat, or, where minItems needs more items, makes them
    differ."""
    import jsonschema

    from stages.inference.gguf import GGUFRunner
    from stages.inference.unique_items import first_duplicate

    prompt = "<|im_start|>user\nGive the tags of: 'health health health health' as JSON.<|im_end|>\n<|im_start|>assistant\n"
    gguf = Path(embedded_gguf("smollm2-135m-instruct"))
    plain, guarded = GGUFRunner(gguf, 2, 1024, unique_items=False), GGUFRunner(gguf, 2, 1024)
    for min_items in (1, 3):
        schema = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "minItems": min_items, "maxItems": 4, "uniqueItems": True, "items": {"type": "string", "maxLength": 12}}}}
        first = plain.generate_one(prompt, 48, schema).text
        cut = first_duplicate(first, schema)
        assert cut is not None, f"the plain grammar no longer repeats an item here, so this test checks nothing: {first!r}"
        got = guarded.generate_one(prompt, 48, schema)
        answer = json.loads(got.text)
        jsonschema.validate(answer, schema)
        assert got.text.startswith(first[:cut]) and len(answer["tags"]) >= min_items


def test_grammar_strings_exclude_control_characters() -> None:
    """llama-cpp-python's converter allows raw newlines in strings (invalid JSON); ours does not."""
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from stages.inference.grammar import LOOSE_CHAR, STRICT_CHAR, json_grammar

    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert LOOSE_CHAR in json_schema_to_gbnf(json.dumps(schema))
    gbnf = json_grammar(schema)
    assert STRICT_CHAR in gbnf and LOOSE_CHAR not in gbnf
    LlamaGrammar.from_string(gbnf, verbose=False)  # llama.cpp parses it


def test_llguidance_grammar_for_every_schema_and_its_key_order(catalog: dict[str, Any], tiny_model_dir: Path) -> None:
    """Every catalog schema gets an llguidance matcher (falling back to dropping length bounds
    beside a pattern only where llguidance cannot intersect them), with keys in `key_order`."""
    from transformers import AutoTokenizer

    from stages.inference.hf import LLGuidanceGrammars, llg_schema

    grammars = LLGuidanceGrammars(AutoTokenizer.from_pretrained(tiny_model_dir), None)
    for sid, entry in catalog.items():
        m = grammars.matcher(entry.schema)
        assert not m.is_error(), (sid, m.get_error())
        assert list(llg_schema(entry.schema)["properties"]) == key_order(entry.schema), sid
    node = {"type": "object", "required": ["b"], "properties": {"a": {"type": "string", "pattern": "^x+$", "maxLength": 5}, "b": {"type": "string", "maxLength": 3}}}
    relaxed = llg_schema(node, relax=True)
    assert list(relaxed["properties"]) == ["b", "a"]
    assert "maxLength" not in relaxed["properties"]["a"] and relaxed["properties"]["b"]["maxLength"] == 3


def test_hf_constrained_decoding_gives_schema_valid_json(tiny_model_dir: Path) -> None:
    """A random tiny model writes no JSON freely; under llguidance's mask every row of a mixed
    batch (constrained and free) comes out as its schema says, or free as before."""
    import jsonschema

    from stages.inference.hf import HFRunner

    schema = {"type": "object", "required": ["ok", "level", "n"], "properties": {"ok": {"type": "boolean"}, "level": {"enum": ["low", "high"]}, "n": {"type": "integer", "minimum": 1, "maximum": 9}}, "additionalProperties": False}
    runner = HFRunner(tiny_model_dir, 2)
    prompts = ["<|im_start|>user\nStatus?<|im_end|>\n<|im_start|>assistant\n", "<|im_start|>user\nLevel and count?<|im_end|>\n<|im_start|>assistant\n"]
    free = runner.generate(prompts, 24, 2)
    for g in free:
        with pytest.raises(ValueError):
            json.loads(g.text)
    mixed = runner.generate(prompts, 24, 2, [schema, None])
    jsonschema.validate(json.loads(mixed[0].text), schema)
    assert mixed[0].finish == "stop" and mixed[1].text == free[1].text


def test_hf_repeated_unique_items_are_generated_again_from_before_the_repeat(embedded_hf_dir: Path) -> None:
    """The transformers twin of the llama.cpp test above: llguidance's grammar repeats "health";
    the second pass ends the array before the repeat, or makes later items differ."""
    import jsonschema

    from stages.inference.hf import HFRunner
    from stages.inference.unique_items import first_duplicate

    prompt = "<|im_start|>user\nGive the tags of: 'health health health health' as JSON.<|im_end|>\n<|im_start|>assistant\n"
    runner = HFRunner(embedded_hf_dir, 2)
    for min_items in (1, 3):
        schema = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array", "minItems": min_items, "maxItems": 4, "uniqueItems": True, "items": {"type": "string", "maxLength": 12}}}}
        (first,) = runner._generate([prompt], 48, [schema])
        cut = first_duplicate(first.text, schema)
        assert cut is not None, f"the grammar alone no longer repeats an item here, so this test checks nothing: {first.text!r}"
        (got,) = runner.generate([prompt], 48, 1, [schema])
        answer = json.loads(got.text)
        jsonschema.validate(answer, schema)
        assert got.text.startswith(first.text[:cut]) and len(answer["tags"]) >= min_items


@pytest.mark.parametrize(
    ("node", "good", "bad"),
    [
        ({"type": "integer", "minimum": 3, "maximum": 700}, "650", "701"),
        ({"type": "number", "minimum": -90, "maximum": 90}, "-90", "91.2"),
        ({"type": "string", "format": "email"}, '"a.b@example.com"', '"not an email"'),
        ({"type": "string", "format": "date-time"}, '"2024-01-02T03:04:05Z"', '"2024-13-02T03:04:05Z"'),
        ({"type": "string", "format": "ipv4"}, '"10.0.0.1"', '"300.1.1.1"'),
    ],
)
def test_llguidance_forces_number_bounds_and_formats(tiny_model_dir: Path, node: dict[str, Any], good: str, bad: str) -> None:
    """What the HF grammar forces beyond llama.cpp's: wide integer ranges, number bounds, formats."""
    from transformers import AutoTokenizer

    from stages.inference.hf import LLGuidanceGrammars

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    grammars = LLGuidanceGrammars(tok, None)
    schema = {"type": "object", "required": ["v"], "properties": {"v": node}}
    for value, accepted in ((good, True), (bad, False)):
        ids = tok('{"v":' + value + "}", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        assert (grammars.matcher(schema).validate_tokens(ids) == len(ids)) is accepted, value
