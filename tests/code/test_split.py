"""The split: stratified per schema, seeded, disjoint, and a normalised-prompt leak fails it."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages import generate, split
from stages.cli import app
from stages.errors import SLMBenchError
from stages.records import read_rows, write_rows


@pytest.fixture(scope="module")
def rows(real_params, catalog):
    recipe = dataclasses.replace(real_params.datasets["v3"], rows_per_schema=5)
    return generate.run("v3", recipe, catalog, progress=False)


def test_split_is_stratified_per_schema(rows, catalog):
    train, test, metrics = split.run(rows, 0.2, 1337)
    # round(5 * 0.2) = 1 test row per schema, 4 train.
    assert Counter(r["schema_id"] for r in test) == {sid: 1 for sid in catalog}
    assert Counter(r["schema_id"] for r in train) == {sid: 4 for sid in catalog}
    assert metrics["train_rows"] == 100 and metrics["test_rows"] == 25 and metrics["leaks"] == 0
    assert metrics["by_schema"]["invoice"] == {"train": 4, "test": 1}


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
    train, test, _ = split.run(rows, 0.4, 1337)
    train_ids, test_ids = {r["id"] for r in train}, {r["id"] for r in test}
    assert not train_ids & test_ids
    assert train_ids | test_ids == {r["id"] for r in rows}
    assert len(train) + len(test) == len(rows)


def test_a_schema_with_two_rows_puts_one_in_test():
    two = [{"id": "x-1", "schema_id": "x", "prompt": "first"}, {"id": "x-2", "schema_id": "x", "prompt": "second"}]
    train, test, _ = split.run(two, 0.01, 1)
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


def test_split_cli_writes_train_test_and_metrics(tmp_path: Path, tiny_params: Path, rows):
    inp = tmp_path / "validated.jsonl"
    write_rows(inp, rows)
    args = ["split", "--version", "v3", "--in", str(inp), "--train", str(tmp_path / "train.jsonl"),
            "--test", str(tmp_path / "test.jsonl"), "--metrics", str(tmp_path / "split.json"), "--params", str(tiny_params)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    train, test = read_rows(tmp_path / "train.jsonl"), read_rows(tmp_path / "test.jsonl")
    metrics = json.loads((tmp_path / "split.json").read_text(encoding="utf-8"))
    assert (len(train), len(test)) == (metrics["train_rows"], metrics["test_rows"]) == (100, 25)
    assert "0 leaks" in result.stderr
