"""The schema generator (stages/tasks/edgejson/templates/synth.py) and the listing surface: seeded, distinct,
meta-valid schemas with no named key, records that validate and whose derived values add up,
generated rows that go to train only, and bad settings that get one line naming the key."""

from __future__ import annotations

import dataclasses
import json
import random
import re

import jsonschema
import pytest
from faker import Faker
from typer.testing import CliRunner

from stages.cli import app
from stages.core.errors import SLMBenchError
from stages.core.params import SchemaGenerator
from stages.tasks.edgejson import generate, split
from stages.tasks.edgejson.checks import check_arithmetic, check_grounded, iter_leaves
from stages.tasks.edgejson.templates import Ctx
from stages.tasks.edgejson.templates.render import build_tree, render
from stages.tasks.edgejson.templates.synth import STYLES, build_record, generate_schemas, key_to_words, reserved_keys

TIERS = {"simple": 0.4, "medium": 0.4, "complex": 0.2}


@pytest.fixture(scope="module")
def reserved(catalog):
    return reserved_keys([e.schema for e in catalog.values()])


@pytest.fixture(scope="module")
def drawn(reserved):
    return generate_schemas(7, 60, list(STYLES), TIERS, reserved, "datasets.vx.schema_generator")


def _keys(node):
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            yield k
            yield from _keys(v)
        yield from _keys(node.get("items"))


def _depth(node, d=0):
    if not isinstance(node, dict):
        return d
    if node.get("type") == "object":
        return max([_depth(v, d + 1) for v in node["properties"].values()] + [d + 1])
    if node.get("type") == "array":
        return _depth(node.get("items"), d)
    return d


def test_schemas_are_seeded_distinct_and_spread_over_tiers_styles_and_depths(drawn, reserved):
    again = generate_schemas(7, 60, list(STYLES), TIERS, reserved, "datasets.vx.schema_generator")
    assert json.dumps(again) == json.dumps(drawn)
    assert json.dumps(generate_schemas(8, 60, list(STYLES), TIERS, reserved, "x")) != json.dumps(drawn)
    assert len({json.dumps(e["schema"]["properties"], sort_keys=True) for e in drawn}) == 60
    assert len({e["schema_id"] for e in drawn}) == 60
    tiers = [e["tier"] for e in drawn]
    assert (tiers.count("simple"), tiers.count("medium"), tiers.count("complex")) == (24, 24, 12)
    keys = [k for e in drawn for k in _keys(e["schema"])]
    assert any("_" in k for k in keys) and any(re.search(r"[a-z][A-Z]", k) for k in keys)
    depths = {e["tier"]: set() for e in drawn}
    for e in drawn:
        depths[e["tier"]].add(_depth(e["schema"]))
    assert depths["simple"] == {1} and max(depths["medium"]) == 2 and max(depths["complex"]) == 4
    assert any("enum" in json.dumps(e["schema"]) for e in drawn) and any('"format": "date-time"' in json.dumps(e["schema"]) for e in drawn)
    assert any(set(e["schema"]["properties"]) - set(e["schema"]["required"]) for e in drawn)  # optional keys


def test_no_generated_key_shares_its_words_with_a_named_key(drawn, reserved):
    for e in drawn:
        for k in _keys(e["schema"]):
            assert re.sub(r"[^a-z0-9]", "", k.lower()) not in reserved, (e["schema_id"], k)


