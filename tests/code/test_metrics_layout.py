"""The one metrics layout (docs/design.md, "One metrics layout"), for every task.

Every metrics JSON file is nested objects, no dotted keys; a quality figure `m` sits beside
`m_ci95: [lo, hi]` and `m_n` in the same object (a paired difference `d` also with `d_p`); plain
numbers stay plain keys. `layout_problems` checks an object against that, and is applied to
(a) what the real writers produce from tiny inputs, (b) a deliberately bad object, so the check can
fail, and (c) every committed metrics file that carries figures (it fails for a file written before
the layout until the pipeline writes that file again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
OLD_INTERVAL = ("ci_low", "ci_high")  # `<m>_ci_low`, and the bare `ci_low` of a plot's rows
# the metrics files that hold figures; any other file under metrics/ holding an interval is checked too
FIGURE_FILES = ("eval.json", "eval_by_schema.json", "quantize.json", "release.json", "scores.json")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def layout_problems(obj: Any, where: str = "") -> list[str]:
    """Every way `obj` (a parsed metrics file) breaks the one metrics layout, one line each; [] when it keeps it."""
    out: list[str] = []
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            out += layout_problems(item, f"{where}[{i}]")
        return out
    if not isinstance(obj, dict):
        return out
    for key, value in obj.items():
        at = f"{where}/{key}"
        if "." in key:
            out.append(f"{at}: a dotted key; nest it as objects")
        if key.endswith(OLD_INTERVAL):
            out.append(f"{at}: an interval bound of its own; write `<m>_ci95: [lo, hi]`")
        if key.endswith("_ci95"):
            m = key.removesuffix("_ci95")
            if not (isinstance(value, list) and len(value) == 2 and all(_number(x) for x in value) and value[0] <= value[1]):
                out.append(f"{at}: {value!r} is not [lo, hi], two numbers with lo <= hi")
            if m not in obj:
                out.append(f"{at}: no `{m}` beside it")
            n = obj.get(f"{m}_n")
            if n is None:
                out.append(f"{at}: no `{m}_n` beside it")
            elif not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
                out.append(f"{where}/{m}_n: {n!r} is not a row count")
        out += layout_problems(value, at)
    return out


def _edgejson_scored() -> list[dict[str, Any]]:
    return [
        {"schema_id": f"s{i % 2}", "tier": ("simple", "complex")[i % 2], "json_parse": 1.0, "json_exact": float(i % 3 == 0), "field_f1": i % 4 / 4}
        | {"schema_valid": 1.0}
        for i in range(8)
    ]


def test_edgejson_eval_and_by_schema_keep_the_layout() -> None:
    from stages.tasks.edgejson.evaluation import nest, place, with_intervals
    from stages.tasks.edgejson.scoring import aggregate

    scored = _edgejson_scored()
    ev: dict[str, Any] = {}
    by_schema: dict[str, Any] = {}
    for split in ("test_seen", "test_unseen"):
        for decoding in ("free", "constrained"):
            figures, schemas = nest(with_intervals(aggregate(scored), scored, 200, 0) | {"size_mb": 1.5, "latency_ms_p50": 3.0})
            place(ev, split, "gguf_q8_0", decoding, figures)
            place(by_schema, split, "gguf_q8_0", decoding, schemas)
    assert layout_problems(ev) == [] and layout_problems(by_schema) == []
    g = ev["gguf_q8_0"]["constrained"]
    assert g["json_exact_n"] == g["n"] == 8 and g["tier_simple"]["json_exact_n"] == g["tier_simple"]["n"] == 4
    assert set(ev["test_unseen"]["gguf_q8_0"]) == {"free", "constrained"} and set(by_schema["gguf_q8_0"]["free"]) == {"s0", "s1"}
    assert g["size_mb"] == 1.5, "plain numbers stay plain keys"


def test_quantize_json_keeps_the_layout() -> None:
    from stages.tasks.edgejson.quantize import Agreement, summarize

    ref = ["a", "b", "c", "d"]
    got = ["a", "b", "x", "d"]
    q = Agreement("q8_0", Path("model-q8_0.gguf"), True, [float(a == b) for a, b in zip(ref, got)], [1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], got)
    out = summarize([q], [1.0, 0.0, 1.0, 1.0], {"f16": 270.0, "q8_0": 145.0}, 200, 0)
    assert layout_problems(out) == []
    assert out["q8_0"]["json_exact_diff_n"] == 4 and "json_exact_diff_p" in out["q8_0"] and out["f16"] == {"size_mb": 270.0}


def test_the_quantize_gate_figures_keep_the_layout() -> None:
    from stages.core.gate import CheckRows, figures

    rows = CheckRows("f.gguf", ["r1", "r2", "r3"], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.5, 0.9], ["a", "b", "c"], ["a", "b", "x"])
    fig = figures(rows, 200, 0)
    assert layout_problems(fig) == []
    assert fig["agreement_n"] == fig["score_n"] == fig["score_merged_n"] == fig["score_diff_n"] == 3 and "score_diff_p" in fig


def test_a_paired_test_keeps_the_layout() -> None:
    from stages.core.stats import paired_test

    t = paired_test([1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], 200, 0)
    assert layout_problems(t) == [] and t["diff_n"] == 4 and len(t["diff_ci95"]) == 2


def test_intent_and_funccall_figures_keep_the_layout() -> None:
    from stages.tasks.funccall.metrics import summarize
    from stages.tasks.intent.metrics import score

    summary, _ = score(["a", "b", "oos", "a"], ["a", "oos", "oos", "b"], ["a", "b", "oos"], samples=200, seed=0)
    assert layout_problems(summary) == []
    assert (summary["accuracy_n"], summary["in_scope_accuracy_n"], summary["oos_recall_n"]) == (4, 3, 1)
    row = {"ast": 1.0, "name": 1.0, "json_parse": 1.0, "schema_valid": 1.0, "tp": 1, "fp": 0, "fn": 0, "error": "", "kind": "single", "domain": "weather"}
    none = row | {"ast": 0.0, "tp": 0, "fn": 1, "error": "wrong_call", "kind": "none", "domain": "notes"}
    fc = summarize([row, none, row], 200, 0)
    assert layout_problems(fc) == [] and fc["ast_accuracy_n"] == 3


def test_the_release_figures_and_the_funccall_plot_keep_the_layout(tmp_path: Path) -> None:
    from stages.evaluate.report import release_metrics
    from stages.tasks.funccall.card import score_rows

    (tmp_path / "v4").mkdir()
    (tmp_path / "v4" / "quality.json").write_text(json.dumps({"rows_accepted": 10, "reject_rate": 0.1}), encoding="utf-8")
    release = release_metrics("v4", tmp_path)
    assert layout_problems(release) == [] and release == {"dataset": {"rows_accepted": 10, "reject_rate": 0.1}}
    ev = {"edgefunccall": {"constrained": {"n": 5, "ast_accuracy": 0.4, "ast_accuracy_ci95": [0.0, 0.8], "ast_accuracy_n": 5}}}
    rows = score_rows(ev)
    assert layout_problems(rows) == [] and rows[0]["ast_accuracy_n"] == 5


# ---- (b) the check can fail -------------------------------------------------------------------


def test_a_bad_file_is_caught_on_every_count() -> None:
    bad = {
        "gguf_q8_0.constrained.json_exact": 0.5,  # dotted
        "f16": {"json_exact": 0.6, "json_exact_ci_low": 0.4, "json_exact_ci_high": 0.8, "n": 40},  # old bounds
        "q8_0": {
            "score": 0.5, "score_ci95": [0.7, 0.3], "score_n": 10,  # lo > hi
            "agreement": 0.9, "agreement_ci95": [0.8], "agreement_n": 10,  # not a pair
            "size_ci95": [0.1, 0.2], "size_n": 3,  # no value beside it
            "oos_recall": 0.7, "oos_recall_ci95": [0.6, 0.8],  # no n beside it
            "accuracy": 0.7, "accuracy_ci95": [0.6, 0.8], "accuracy_n": 2.5,  # not a row count
        },
        "rows": [{"m": 1.0, "m_ci95": ["lo", "hi"], "m_n": 1}],  # inside a list, not numbers
    }  # fmt: skip
    problems = layout_problems(bad)
    expected = [
        "/gguf_q8_0.constrained.json_exact: a dotted key",
        "/f16/json_exact_ci_low: an interval bound",
        "/f16/json_exact_ci_high: an interval bound",
        "/q8_0/score_ci95: [0.7, 0.3] is not [lo, hi]",
        "/q8_0/agreement_ci95: [0.8] is not [lo, hi]",
        "/q8_0/size_ci95: no `size` beside it",
        "/q8_0/oos_recall_ci95: no `oos_recall_n` beside it",
        "/q8_0/accuracy_n: 2.5 is not a row count",
        "/rows[0]/m_ci95: ['lo', 'hi'] is not [lo, hi]",
    ]
    for e in expected:
        assert any(p.startswith(e) for p in problems), (e, problems)
    assert len(problems) == len(expected), problems
    assert layout_problems({"a": {"m": 0.5, "m_ci95": [0.4, 0.6], "m_n": 9, "n": 9, "size_mb": 1.0}}) == []


# ---- (c) the committed metrics files ------------------------------------------------------------


def _figure_files() -> list[Path]:
    found = []
    for path in sorted((REPO / "metrics").rglob("*.json")):
        if "data_docs" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.name in FIGURE_FILES or any(s in text for s in ("_ci95", *OLD_INTERVAL)):
            found.append(path)
    return found


@pytest.mark.parametrize("path", _figure_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_committed_metrics_file_keeps_the_layout(path: Path) -> None:
    """A file the pipeline wrote before the layout fails here until `dvc repro` writes it again."""
    problems = layout_problems(json.loads(path.read_text(encoding="utf-8")))
    assert problems == [], f"{path.relative_to(REPO)}: {len(problems)} problems, e.g. {problems[:3]}"
