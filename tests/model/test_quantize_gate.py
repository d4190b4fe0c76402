"""The quantize gate (stages/core/gate.py) on real files, for every task's quantize check: an
honest Q8_0 of the tiny model passes, and the same Q8_0 with one tensor broken fails, every run.

The broken file is made as a bad conversion would make it: llama.cpp's converter writes the
tiny model's f16 GGUF, one tensor of it (the final norm's weights) gets its sign flipped in place
through gguf-py's memory-mapped reader, and llama.cpp quantizes that to Q8_0. (Zeroing a tensor
is not enough on this model: its tied embeddings make it echo the last prompt token, a blank,
and a zeroed norm or embedding stops at once, which is also a blank; flipping the embedding's
sign cancels in the tied output layer.) The checks run each task's own gate code on a few of its rows: EdgeJSON's greedy check,
EdgeIntent's label check and EdgeFuncCall's constrained-answer check.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from intent_models import banking_rows

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.inference.gguf_convert import converter, quantize_file, to_f16

pytestmark = pytest.mark.slow


def negate_tensor(path: Path, name: str) -> None:
    """Flip the sign of one f16 tensor of a GGUF file in place (gguf-py from llama.cpp's converter folder)."""
    sys.path.insert(0, str(converter().parent / "gguf-py"))
    try:
        import gguf
    finally:
        sys.path.pop(0)
    reader = gguf.GGUFReader(path, "r+")
    found = [t for t in reader.tensors if t.name == name]
    assert found, f"{path} has no tensor {name}: {[t.name for t in reader.tensors]}"
    found[0].data[...] = -found[0].data
    reader.data.flush()
    del reader


@pytest.fixture(scope="module")
def files(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("gate-files")
    f16 = out / "model-f16.gguf"
    to_f16(tiny_model_dir, f16)
    honest = out / "honest-q8_0.gguf"
    quantize_file(f16, honest, "Q8_0", 1)
    broken_f16 = out / "broken-f16.gguf"
    shutil.copyfile(f16, broken_f16)
    negate_tensor(broken_f16, "output_norm.weight")
    broken = out / "broken-q8_0.gguf"
    quantize_file(broken_f16, broken, "Q8_0", 1)
    return {"merged": tiny_model_dir, "honest": honest, "broken": broken}


def test_intent_gate_passes_an_honest_q8_0_and_fails_a_broken_one(files: dict[str, Path], real_params: Any) -> None:
    from stages.pipeline.quantize import PARTS, gate_gguf
    from stages.tasks import registry

    intent = registry.pipeline_task("intent", "--task", PARTS)
    _, rows, labels = banking_rows(n_labels=6, train_per_label=1, test_per_label=4)
    cfg = dataclasses.replace(P.intent_mlm(real_params), threads=1, parallel=4, batch_size=4)
    c = {"labels": sorted(set(labels))}
    fig = gate_gguf(intent, "banking77", "intent honest", files["merged"], files["honest"], rows, c, cfg, 200, 1)
    assert fig["agreement"] >= cfg.min_agreement and fig["agreement_ci95"][0] <= fig["agreement"] <= fig["agreement_ci95"][1]
    assert fig["agreement_n"] == fig["score_n"] == fig["score_merged_n"] == fig["score_diff_n"] > 0, "each figure with its n"
    with pytest.raises(SLMBenchError) as err:
        gate_gguf(intent, "banking77", "intent broken", files["merged"], files["broken"], rows, c, cfg, 200, 1)
    msg = str(err.value)
    assert msg.count("\n") == 0 and msg.startswith("intent broken: agrees with the merged model on") and "intent.mlm_scoring.min_agreement" in msg, msg


def test_funccall_gate_passes_an_honest_q8_0_and_fails_a_broken_one(files: dict[str, Path], real_params: Any, repo_root: Path, tmp_path: Path) -> None:
    from stages.pipeline.quantize import PARTS, gate_gguf
    from stages.tasks import registry
    from stages.tasks.funccall.generate_stage import main as generate_main
    from stages.tasks.funccall.rows import read_call_rows

    generate_main(repo_root / "tools", tmp_path / "generated.jsonl", tmp_path / "generate.json", seed=5, rows=30, test_fraction=0.25)
    rows = read_call_rows(tmp_path / "generated.jsonl")[:6]
    cfg = dataclasses.replace(P.funccall_mlm(real_params), threads=1, parallel=4, batch_size=4, max_new_tokens=24)
    funccall = registry.pipeline_task("funccall", "--task", PARTS)
    c = {"json_schema": "per_row"}
    fig = gate_gguf(funccall, "edgefunccall", "funccall honest", files["merged"], files["honest"], rows, c, cfg, 200, 1)
    assert fig["agreement"] >= cfg.min_agreement
    with pytest.raises(SLMBenchError, match=r"^funccall broken: agrees with the merged model on [0-9.]+ of 6 check rows, below the floor funccall.mlm_scoring.min_agreement"):
        gate_gguf(funccall, "edgefunccall", "funccall broken", files["merged"], files["broken"], rows, c, cfg, 200, 1)


def test_edgejson_gate_passes_an_honest_q8_0_and_fails_a_broken_one(files: dict[str, Path], real_params: Any, repo_root: Path, catalog: dict[str, Any]) -> None:
    from stages.tasks.edgejson.generate import run as generate
    from stages.tasks.edgejson.quantize import check_rows, compare, gate, greedy_answers

    rows = check_rows(generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False), 1)[:6]
    cfg = dataclasses.replace(real_params.quantize, check_max_tokens=12, threads=1)
    ggufs = {"q8_0": files["honest"]}
    ref, got = greedy_answers(files["merged"], {"q8_0": files["honest"], "broken": files["broken"]}, rows, catalog, cfg, hf_batch=2, parallel=2)
    merged_json_exact = [0.0] * len(rows)
    gate(compare(ref, {"q8_0": got["q8_0"]}, ggufs, {"q8_0"}, rows, catalog), ref, rows, merged_json_exact, cfg, 200, 1)
    with pytest.raises(SLMBenchError, match=r"\(q8_0\): agrees with the merged model on [0-9.]+ of 6 check rows, below the floor quantize.min_agreement"):
        gate(compare(ref, {"q8_0": got["broken"]}, {"q8_0": files["broken"]}, {"q8_0"}, rows, catalog), ref, rows, merged_json_exact, cfg, 200, 1)
