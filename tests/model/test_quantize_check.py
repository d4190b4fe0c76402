"""The quantize stage's greedy check, its pure parts: which rows, how answers compare, when the
gate fails and what quantize.json holds. The real conversion and generation run in
test_model_pipeline.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from stages.core.errors import SLMBenchError
from stages.evaluate.evaluate import select_rows
from stages.train.quantize import Agreement, check_rows, gate, gguf_name, prefix_share, summarize


def _rows(schemas: int, per_schema: int, seed: int = 0) -> list[dict]:
    rows = [{"id": f"v3-s{s}-{i:04d}", "schema_id": f"s{s}"} for s in range(schemas) for i in range(per_schema)]
    random.Random(seed).shuffle(rows)
    return rows


def test_check_rows_are_stratified_fixed_and_evaluates_own() -> None:
    rows = _rows(5, 6) + [{"id": "v3-lonely-0000", "schema_id": "lonely"}]  # a schema with one test row
    for k in (1, 2, 3):
        got = check_rows(rows, k)
        counts = {sid: sum(r["schema_id"] == sid for r in got) for sid in {r["schema_id"] for r in rows}}
        assert counts == {**{f"s{s}": k for s in range(5)}, "lonely": 1}, counts
        assert got == [r for r in rows if r in got], "rows keep the test file's order"
        assert got == select_rows(rows, k), "the check's rows are the ones evaluate scores for the same count"
        assert {r["id"] for r in check_rows(rows, 1)} <= {r["id"] for r in got}, "more rows per schema only add rows"
    reordered = list(reversed(rows))
    assert {r["id"] for r in check_rows(reordered, 2)} == {r["id"] for r in check_rows(rows, 2)}, "the choice depends on ids, not file order"
    assert check_rows(rows, 0) == []


def test_prefix_share() -> None:
    assert prefix_share('{"a": 1}', '{"a": 1}\n') == 1.0
    assert prefix_share('{"a": 12}', '{"a": 13}') == pytest.approx(7 / 9)
    assert prefix_share('{"a": 1}', "") == 0.0
    assert prefix_share("", "") == 1.0 and prefix_share("", "x") == 0.0
    assert prefix_share("abcd", "abcdef") == 1.0, "a longer answer keeps the whole reference"


def _agreement(name: str, ref: list[str], texts: list[str], gated: bool) -> Agreement:
    return Agreement(
        name,
        Path(gguf_name(name)),
        gated,
        [float(a == b) for a, b in zip(ref, texts, strict=True)],
        [prefix_share(a, b) for a, b in zip(ref, texts, strict=True)],
        [0.0] * len(ref),
        texts,
    )


def test_gate_bar_is_the_param_and_check_types_only_report() -> None:
    rows = [{"id": f"r{i}"} for i in range(4)]
    ref = ["abcdefghij"] * 4
    half = ["abcdeXXXXX", "abcdefghij", "abcdeXXXXX", "abcdefghij"]  # prefix shares 0.5, 1, 0.5, 1: mean 0.75
    gate([_agreement("q4_k_m", ref, half, True)], ref, rows, 0.75)  # exactly at the bar passes
    with pytest.raises(SLMBenchError) as err:
        gate([_agreement("q4_k_m", ref, half, True)], ref, rows, 0.8)
    msg = str(err.value)
    assert msg.count("\n") == 0 and "model-q4_k_m.gguf (q4_k_m)" in msg and "0.750" in msg and "first differing row r0 at character 5" in msg, msg
    gate([_agreement("q4_0", ref, half, False)], ref, rows, 0.8)  # a check type: reported, never fails the stage
    # f16 has its own, higher bar: one near-tie in 4 rows (prefix 0.9 there, mean 0.975) passes 0.95, a broken file does not
    gate([_agreement("f16", ref, [*ref[:3], "abcdefghiX"], True)], ref, rows, 0.0, 0.95)
    with pytest.raises(SLMBenchError, match=r"\(f16\).*mean prefix agreement 0.750 over 4 rows \(2 answers equal\), below quantize.min_f16_agreement 0.95"):
        gate([_agreement("f16", ref, half, True)], ref, rows, 0.0, 0.95)


def test_summary_keys_carry_n_and_intervals() -> None:
    ref = ["a", "b", "c", "d", "e"]
    q = _agreement("q8_0", ref, ["a", "b", "c", "d", "x"], True)
    out = summarize([q], [1.0, 0.0, 1.0, 1.0, 0.0], {"f16": 269.06, "q8_0": 144.81}, 500, 3)
    assert out["q8_0.n"] == 5 and out["merged.n"] == 5 and out["q8_0.gated"] == 1
    assert out["q8_0.exact_agreement"] == 0.8 and out["merged.json_exact"] == 0.6
    for head, figure in (("q8_0", "exact_agreement"), ("q8_0", "prefix_agreement"), ("q8_0", "json_exact"), ("merged", "json_exact")):
        low, mid, high = out[f"{head}.{figure}_ci_low"], out[f"{head}.{figure}"], out[f"{head}.{figure}_ci_high"]
        assert low <= mid <= high, (head, figure)
    assert out["q8_0.exact_agreement_ci_low"] < 0.8 < out["q8_0.exact_agreement_ci_high"], "five rows: a wide interval"
    assert (out["f16.size_mb"], out["q8_0.size_mb"]) == (269.06, 144.81)
    assert out == summarize([q], [1.0, 0.0, 1.0, 1.0, 0.0], {"f16": 269.06, "q8_0": 144.81}, 500, 3), "same inputs and seed, same figures"
    assert all(isinstance(v, (int, float)) for v in out.values()), "quantize.json is a DVC metrics file: numbers only"
