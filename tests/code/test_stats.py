"""Intervals, paired tests and row selection: hand-made inputs whose answers are known."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.stats import bootstrap_intervals, mcnemar_exact, paired_test
from stages.tasks.edgejson.evaluation import plan_rows, select_rows, stratified_order, with_intervals
from stages.tasks.edgejson.scoring import aggregate


def test_bootstrap_is_deterministic_for_a_seed_and_brackets_the_mean() -> None:
    rng = np.random.default_rng(1)
    table = np.column_stack([rng.integers(0, 2, 150), rng.random(150)])  # a 0/1 metric and a [0, 1] one
    a, b = bootstrap_intervals(table, 1000, 7), bootstrap_intervals(table, 1000, 7)
    assert a == b and json.dumps(a) == json.dumps(b)
    assert bootstrap_intervals(table, 1000, 8) != a, "the seed must matter"
    for (lo, hi), mean in zip(a, table.mean(axis=0), strict=True):
        assert lo <= mean <= hi and hi - lo > 0.05
    # about 0.5 on 150 rows: the 95% interval is about +-0.08 (normal approximation: 1.96 * sqrt(.25 / 150))
    lo, hi = a[0]
    assert 0.12 < hi - lo < 0.20
    assert bootstrap_intervals(np.ones((1, 2)), 100, 0) == [(1.0, 1.0), (1.0, 1.0)]
    assert bootstrap_intervals(np.zeros((0, 2)), 100, 0) == []


def test_mcnemar_by_hand() -> None:
    a = [1, 1, 0, 0, 0, 0, 0, 1]
    b = [0, 0, 1, 1, 1, 1, 1, 1]
    r = mcnemar_exact(a, b)
    assert (r["a_only"], r["b_only"]) == (2, 5)
    # 2 against 5 of 7 discordant rows: P(X <= 2 | 7, 1/2) = (1 + 7 + 21) / 128, two-sided 58/128
    assert r["p_value"] == pytest.approx(58 / 128)
    assert mcnemar_exact([1, 0], [1, 0])["p_value"] == 1.0


def test_paired_test_identical_sides_and_a_big_difference() -> None:
    rng = np.random.default_rng(3)
    same = rng.integers(0, 2, 60).astype(float)
    t = paired_test(same, same, 1000, 0)
    assert t["p_value"] == 1.0 and not t["significant"] and t["diff"] == 0.0 and t["test"] == "mcnemar_exact"
    worse, better = np.zeros(40), np.ones(40)
    better[:5] = 0
    t = paired_test(worse, better, 1000, 0)
    assert t["significant"] and t["p_value"] < 1e-6 and t["diff"] == pytest.approx(35 / 40)
    assert t["diff_ci95"][0] <= t["diff"] <= t["diff_ci95"][1] and t["diff_n"] == t["n"] == 40
    # a continuous metric: the paired bootstrap
    f1_a = rng.random(50) * 0.5
    t = paired_test(f1_a, f1_a + 0.3, 1000, 0)
    assert t["test"] == "paired_bootstrap" and t["significant"] and t["p_value"] < 0.01
    t = paired_test(f1_a, f1_a, 1000, 0)
    assert t["p_value"] == 1.0 and not t["significant"]
    noise = paired_test(f1_a, np.roll(f1_a, 1), 1000, 0)  # same values, other rows: no real difference
    assert noise["p_value"] > 0.05 and not noise["significant"]


def _rows(per_schema: dict[str, int]) -> list[dict]:
    return [{"id": f"{s}-{k:03d}", "schema_id": s} for s, n in per_schema.items() for k in range(n)]


def test_stratified_selection_is_stratified_deterministic_and_order_free() -> None:
    rows = _rows({"a": 6, "b": 6, "c": 1, "d": 4})
    pick = select_rows(rows, 2)
    counts = {s: sum(r["schema_id"] == s for r in pick) for s in "abcd"}
    assert counts == {"a": 2, "b": 2, "c": 1, "d": 2}
    shuffled = rows[:]
    random.Random(0).shuffle(shuffled)
    assert {r["id"] for r in select_rows(shuffled, 2)} == {r["id"] for r in pick}, "the choice must not depend on file order"
    assert [r["id"] for r in pick] == [r["id"] for r in rows if r in pick], "returned in file order"
    # not simply the first rows by id: the hash order picks others
    assert {r["id"] for r in pick} != {r["id"] for r in rows if int(r["id"][-3:]) < 2 and r["schema_id"] != "c"} | {"c-000"}
    # a longer prefix contains a shorter one, and max_rows keeps the spread over schemas
    assert {r["id"] for r in select_rows(rows, 1)} <= {r["id"] for r in pick}
    four = select_rows(rows, 2, max_rows=4)
    assert len(four) == 4 and {r["schema_id"] for r in four} == {"a", "b", "c", "d"}
    order = stratified_order(rows)
    assert sorted(order) == list(range(len(rows)))


def test_plan_scores_every_row_for_the_release_variant_and_a_shared_subset_for_the_rest() -> None:
    rows = _rows({"a": 6, "b": 6, "c": 6})
    plan = plan_rows(rows, ["hf_tuned", "gguf_q8_0", "gguf_q4"], "gguf_q8_0", 2, 0)
    assert len(plan["gguf_q8_0"]) == 18 and len(plan["hf_tuned"]) == len(plan["gguf_q4"]) == 6
    assert plan["hf_tuned"] == plan["gguf_q4"]
    assert {r["id"] for r in plan["gguf_q4"]} <= {r["id"] for r in plan["gguf_q8_0"]}
    everything = plan_rows(rows, ["hf_tuned", "gguf_q8_0"], "gguf_q8_0", 0, 0)
    assert len(everything["hf_tuned"]) == 18
    capped = plan_rows(rows, ["hf_tuned", "gguf_q8_0"], "gguf_q8_0", 2, 2)
    assert len(capped["gguf_q8_0"]) == 2 and capped["hf_tuned"] == capped["gguf_q8_0"]


def test_every_metric_gets_an_interval_overall_per_tier_and_per_schema() -> None:
    rng = np.random.default_rng(5)
    scored = [
        {
            "schema_id": f"s{i % 3}",
            "tier": ("simple", "complex")[i % 2],
            "json_parse": 1.0,
            "json_exact": float(rng.integers(0, 2)),
            "field_f1": float(rng.random()),
            "schema_valid": 1.0,
        }
        for i in range(30)
    ]
    agg = with_intervals(aggregate(scored), scored, 500, 1)
    for group in [agg, *agg["by_tier"].values(), *agg["by_schema"].values()]:
        for m in ("json_parse", "json_exact", "field_f1", "schema_valid"):
            lo, hi = group[f"{m}_ci95"]
            assert lo <= group[m] <= hi and group[f"{m}_n"] == group["n"], (m, group)
    assert agg["json_parse_ci95"] == [1.0, 1.0] and agg["json_parse_n"] == 30


def _predictions(path: Path, sides: dict[str, list[float]]) -> Path:
    lines = []
    for side, exact in sides.items():
        variant, decoding = side.split("/")
        for i, e in enumerate(exact):
            lines.append(
                {
                    "variant": variant,
                    "decoding": decoding,
                    "id": f"r{i:03d}",
                    "schema_id": "s",
                    "json_parse": 1.0,
                    "json_exact": e,
                    "field_f1": 0.5 + e / 2,
                    "schema_valid": 1.0,
                }
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return path


def test_compare_predictions_paired_over_shared_rows(tmp_path: Path) -> None:
    runner = CliRunner()
    same = [float(i % 3 == 0) for i in range(30)]
    f = _predictions(tmp_path / "p.jsonl", {"gguf_q4/free": same, "gguf_q8_0/free": same, "hf_tuned/free": [1.0] * 30})
    res = runner.invoke(app, ["compare", "gguf_q4/free", "gguf_q8_0/free", "--predictions", str(f), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    exact = next(m for m in out["metrics"] if m["metric"] == "json_exact")
    assert out["n"] == 30 and exact["p_value"] == 1.0 and not exact["significant"]
    res = runner.invoke(app, ["compare", "gguf_q4/free", "hf_tuned/free", "--predictions", str(f)])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("json_exact"))
    assert " significant" in line and "not significant" not in line and "mcnemar_exact" in line
    assert "paired rows: 30" in res.output
    # the other side from another file, on fewer rows: only the shared ones count
    other = _predictions(tmp_path / "other.jsonl", {"gguf_q8_0/free": same[:12]})
    res = runner.invoke(app, ["compare", "gguf_q4/free", "gguf_q8_0/free", "--predictions", str(f), "--predictions-b", str(other), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n"] == 12 and json.loads(res.output)["only_a"] == 18


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["gguf_q4/free", "gguf_q8_0/free"], "need --predictions"),
        (["gguf_q4", "gguf_q8_0/free", "--predictions", "P"], "VARIANT/DECODING"),
        (["gguf_q4/free", "gguf_q3/free", "--predictions", "P"], "no rows for gguf_q3/free"),
        (["gguf_q4/free", "gguf_q8_0/free", "--predictions", "missing.jsonl"], "not found"),
    ],
)
def test_compare_predictions_bad_input_is_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    f = _predictions(tmp_path / "p.jsonl", {"gguf_q4/free": [1.0, 0.0], "gguf_q8_0/free": [1.0, 1.0]})
    args = [str(f) if a == "P" else str(tmp_path / a) if a.endswith(".jsonl") else a for a in args]
    res = CliRunner().invoke(app, ["compare", *args])
    assert res.exit_code == 2, res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], res.stderr
