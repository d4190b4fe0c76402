"""EdgeFuncCall's stages in a real DVC repo: the real tool catalogue and BFCL's unpacked files run
through generate, the GX gate, the split and the BFCL conversion to a trained, quantized and
scored MLM (a tiny random Llama: the stages, not the model, are under test) and its card; then a
catalogue edit reruns EdgeFuncCall's stages only, and `dvc metrics diff` shows the catalogue's new
hash. The gate failing (one line, no validated.jsonl left) is tests/code/test_funccall_data.py's."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from dvc_project import build_project, dvc, edit_params, git_init_commit, run, stages_run

pytestmark = pytest.mark.slow

STAGES = ("funccall_generate", "funccall_validate", "funccall_split", "funccall_bfcl", "funccall_mlm_train", "funccall_mlm_quantize", "funccall_mlm_evaluate", "funccall_card")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("funccall") / "proj"
    build_project(root)
    # BFCL as .ci/bfcl.sh unpacks it into the venv (the stage's dependency), copied from this one
    shutil.copytree(Path(sys.prefix) / "share" / "slmbench" / "bfcl", root / ".venv" / "share" / "slmbench" / "bfcl")

    def one_dataset(p: dict[str, Any]) -> None:
        p["funccall"]["datasets"] = {
            "tiny": {"tools_dir": "tools", "seed": 3, "rows": 300, "test_fraction": 0.3, "none_share": 0.15, "parallel_share": 0.15, "distractors": [1, 3],
                     "similar_share": 0.3, "surfaces": ["imperative", "question", "indirect", "filler"], "max_reject_rate": 0.05, "min_per_tool": 1},
        }  # fmt: skip
        p["bases"]["tiny-llama"] = str(tiny_model_dir)
        # (the GGUF-against-merged check is tests/model/test_funccall_mlm.py's: check_rows 0 here)
        p["funccall"]["mlm"].update(base="tiny-llama", train_rows=8, max_steps=1, r=4, alpha=8, batch_size=4, warmup_steps=0, precision="fp32")
        p["funccall"]["mlm_scoring"].update(test_rows=4, bfcl_rows=2, check_rows=0, parallel=4, max_new_tokens=24, decodings=["free", "constrained"])

    edit_params(root, one_dataset)
    git_init_commit(root, "tiny funccall dataset")
    return root


def test_funccall_stages_run_from_the_catalogue_to_a_scored_model(project: Path) -> None:
    out = dvc(project, "repro", "funccall_card@tiny").stdout
    assert stages_run(out) == {f"{s}@tiny" for s in STAGES} | {"base_model@tiny-llama"}
    m = project / "metrics/funccall/tiny"
    ev = json.loads((m / "mlm/eval.json").read_text(encoding="utf-8"))
    assert set(ev) >= {"edgefunccall", "bfcl_simple_python", "bfcl_multiple", "bfcl_irrelevance", "size_mb", "peak_rss_mb", "metric_versions"}
    assert ev["size_bytes"] == (project / "models/funccall/tiny/mlm/gguf/model-q8_0.gguf").stat().st_size
    for name in ("edgefunccall", "bfcl_simple_python", "bfcl_multiple", "bfcl_irrelevance"):
        for decoding in ("free", "constrained"):
            fig = ev[name][decoding]
            assert fig["n"] == (4 if name == "edgefunccall" else 2) and fig["ast_accuracy_ci95"][0] <= fig["ast_accuracy"] <= fig["ast_accuracy_ci95"][1]
    assert ev["bfcl_simple_python"]["rows_available"] == 400 and ev["bfcl_irrelevance"]["constrained"]["irrelevance_accuracy_n"] == 2
    quality = json.loads((m / "quality.json").read_text(encoding="utf-8"))
    split = json.loads((m / "split.json").read_text(encoding="utf-8"))
    assert quality["gate"]["passed"] is True and quality["rows_accepted"] == 300 and split["train"]["rows"] + split["test"]["rows"] == 300
    assert json.loads((m / "mlm/train.json").read_text(encoding="utf-8"))["train_rows"] == 8
    preds = (project / "data/funccall/tiny/mlm_predictions/bfcl_multiple.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(preds) == 2 and {"free", "constrained"} <= set(json.loads(preds[0]))
    card = (project / "models/funccall/tiny/README.md").read_text(encoding="utf-8")
    assert f"{ev['edgefunccall']['constrained']['ast_accuracy']:.3f}" in card and "| bfcl_irrelevance | constrained | 2 |" in card
    scores = json.loads((m / "mlm/scores.json").read_text(encoding="utf-8"))
    assert len(scores) == 8 and all(s["ast_accuracy_ci95"][0] <= s["ast_accuracy"] <= s["ast_accuracy_ci95"][1] for s in scores)
    assert all(s["ast_accuracy_n"] == s["n"] for s in scores)
    assert "changed" not in dvc(project, "status", "funccall_card@tiny", "--with-deps").stdout


def test_a_catalogue_edit_reruns_funccall_only_and_shows_in_metrics_diff(project: Path) -> None:
    dvc(project, "repro", "funccall_validate@tiny")
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-q", "-m", "funccall data"], project)
    before = json.loads((project / "metrics/funccall/tiny/quality.json").read_text(encoding="utf-8"))["catalogue_sha256"]
    weather = project / "tools/weather.json"
    doc = json.loads(weather.read_text(encoding="utf-8"))
    doc["tools"][0]["function"]["description"] += " Now or later."
    weather.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    assert "tools" not in dvc(project, "status", "split@v4", "--with-deps").stdout  # not a dep of EdgeJSON's stages
    status = dvc(project, "status", "funccall_validate@tiny", "--with-deps").stdout
    assert "funccall_generate@tiny" in status and "modified:           tools" in status, status
    dvc(project, "repro", "funccall_validate@tiny")
    out = dvc(project, "metrics", "diff", "--json").stdout
    diff = json.loads(out[out.index("{") :])  # after DVC's note on the metrics of stages this test never ran
    changed = diff["metrics/funccall/tiny/quality.json"]["catalogue_sha256"]
    assert changed["old"] == before and changed["new"] != before
