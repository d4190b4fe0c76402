"""Scorer tests with hand-worked cases; model output is untrusted and must never crash the scorer."""

from __future__ import annotations

import json

import pytest

from stages.core.catalog import load_catalog
from stages.tasks.edgejson.scoring import METRICS, aggregate, field_f1, parse_prediction, score_row

EXPECTED = {"order_id": "A1", "items": [{"sku": "x", "qty": 2, "unit_price": 1.5}, {"sku": "y", "qty": 1, "unit_price": 3}], "total": 6}


def test_every_metric_declares_its_direction() -> None:
    assert set(METRICS) == {"json_parse", "json_exact", "field_f1", "schema_valid"}
    assert all(m.higher_is_better for m in METRICS.values())


def test_json_exact_ignores_key_order_and_compares_numbers_as_numbers() -> None:
    text = json.dumps({"total": 6.0, "items": [{"unit_price": 1.50, "qty": 2, "sku": "x"}, {"qty": 1.0, "sku": "y", "unit_price": 3}], "order_id": "A1"})
    assert score_row(text, EXPECTED, None)["json_exact"] == 1.0
    # list order matters: items swapped is not the same answer
    swapped = dict(EXPECTED, items=list(reversed(EXPECTED["items"])))
    assert score_row(json.dumps(swapped), EXPECTED, None)["json_exact"] == 0.0
    # true is not 1
    assert score_row('{"a": true}', {"a": 1}, None)["json_exact"] == 0.0


def test_field_f1_over_nested_leaf_paths() -> None:
    # expected leaves: order_id, items[0].sku, items[0].qty, items[0].unit_price, items[1].sku,
    # items[1].qty, items[1].unit_price, total = 8. The prediction gets items[1].unit_price wrong
    # (4 instead of 3) and adds a stray leaf `note`: 7 of its 9 leaves match.
    pred = json.loads(json.dumps(EXPECTED))
    pred["items"][1]["unit_price"] = 4
    pred["note"] = "n"
    p = parse_prediction(json.dumps(pred))
    precision, recall = 7 / 9, 7 / 8
    assert field_f1(p, EXPECTED, None) == pytest.approx(2 * precision * recall / (precision + recall))
    assert field_f1(parse_prediction(json.dumps(EXPECTED)), EXPECTED, None) == 1.0
    assert field_f1(parse_prediction("{}"), EXPECTED, None) == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "[1, 2, 3]",
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": 1, "a": 2}',
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 50 + "1" + "}" * 50,
        '{"a": "' + "x" * 10_000_000 + '"}',
        "",
    ],
    ids=["garbage", "list", "nan", "inf", "dup-keys", "deep-list", "deep-object", "10MB", "empty"],
)
def test_bad_output_scores_as_failure_without_crashing(text: str) -> None:
    s = score_row(text, EXPECTED, None)
    assert s == {"json_parse": 0.0, "json_exact": 0.0, "field_f1": 0.0, "schema_valid": 0.0}


def test_schema_valid_uses_jsonschema_with_formats(repo_root) -> None:
    entry = load_catalog(repo_root / "schemas")["user_profile"]
    good = {"user_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "username": "ann_b", "email": "ann@example.org", "signup_date": "2024-02-29"}
    assert score_row(json.dumps(good), good, entry)["schema_valid"] == 1.0
    bad = dict(good, signup_date="2023-02-30")  # no such day: the format checker rejects it
    assert score_row(json.dumps(bad), good, entry)["schema_valid"] == 0.0


def test_aggregate_per_tier_and_schema() -> None:
    rows = [
        {"schema_id": "a", "tier": "simple", "json_parse": 1.0, "json_exact": 1.0, "field_f1": 1.0, "schema_valid": 1.0},
        {"schema_id": "b", "tier": "complex", "json_parse": 1.0, "json_exact": 0.0, "field_f1": 0.5, "schema_valid": 0.0},
    ]
    agg = aggregate(rows)
    assert agg["n"] == 2 and agg["json_exact"] == 0.5 and agg["field_f1"] == 0.75
    assert agg["by_tier"]["complex"]["field_f1"] == 0.5 and agg["by_schema"]["a"]["json_exact"] == 1.0
