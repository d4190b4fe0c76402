"""The whole graph, base model to report, in a temporary repo with a tiny params override.

The base is a tiny random Llama (a local directory, one of the three base kinds); everything
else is the real pipeline: dvc, peft, llama.cpp conversion and quantization, GGUF generation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dvc_project import build_project, dvc, edit_params, stages_run  # tests/dvc/, on sys.path under pytest

pytestmark = pytest.mark.slow


def test_full_graph_in_a_temp_repo(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = build_project(tmp_path / "proj")

    def tiny(p: dict[str, Any]) -> None:
        p["bases"] = {"tiny": str(tiny_model_dir)}
        m = p["models"]["smollm2-135m-lora"]
        m.update(base="tiny", r=4, alpha=8, max_steps=1, batch_size=2, grad_accum=1, warmup_steps=0, precision="fp32")
        p["quantize"].update(check_rows=1, check_tokens=8, min_agreement=0.0)
        p["evaluate"].update(rows_per_schema=1, max_rows=2, max_new_tokens=8, hf_batch_size=2)

    edit_params(root, tiny)
    out = dvc(root, "repro").stdout
    ran = stages_run(out)
    for stage in ("base_model@tiny", "train@smollm2-135m-lora", "quantize@smollm2-135m-lora", "evaluate@smollm2-135m-lora", "report"):
        assert stage in ran, out
    m = root / "metrics" / "smollm2-135m-lora"
    ev = json.loads((m / "eval.json").read_text())
    for variant, decodings in (("hf_base", ("free",)), ("hf_tuned", ("free",)), ("gguf_q8_0", ("free", "constrained")), ("gguf_q4", ("free", "constrained"))):
        for d in decodings:
            for k in ("json_exact", "field_f1", "schema_valid", "json_parse", "latency_ms_p50", "latency_ms_p95", "tokens_per_s", "peak_rss_mb", "size_mb"):
                assert isinstance(ev[f"{variant}.{d}.{k}"], (int, float)), f"{variant}.{d}.{k}"
    assert json.loads((m / "train.json").read_text())["steps"] == 1
    assert json.loads((m / "quantize.json").read_text())["q8_0_size_mb"] > 0
    assert (root / "models" / "smollm2-135m-lora" / "predictions.jsonl").read_text().count("\n") == 2 * 6
    assert "hf_tuned" in (root / "metrics" / "report.md").read_text()
    assert "base_model:" in (root / "models" / "smollm2-135m-lora" / "README.md").read_text()
    assert "Data and pipelines are up to date" in dvc(root, "repro").stdout
    # dvc sees the metrics and the loss curve
    shown = json.loads(dvc(root, "metrics", "show", "--json").stdout)
    assert shown, "dvc metrics show found nothing"
    plots = dvc(root, "plots", "show", "--json").stdout
    assert "loss" in plots