def test_records_validate_and_their_derived_values_add_up(drawn):
    fake = Faker("en_US")
    derived = {"count": 0, "sum": 0}
    for e in drawn:
        jsonschema.Draft202012Validator.check_schema(e["schema"])
        v = jsonschema.Draft202012Validator(e["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for seed in range(4):
            fake.seed_instance(seed)
            record = build_record(Ctx(fake, random.Random(seed), "v3", e["schema_id"]), e["schema"])
            assert not list(v.iter_errors(record)), (e["schema_id"], record)
            assert check_arithmetic(record, e["schema"]) == []
        note = e["schema"].get("x-arithmetic")
        if note:
            derived["sum"] += 1
            bad = json.loads(json.dumps(record))
            bad[note["subtotal"]] = round(bad[note["subtotal"]] + 5, 2)
            assert check_arithmetic(bad, e["schema"]), "the arithmetic check must see a wrong generated sum"
        counts = [k for k in e["schema"]["properties"] if k.endswith("_count")]
        for k in counts:
            derived["count"] += 1
            assert record[k] == len(record[e["schema"]["properties"][k]["x-derive"]["count"]])
    assert derived["count"] and derived["sum"]


def test_listing_surface_writes_title_case_keys_and_headings(drawn):
    e = next(e for e in drawn if e["tier"] == "complex")
    fake = Faker("en_US")
    fake.seed_instance(3)
    rng = random.Random(3)
    record = build_record(Ctx(fake, rng, "v3", e["schema_id"]), e["schema"])
    prompt = render(record, e["schema_id"], "listing", {}, random.Random(4), dedupe=True, what=e["topic"])
    text = prompt.split("\n\n", 1)[1]
    for k, v in record.items():
        if not isinstance(v, (dict, list)):
            assert f"{key_to_words(k).title()}: " in text, (k, text)
    part = next(k for k, v in record.items() if isinstance(v, dict))
    assert key_to_words(part).title() in text and check_grounded(record, prompt) == []
    assert e["topic"] in prompt  # the instruction names the record by its topic, not the generated id
    assert e["schema_id"] not in prompt
    tree = build_tree(record, {}, random.Random(0))
    assert tree.leaves or tree.groups


def test_generated_rows_go_to_train_only(real_params, catalog):
    recipe = dataclasses.replace(
        real_params.datasets["v3"], rows_per_schema=4, min_per_schema=4, surfaces=["kv", "listing"], schema_generator=SchemaGenerator(schemas=6, rows_per_schema=2)
    )
    doc = generate.generated_schemas("vx", recipe, catalog)
    from stages.core.catalog import SchemaEntry

    gen = {i["schema_id"]: SchemaEntry(i["schema_id"], i["tier"], catalog["invoice"].path, i["schema"], i["topic"]) for i in doc["schemas"]}
    rows = generate.run("vx", recipe, catalog, progress=False, generated=gen)
    assert len(rows) == 25 * 4 + 6 * 2 and {r["schema_id"] for r in rows[-12:]} == set(gen)
    named = [r for r in rows if r["schema_id"] not in gen]
    train_only = [r for r in rows if r["schema_id"] in gen]
    schemas = {**{s: e.schema for s, e in catalog.items()}, **{s: e.schema for s, e in gen.items()}}
    train, test, unseen, m = split.run(named, 0.25, 1, 5, schemas, train_only)
    assert {r["id"] for r in train_only} <= {r["id"] for r in train}
    assert not {r["schema_id"] for r in test + unseen} & set(gen)
    assert m["generated_schemas"] == 6 and m["generated_schema_train_rows"] == 12 and m["train_rows"] == len(train)


def test_bad_generator_settings_get_one_line_naming_the_key(reserved, catalog, tmp_path, real_params):
    with pytest.raises(SLMBenchError, match=r"datasets.vx.schema_generator.styles: expected a non-empty subset of snake_case, camelCase"):
        generate_schemas(1, 3, ["kebab-case"], TIERS, reserved, "datasets.vx.schema_generator")
    with pytest.raises(SLMBenchError, match=r"schema_generator.tiers"):
        generate_schemas(1, 3, ["snake_case"], {"huge": 1.0}, reserved, "datasets.vx.schema_generator")
    everything = reserved | {re.sub(r"[^a-z0-9]", "", k.lower()) for e in generate_schemas(1, 40, list(STYLES), TIERS, set(), "x") for k in _keys(e["schema"])}
    with pytest.raises(SLMBenchError, match=r"datasets.vx.schema_generator.schemas: asked for 3 distinct schemas, but the vocabulary gave 0"):
        generate_schemas(1, 3, ["snake_case"], TIERS, everything | {w.replace("_", "") for w in everything}, "datasets.vx.schema_generator")
    # an unknown key under schema_generator, from params.yaml through the CLI: one line, nothing written
    import yaml

    raw = yaml.safe_load(open("params.yaml", encoding="utf-8"))
    raw["datasets"]["v4"]["schema_generator"]["nesting"] = 5
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(raw))
    out = tmp_path / "g.jsonl"
    res = CliRunner().invoke(app, ["generate", "--version", "v4", "--out", str(out), "--schemas-out", str(tmp_path / "s.json"), "--params", str(bad)])
    assert res.exit_code != 0 and not out.exists()
    lines = [line for line in res.output.strip().splitlines() if line]
    assert len(lines) == 1 and "unknown key datasets.v4.schema_generator.nesting" in lines[0], res.output


def test_leaves_of_generated_records_are_all_in_the_prompt(drawn):
    fake = Faker("en_US")
    for e in drawn[:20]:
        fake.seed_instance(11)
        rng = random.Random(11)
        record = build_record(Ctx(fake, rng, "v3", e["schema_id"]), e["schema"])
        for surface in ("listing", "kv", "prose", "table", "email", "chat", "log"):
            prompt = render(record, e["schema_id"], surface, {}, random.Random(5), dedupe=True, what=e["topic"])
            assert check_grounded(record, prompt) == [], (e["schema_id"], surface, [p for p, _ in iter_leaves(record)])


def test_a_bad_generated_schemas_file_gets_one_line_naming_it(tmp_path):
    from stages.core.catalog import load_generated, with_generated

    path = tmp_path / "generated_schemas.json"
    path.write_text('{"schemas": [{"schema_id": "g1", "tier": "simple", "topic": "t", "schema": {"type": 5}}]}')
    with pytest.raises(SLMBenchError, match=r"generated_schemas.json: schemas\[0\] \(g1\): not a valid JSON Schema at type"):
        load_generated(path)
    path.write_text('{"schemas": [{"schema_id": "g1", "tier": "huge", "schema": {}}]}')
    with pytest.raises(SLMBenchError, match=r"schemas\[0\]: expected schema_id, tier"):
        load_generated(path)
    path.write_text('{"schemas": [')
    with pytest.raises(SLMBenchError, match=r"generated_schemas.json:1: malformed generated schemas JSON"):
        load_generated(path)
    path.write_text('{"schemas": [{"schema_id": "invoice", "tier": "simple", "topic": "t", "schema": {"type": "object"}}]}')
    with pytest.raises(SLMBenchError, match=r"generated schema id 'invoice' is also a named schema"):
        with_generated({"invoice": None}, path)
