"""The quantize stage's greedy check, its pure parts: which rows, how answers compare, when the
gate fails and what quantize.json holds. The real conversion and generation run in
test_model_pipeline.py."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from stages.core.errors import SLMBenchError
from stages.core.params import QuantizeParams
from stages.tasks.edgejson.evaluation import select_rows
from stages.tasks.edgejson.quantize import Agreement, check_rows, gate, gguf_name, prefix_share, summarize


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


def _agreement(name: str, ref: list[str], texts: list[str], gated: bool, json_exact: list[float] | None = None) -> Agreement:
    return Agreement(
        name,
        Path(gguf_name(name)),
        gated,
        [float(a == b) for a, b in zip(ref, texts, strict=True)],
        [prefix_share(a, b) for a, b in zip(ref, texts, strict=True)],
        json_exact if json_exact is not None else [0.0] * len(ref),
        texts,
    )


def _cfg(**changes: float) -> QuantizeParams:
    base = QuantizeParams(q4_type="Q4_K_M", check_types=["Q4_0"], check_rows_per_schema=1, check_max_tokens=8, min_agreement=0.5, threads=1, max_drop=0.05)
    return dataclasses.replace(base, **changes)


def test_gate_floor_is_the_param_and_check_types_only_report() -> None:
    rows = [{"id": f"r{i}"} for i in range(4)]
    ref = ["abcdefghij"] * 4
    half = ["abcdeXXXXX", "abcdefghij", "abcdeXXXXX", "abcdefghij"]  # prefix shares 0.5, 1, 0.5, 1: mean 0.75
    merged = [0.0] * 4
    gate([_agreement("q4_k_m", ref, half, True)], ref, rows, merged, _cfg(min_agreement=0.75), 200, 1)  # exactly at the floor passes
    with pytest.raises(SLMBenchError) as err:
        gate([_agreement("q4_k_m", ref, half, True)], ref, rows, merged, _cfg(min_agreement=0.8), 200, 1)
    msg = str(err.value)
    assert msg.count("\n") == 0 and "model-q4_k_m.gguf (q4_k_m)" in msg and "0.750 of 4 check rows" in msg and "quantize.min_agreement 0.8" in msg, msg
    assert "worst row r0" in msg, msg
    gate([_agreement("q4_0", ref, half, False)], ref, rows, merged, _cfg(min_agreement=0.8), 200, 1)  # a check type: reported, never fails the stage


def test_gate_fails_a_significant_quality_drop_of_a_rounding_type_only() -> None:
    """Q8_0 and f16 fail on a large, significant json_exact drop even where their text agrees in
    prefix; a 4-bit file is held to the floor only; a small or insignificant drop passes."""
    n = 40
    rows = [{"id": f"r{i}"} for i in range(n)]
    ref = ["abcdefghij"] * n
    near = ["abcdefghiX"] * n  # prefix 0.9 everywhere: above the floor
    merged = [1.0] * n
    worse = [0.0] * 20 + [1.0] * 20  # 20 of 40 rows lost: -0.5, McNemar p << 0.05
    for name in ("q8_0", "f16"):
        with pytest.raises(SLMBenchError, match=rf"\({name}\): scores 0.500 against the merged model's 1.000 on the same 40 check rows .*quantize.max_drop 0.05"):
            gate([_agreement(name, ref, near, True, worse)], ref, rows, merged, _cfg(), 200, 1)
    gate([_agreement("q4_k_m", ref, near, True, worse)], ref, rows, merged, _cfg(), 200, 1)  # 4-bit: floor only
    two_lost = [0.0] * 2 + [1.0] * 38  # -0.05: not beyond max_drop, and not significant (McNemar p = 0.5)
    gate([_agreement("q8_0", ref, near, True, two_lost)], ref, rows, merged, _cfg(), 200, 1)
    flips = [0.0] * 4 + [1.0] * 36  # -0.10 but p = 0.125: four flips are noise on 40 rows
    gate([_agreement("q8_0", ref, near, True, flips)], ref, rows, merged, _cfg(), 200, 1)


def test_summary_keys_carry_n_and_intervals() -> None:
    ref = ["a", "b", "c", "d", "e"]
    q = _agreement("q8_0", ref, ["a", "b", "c", "d", "x"], True)
    out = summarize([q], [1.0, 0.0, 1.0, 1.0, 0.0], {"f16": 269.06, "q8_0": 144.81}, 500, 3)
    assert out["q8_0"]["n"] == 5 and out["merged"]["n"] == 5 and out["q8_0"]["gated"] == 1
    assert out["q8_0"]["exact_agreement"] == 0.8 and out["merged"]["json_exact"] == 0.6
    for head, figure in (("q8_0", "exact_agreement"), ("q8_0", "prefix_agreement"), ("q8_0", "json_exact"), ("merged", "json_exact")):
        (low, high), mid = out[head][f"{figure}_ci95"], out[head][figure]
        assert low <= mid <= high and out[head][f"{figure}_n"] == 5, (head, figure)
    low, high = out["q8_0"]["exact_agreement_ci95"]
    assert low < 0.8 < high, "five rows: a wide interval"
    assert (out["f16"], out["q8_0"]["size_mb"]) == ({"size_mb": 269.06}, 144.81)
    diff = out["q8_0"]
    assert diff["json_exact_diff"] == -0.6 and diff["json_exact_diff_ci95"][0] <= -0.6 <= diff["json_exact_diff_ci95"][1] and diff["json_exact_diff_n"] == 5
    assert 0.0 < diff["json_exact_diff_p"] <= 1.0, "the paired test's p-value (McNemar: 3 rows lost, none won)"
    assert out == summarize([q], [1.0, 0.0, 1.0, 1.0, 0.0], {"f16": 269.06, "q8_0": 144.81}, 500, 3), "same inputs and seed, same figures"
    leaves = [v for group in out.values() for v in group.values()]
    # a DVC metrics file: numbers, and intervals as [lo, hi] (which `dvc metrics show` leaves out)
    assert all(isinstance(v, (int, float)) or (isinstance(v, list) and len(v) == 2) for v in leaves)
