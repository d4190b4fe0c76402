"""The cards and the release summary format what the metrics files hold: each quality figure with its
95% interval and n when given, n/a when a key is absent, from the nested metrics layout (docs/design.md)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from stages.evaluate import report
from stages.tasks.edgejson import card, figures
from stages.tasks.edgejson.report import report_lines as edgejson_section
from stages.tasks.funccall.report import report_lines as funccall_section
from stages.tasks.intent.report import report_lines as intent_section

EVAL = {
    "gguf_q8_0": {
        "constrained": {
            "json_exact": 0.413333,
            "json_exact_ci95": [0.333333, 0.493333],
            "json_exact_n": 150,
            "field_f1": 0.81,
            "n": 150,
            "tier_simple": {"json_exact": 0.9, "n": 60},
        }
    },
    "hf_base": {"free": {"json_exact": 0.0, "n": 50}},
}


def test_a_figure_carries_its_interval_and_n() -> None:
    g = EVAL["gguf_q8_0"]["constrained"]
    assert figures.figure(g, "json_exact") == "0.413 [0.333, 0.493]"
    assert figures.with_n(g, "json_exact") == "0.413 [0.333, 0.493], n=150"
    assert figures.figure(g, "field_f1") == "0.810"  # no interval in the file: the bare figure
    assert figures.figure(g, "schema_valid") == "n/a"
    assert figures.group(EVAL, "gguf_q8_0", "free") == {} and figures.group(EVAL, "gguf_q8_0", "constrained", "tier_simple")["n"] == 60
    assert figures.scored(EVAL) == [("hf_base", "free"), ("gguf_q8_0", "constrained")]
    rows = figures.table("m", EVAL)
    assert rows[2].startswith("| m | hf_base | free | 50 | 0.000 | n/a |")
    assert "| m | gguf_q8_0 | constrained | 150 | 0.413 [0.333, 0.493] | 0.810 |" in rows[3]


def test_quantize_check_per_type() -> None:
    qz = {
        "q4_0": {"n": 25, "exact_agreement": 0.4, "exact_agreement_ci95": [0.2, 0.6], "exact_agreement_n": 25, "size_mb": 92.1},
        "merged": {"n": 25, "json_exact": 0.5},
        "base_q8_0": {"size_mb": 144.81},
    }
    lines = figures.check_table(qz)
    assert any(line.startswith("| q4_0 | 25 | 0.400 [0.200, 0.600] | n/a | n/a | 92.1 |") for line in lines), lines
    assert lines[2].startswith("| merged | 25 | n/a | n/a | 0.500 |")
    assert not any(line.startswith("| base_q8_0") for line in lines), "a file with a size and no check figures has no row"
    assert figures.sizes(qz) == "base_q8_0 144.81 MB, q4_0 92.1 MB"
    assert figures.check_table({}) == ["No greedy check figures in quantize.json."]


def test_card_and_summary_do_not_crash_on_missing_files(tmp_path: Path, real_params) -> None:
    name = next(iter(real_params.models))
    m = real_params.models[name]
    text = card.model_card(name, m, "embedded:x", "v3", "gguf_q8_0", {}, {}, {}, {})
    assert f"# {name}" in text and "gguf_q8_0 not scored yet" in text
    text = card.model_card(name, m, "embedded:x", "v3", "gguf_q8_0", EVAL, {"steps": 1}, {}, {"rows_accepted": 800})
    assert "gguf_q8_0 constrained: json_exact 0.413 [0.333, 0.493], n=150" in text
    assert "0.900, n=60" in text  # the tier table
    summary = report.summary(real_params, tmp_path)
    assert all(f"| {v}" in summary for v in real_params.datasets)
    assert summary.startswith("# SLMBench release report\n\nModels train on dataset") and summary.endswith("\n")
    assert summary.index("## Dataset versions") < summary.index("## EdgeIntent") < summary.index("## EdgeFuncCall"), "every task's section, in leaderboard order"
    assert report.release_metrics("v3", tmp_path) == {}
    (tmp_path / "v3").mkdir()
    (tmp_path / "v3" / "quality.json").write_text(json.dumps({"rows_accepted": 800, "reject_rate": 0.02, "gate_passed": True}), encoding="utf-8")
    (tmp_path / "v3" / "split.json").write_text(json.dumps({"train_rows": 700, "test_rows": 100}), encoding="utf-8")
    nested = {"dataset": {"rows_accepted": 800, "reject_rate": 0.02, "gate_passed": True, "train_rows": 700, "test_rows": 100}}
    assert report.release_metrics("v3", tmp_path) == nested  # `dvc metrics diff` shows `dataset.rows_accepted`
    empty = {"version": "v2", "corrupt_rate_full_suite": None, "reject_rate": None, "rows_regenerated": None, "rows_accepted": None}
    assert json.loads(json.dumps(report.quality_rows(["v2"], tmp_path))) == [empty]


UNSEEN = EVAL | {
    "test_unseen": {
        "gguf_q8_0": {"constrained": {"json_exact": 0.125, "json_exact_ci95": [0.05, 0.2], "json_exact_n": 160, "n": 160, "tier_simple": {"n": 64}}},
    },
}


def test_unseen_schemas_come_first_in_the_card_and_the_summary(tmp_path: Path, real_params) -> None:
    assert figures.unseen_scored(UNSEEN) == [("gguf_q8_0", "constrained")]
    assert figures.scored(UNSEEN) == figures.scored(EVAL)  # the unseen keys are not a variant of their own
    rows = figures.split_table("m", UNSEEN)
    assert rows[2].startswith("| m | gguf_q8_0 | constrained | test_unseen | 160 | 0.125 [0.050, 0.200] |")
    assert rows[3].startswith("| m | gguf_q8_0 | constrained | test_seen | 150 | 0.413 [0.333, 0.493] |")
    assert figures.split_table("m", EVAL) == []
    name = next(iter(real_params.models))
    text = card.model_card(name, real_params.models[name], "embedded:x", "v3", "gguf_q8_0", UNSEEN, {}, {}, {})
    unseen_at = text.index("test_unseen): gguf_q8_0 constrained: json_exact 0.125 [0.050, 0.200], n=160")
    assert unseen_at < text.index("test_seen): gguf_q8_0 constrained: json_exact 0.413") < text.index(" | test_seen | ")
    (tmp_path / "metrics" / "models" / name).mkdir(parents=True)
    (tmp_path / "metrics" / "models" / name / "eval.json").write_text(json.dumps(UNSEEN), encoding="utf-8")
    summary = "\n".join(edgejson_section(real_params, tmp_path))
    assert summary.index("| test_unseen | 160 |") < summary.index("| test_seen | 150 |") < summary.index("### Every variant on test_seen")


def test_the_intent_section_reads_every_models_figures_and_training_time(tmp_path: Path) -> None:
    from stages.core import params as P

    folder = tmp_path / "metrics" / "intent" / "clinc150"
    folder.mkdir(parents=True)
    nlm = {"n": 3100, "accuracy": 0.9, "accuracy_ci95": [0.89, 0.91], "macro_f1": 0.91, "macro_f1_ci95": [0.9, 0.92], "in_scope_accuracy": 0.915,
           "in_scope_accuracy_ci95": [0.904, 0.924], "oos_recall": 0.72, "oos_recall_ci95": [0.63, 0.8], "size_mb": 8.96, "latency_ms_p50": 0.14, "peak_rss_mb": 80.5}  # fmt: skip
    mlm = {"n": 850, "accuracy": 0.5, "accuracy_ci95": [0.46, 0.54], "size_mb": 144.8, "latency_ms_p50": 190.0, "latency_ms_p95": 240.0, "peak_rss_mb": 650.0}
    (folder / "eval.json").write_text(json.dumps({"n": 3100, "models": {"mlm": mlm, "nlm": nlm, "majority": {"n": 3100, "accuracy": 0.006}}}), encoding="utf-8")
    (folder / "nlm_train.json").write_text(json.dumps({"wall_s": 39.7, "n_rows": 15078}), encoding="utf-8")
    (folder / "mlm").mkdir()
    (folder / "mlm" / "train.json").write_text(json.dumps({"wall_s": 320.7, "train_rows": 1510}), encoding="utf-8")
    (folder / "baselines_train.json").write_text(json.dumps({"majority": {"wall_s": 0.002}}), encoding="utf-8")
    recipe = {"task": "intent", "format": "clinc150", "min_chars": 2, "max_chars": 512, "min_per_class": 20, "drop_conflicts": True, "max_reject_rate": 0.01}
    p = dataclasses.replace(P.load(Path("params.yaml")), intent=P.build(P.IntentParams, {"datasets": {"clinc150": recipe}}, "intent"))
    lines = intent_section(p, tmp_path)
    assert lines[0] == "## EdgeIntent" and "| model | accuracy | macro F1 | in-scope accuracy | oos recall |" in "\n".join(lines)
    rows = [line for line in lines if line.startswith(("| nlm", "| majority", "| mlm"))]
    assert rows[0].startswith("| majority | 0.006 | - | - | - | 3100 |"), rows  # the baselines first; a missing figure is a dash
    assert rows[1] == "| nlm | 0.900 [0.890, 0.910] | 0.910 [0.900, 0.920] | 0.915 [0.904, 0.924] | 0.720 [0.630, 0.800] | 3100 | 8.960 | 0.140 | n/a | 80.5 | 39.7 | 15078 |"
    assert rows[2] == "| mlm | 0.500 [0.460, 0.540] | - | - | - | 850 | 144.8 | 190 | 240 | 650 | 320.7 | 1510 |"


def test_the_funccall_section_reads_every_row_set_and_decoding(tmp_path: Path) -> None:
    from stages.core import params as P
    from stages.tasks.funccall import card as funccall_card

    folder = tmp_path / "metrics" / "funccall" / "edgefunccall"
    (folder / "mlm").mkdir(parents=True)
    fig = {"n": 601, "ast_accuracy": 0.46, "ast_accuracy_ci95": [0.42, 0.5], "irrelevance_accuracy": 0.7, "irrelevance_accuracy_ci95": [0.6, 0.8], "tokens_per_s": 25.5}
    bfcl = {"n": 100, "ast_accuracy": 0.2, "ast_accuracy_ci95": [0.12, 0.28]}
    ev = {"edgefunccall": {"constrained": fig}, "bfcl_multiple": {"free": bfcl, "constrained": {**bfcl, "ast_accuracy": 0.3}}, "size_mb": 144.8, "runtime": "llama.cpp"}
    (folder / "mlm" / "eval.json").write_text(json.dumps(ev), encoding="utf-8")
    (folder / "mlm" / "train.json").write_text(json.dumps({"wall_s": 444.2, "train_rows": 480}), encoding="utf-8")
    (folder / "quality.json").write_text(json.dumps({"rows_in": 3000, "rows_accepted": 3000, "catalogue_version": "1", "catalogue_sha256": "9198" * 16}), encoding="utf-8")
    p = P.load(Path("params.yaml"))
    lines = funccall_section(p, tmp_path)
    assert lines[0] == "## EdgeFuncCall" and "### edgefunccall" in lines and any("catalogue version 1, sha256 919891989198" in line for line in lines)
    rows = [line for line in lines if line.startswith(("| edgefunccall", "| bfcl"))]
    assert rows[0].startswith("| edgefunccall | constrained | 601 | 0.460 [0.420, 0.500] | - | - | 0.700 [0.600, 0.800] |")  # our split first
    assert rows[1].startswith("| bfcl_multiple | free | 100 | 0.200 [0.120, 0.280] |") and rows[2].startswith("| bfcl_multiple | constrained | 100 | 0.300")
    assert [r["rows"] for r in funccall_card.score_rows(ev)] == ["edgefunccall / constrained", "bfcl_multiple / free", "bfcl_multiple / constrained"]
    assert funccall_section(dataclasses.replace(p, funccall=P.FuncCallParams()), tmp_path) == []


def test_the_generic_card_stage_writes_each_tasks_card_and_plot_or_one_line(tmp_path: Path, repo_root: Path) -> None:
    """The card stage runs EdgeJSON's and EdgeFuncCall's card parts on metrics files; a plot given to
    a task that draws none, or withheld from one that draws one, is one line and writes nothing."""
    from typer.testing import CliRunner

    from stages.cli import app

    m = tmp_path / "m"
    m.mkdir()
    (m / "eval.json").write_text(json.dumps(UNSEEN), encoding="utf-8")
    (m / "train.json").write_text(json.dumps({"steps": 3}), encoding="utf-8")
    (m / "quantize.json").write_text(json.dumps({}), encoding="utf-8")
    (m / "quality.json").write_text(json.dumps({"rows_accepted": 800}), encoding="utf-8")
    name = "smollm2-135m-lora"
    args = ["card", "--task", "edgejson", "--name", name, "--params", str(repo_root / "params.yaml"), *(f"--{k}={m / (k + '.json')}" for k in ("eval", "train", "quantize", "quality"))]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "README.md")])
    assert r.exit_code == 2 and r.output.strip() == "error: --plot: the task 'edgejson' draws a plot; give --plot exactly when it draws one", r.output
    assert not (tmp_path / "README.md").exists()
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "README.md"), "--plot", str(tmp_path / "tiers.json")])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n") and f"# {name}" in text and "json_exact 0.125 [0.050, 0.200], n=160" in text
    assert json.loads((tmp_path / "tiers.json").read_text(encoding="utf-8"))[0]["tier"] == "simple"
