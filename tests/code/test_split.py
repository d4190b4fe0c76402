"""The split: held-out schemas (test_unseen) stratified by tier, the rest stratified per schema, seeded, disjoint, and a normalised-prompt leak fails it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.errors import SLMBenchError
from stages.core.records import read_rows, write_rows
from stages.tasks.edgejson import generate, split


@pytest.fixture(scope="module")
def rows(real_params, catalog):
    recipe = dataclasses.replace(real_params.datasets["v3"], rows_per_schema=5)
    return generate.run("v3", recipe, catalog, progress=False)


def test_split_is_stratified_per_schema(rows, catalog):
    train, test, unseen, metrics = split.run(rows, 0.2, 1337)
    assert unseen == [] and metrics["test_unseen_rows"] == 0 and metrics["unseen_schemas"] == 0
    # round(5 * 0.2) = 1 test row per schema, 4 train.
    assert Counter(r["schema_id"] for r in test) == {sid: 1 for sid in catalog}
    assert Counter(r["schema_id"] for r in train) == {sid: 4 for sid in catalog}
    assert metrics["train_rows"] == 100 and metrics["test_rows"] == 25 and metrics["leaks"] == 0
    assert metrics["by_schema"]["invoice"] == {"train": 4, "test": 1, "test_unseen": 0}


def test_split_is_deterministic_and_independent_of_input_order(rows):
    first = split.run(rows, 0.2, 1337)
    shuffled = list(rows)
    random.Random(0).shuffle(shuffled)
    second = split.run(shuffled, 0.2, 1337)
    assert [r["id"] for r in first[0]] == [r["id"] for r in second[0]]
    assert [r["id"] for r in first[1]] == [r["id"] for r in second[1]]
    other_seed = {r["id"] for r in split.run(rows, 0.2, 7)[1]}
    assert other_seed != {r["id"] for r in first[1]}  # the seed matters


def test_train_and_test_are_disjoint_and_complete(rows):
    train, test, _, _ = split.run(rows, 0.4, 1337)
    train_ids, test_ids = {r["id"] for r in train}, {r["id"] for r in test}
    assert not train_ids & test_ids
    assert train_ids | test_ids == {r["id"] for r in rows}
    assert len(train) + len(test) == len(rows)


def test_a_schema_with_two_rows_puts_one_in_test():
    two = [{"id": "x-1", "schema_id": "x", "prompt": "first"}, {"id": "x-2", "schema_id": "x", "prompt": "second"}]
    train, test, _, _ = split.run(two, 0.01, 1)
    assert len(train) == 1 and len(test) == 1


def test_a_prompt_leak_after_normalisation_is_an_error(rows):
    # Two rows of one schema: one must go to test and one to train, and their prompts differ
    # only in case and punctuation.
    leaky = list(rows) + [
        {"id": "z-0001", "schema_id": "zz_leak", "prompt": "Order #12: Total = 5.00!"},
        {"id": "z-0002", "schema_id": "zz_leak", "prompt": "order 12 total 5 00"},
    ]
    with pytest.raises(SLMBenchError, match="leak"):
        split.run(leaky, 0.2, 1337)


def test_unseen_schemas_are_held_out_whole_and_stratified_by_tier(rows, catalog):
    schemas = {sid: e.schema for sid, e in catalog.items()}
    train, test, unseen, metrics = split.run(rows, 0.2, 1337, 5, schemas)
    held = {r["schema_id"] for r in unseen}
    assert len(held) == 5 == metrics["unseen_schemas"]
    # every row of a held-out schema is in test_unseen, none in train or test_seen
    assert Counter(r["schema_id"] for r in unseen) == {sid: 5 for sid in held}
    assert not held & {r["schema_id"] for r in train + test}
    assert len(train) + len(test) + len(unseen) == len(rows)
    # every tier gives at least one schema, in proportion to its size
    tiers = Counter(catalog[sid].tier for sid in held)
    assert set(tiers) == {e.tier for e in catalog.values()}
    sizes = Counter(e.tier for e in catalog.values())
    for tier, n in tiers.items():
        assert abs(n - 5 * sizes[tier] / len(catalog)) < 1
    assert metrics["by_schema"][sorted(held)[0]] == {"train": 0, "test": 0, "test_unseen": 5}
    # the overlap of held-out field names with the training schemas' is measured, not assumed
    assert 0 <= metrics["unseen_field_names_in_train"] < metrics["unseen_field_names"]


def test_unseen_schemas_depend_on_the_seed_only(rows):
    first = {r["schema_id"] for r in split.run(rows, 0.2, 1337, 5)[2]}
    shuffled = list(rows)
    random.Random(0).shuffle(shuffled)
    assert {r["schema_id"] for r in split.run(shuffled, 0.2, 1337, 5)[2]} == first
    assert any({r["schema_id"] for r in split.run(rows, 0.2, seed, 5)[2]} != first for seed in (1, 2, 3))


@pytest.mark.parametrize("count", [25, 40])
def test_holding_out_every_schema_is_an_error(rows, count):
    with pytest.raises(SLMBenchError, match=r"split.unseen_schemas: .* leaves none to train on"):
        split.run(rows, 0.2, 1337, count)


def test_a_leak_from_train_into_test_unseen_is_an_error(rows):
    train, _, unseen, _ = split.run(rows, 0.2, 1337, 5)
    # A train row takes a held-out row's prompt, changed only in case and punctuation; where a row
    # goes depends on its id and the seed, not its prompt, so it stays in train.
    twin = {**train[0], "prompt": unseen[0]["prompt"].upper() + "!"}
    leaky = [twin if r["id"] == twin["id"] else r for r in rows]
    with pytest.raises(SLMBenchError, match="also in test_unseen"):
        split.run(leaky, 0.2, 1337, 5)


def test_split_cli_writes_train_test_and_metrics(tmp_path: Path, tiny_params: Path, rows):
    inp = tmp_path / "validated.jsonl"
    write_rows(inp, rows)
    args = ["task-split", "--task", "edgejson", "--name", "v3", "--in", str(inp), "--train", str(tmp_path / "train.jsonl"), "--test", str(tmp_path / "test.jsonl"),
            "--part", f"test_unseen={tmp_path / 'test_unseen.jsonl'}", "--metrics", str(tmp_path / "split.json"), "--params", str(tiny_params)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    train, test, unseen = (read_rows(tmp_path / f"{n}.jsonl") for n in ("train", "test", "test_unseen"))
    metrics = json.loads((tmp_path / "split.json").read_text(encoding="utf-8"))
    # the real params hold out 5 of the 25 schemas: 20 seen schemas x (4 train + 1 test), 5 x 5 unseen
    assert (len(train), len(test), len(unseen)) == (metrics["train_rows"], metrics["test_rows"], metrics["test_unseen_rows"]) == (80, 20, 25)
    assert metrics["leaks"] == 0 and metrics["test_sha256"] == hashlib.sha256((tmp_path / "test.jsonl").read_bytes()).hexdigest()
    # a part the rule makes but the command line does not place is one line, and nothing is written
    (tmp_path / "out").mkdir()
    missing = [a if a != str(tmp_path / "train.jsonl") else str(tmp_path / "out" / "train.jsonl") for a in args if not a.startswith(("--part", "test_unseen="))]
    result = CliRunner().invoke(app, missing)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "makes the parts test, test_unseen, train" in result.stderr, result.output
    assert not (tmp_path / "out" / "train.jsonl").exists()
