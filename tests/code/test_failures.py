"""`slmbench errors`: each failed row gets the one kind that describes it, counted per split and tier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.records import write_rows
from stages.tasks.edgejson.failures import classify, summarize

EXPECTED = {
    "merchant_name": "Blue Fern Cafe",
    "issued": "2024-03-05",
    "phone": "555-0100",
    "line_items": [{"sku": "A1", "quantity": 2, "unit_price": 3.5, "line_total": 7.0}, {"sku": "B2", "quantity": 1, "unit_price": 1.0, "line_total": 1.0}],
    "subtotal": 8.0,
    "item_count": 2,
}


def answer(**change: object) -> str:
    value = {**EXPECTED, **change}
    return json.dumps({k: v for k, v in value.items() if v is not None})


@pytest.mark.parametrize(
    ("text", "finish", "kind"),
    [
        (answer(), "stop", None),
        ("", "prompt_exceeds_context", "prompt_exceeds_context"),
        (answer()[:40], "length", "runaway"),
        (answer()[:40], "repeat", "runaway"),
        ('{"merchant_name": Blue Fern}', "stop", "malformed_json"),
        (json.dumps({**{k: v for k, v in EXPECTED.items() if k != "merchant_name"}, "merchant_nam": "Blue Fern Cafe"}), "stop", "wrong_key_name"),
        (answer(phone=None), "stop", "key_missing_or_extra"),
        (answer(line_items=EXPECTED["line_items"][:1]), "stop", "array_item_dropped"),
        (answer(subtotal=7.0), "stop", "derived_number_wrong"),
        (answer(item_count=3), "stop", "derived_number_wrong"),
        (answer(issued="March 5, 2024"), "stop", "date_or_format_rewritten"),
        (answer(phone="5550100"), "stop", "date_or_format_rewritten"),
        (answer(merchant_name="Blue Fern Cafe Ltd"), "stop", "scalar_copy_slip"),
        (answer(line_items=[{**EXPECTED["line_items"][0], "sku": "A7"}, EXPECTED["line_items"][1]]), "stop", "scalar_copy_slip"),
    ],
)
def test_each_failure_gets_its_kind(text: str, finish: str, kind: str | None) -> None:
    verdict = classify(text, finish, EXPECTED)
    assert (verdict[0] if verdict else None) == kind, verdict


def test_counts_per_split_and_tier_with_an_example(tmp_path: Path) -> None:
    preds = [
        {
            "id": "r1",
            "variant": "gguf_q8_0",
            "decoding": "free",
            "split": "test_unseen",
            "tier": "medium",
            "prediction": answer(subtotal=1.0),
            "finish": "stop",
        },
        {
            "id": "r2",
            "variant": "gguf_q8_0",
            "decoding": "free",
            "split": "test_unseen",
            "tier": "simple",
            "prediction": answer(subtotal=2.0),
            "finish": "stop",
        },
        {"id": "r3", "variant": "gguf_q8_0", "decoding": "free", "split": "test_seen", "tier": "simple", "prediction": answer(), "finish": "stop"},
    ]
    s = summarize(preds, {r: EXPECTED for r in ("r1", "r2", "r3")})
    unseen = s["gguf_q8_0/free"]["test_unseen"]
    assert unseen["rows"] == 2 and unseen["failed"] == 2
    assert unseen["kinds"]["derived_number_wrong"] == {"count": 2, "by_tier": {"medium": 1, "simple": 1}, "example": {"id": "r1", "detail": "subtotal"}}
    assert s["gguf_q8_0/free"]["test_seen"] == {"rows": 1, "failed": 0, "kinds": {}}
    # the command: the same summary, and one-line errors for a prediction without its row
    write_rows(tmp_path / "p.jsonl", preds)
    write_rows(tmp_path / "t.jsonl", [{"id": r, "schema_id": "x", "prompt": "p", "expected_output": EXPECTED} for r in ("r1", "r2", "r3")])
    res = CliRunner().invoke(app, ["errors", str(tmp_path / "p.jsonl"), "--data", str(tmp_path / "t.jsonl"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == s
    write_rows(tmp_path / "t1.jsonl", [{"id": "r1", "schema_id": "x", "prompt": "p", "expected_output": EXPECTED}])
    res = CliRunner().invoke(app, ["errors", str(tmp_path / "p.jsonl"), "--data", str(tmp_path / "t1.jsonl")])
    assert res.exit_code == 2 and "row 'r2': no such row in the --data files" in res.stderr
    res = CliRunner().invoke(app, ["errors", str(tmp_path), "--data", str(tmp_path / "t.jsonl")])
    assert res.exit_code == 2 and "expected a predictions JSONL file" in res.stderr
