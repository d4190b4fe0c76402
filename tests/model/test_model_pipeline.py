"""train -> quantize -> evaluate on a tiny random Llama with the real SmolLM2 tokenizer.

Real peft, real llama.cpp conversion and quantization, real GGUF generation; no mocks.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages import params as P
from stages.catalog import load_catalog
from stages.cli import app
from stages.evaluate import evaluate_model
from stages.quantize import run as quantize_run
from stages.records import read_rows
from stages.train import run as train_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(repo_root: Path) -> list[dict]:
    from stages.generate import run as generate

    p = P.load(repo_root / "params.yaml")
    recipe = dataclasses.replace(p.datasets["v3"], rows_per_schema=1)
    return generate("v3", recipe, load_catalog(repo_root / "schemas"), progress=False)


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, rows: list[dict], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    p = P.load(repo_root / "params.yaml")
    cfg = dataclasses.replace(p.models["smollm2-135m-lora"], r=4, alpha=8, max_steps=2, batch_size=2, grad_accum=1, warmup_steps=0, precision="fp32")
    out = tmp_path_factory.mktemp("trained")
    small = [r for r in rows if r["complexity"] == "simple"][:6]
    m1 = train_run("tiny", cfg, tiny_model_dir, small, load_catalog(repo_root / "schemas"), out / "adapter", out / "merged", out / "live")
    m2 = train_run("tiny", cfg, tiny_model_dir, small, load_catalog(repo_root / "schemas"), out / "adapter2", out / "merged2", out / "live2")
    return {"dir": out, "m1": m1, "m2": m2, "cfg": cfg, "params": p}


def test_train_outputs_and_same_loss_curve_on_rerun(trained: dict) -> None:
    out, m1, m2 = trained["dir"], trained["m1"], trained["m2"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert list((out / "merged").glob("*.safetensors")) and (out / "merged" / "tokenizer.json").is_file()
    assert not list((out / "merged").glob("*.bin")), "weights must be safetensors, never pickle"
    assert m1["steps"] == 2 and m1["tokens"] > 0 and m1["tokens_per_s"] > 0 and m1["peak_rss_mb"] > 0
    for key in ("steps", "tokens", "final_loss", "train_loss"):
        assert m1[key] == m2[key], key
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (out / "adapter" / name).read_bytes() == (out / "adapter2" / name).read_bytes(), name
    assert "output_dir" not in (out / "live" / "params.yaml").read_text()
    curve = (out / "live" / "plots" / "metrics" / "loss.tsv").read_text().splitlines()
    assert curve[0].split("\t")[:2] == ["step", "loss"] and len(curve) == 3


def test_loss_is_on_answer_tokens_only(tiny_model_dir: Path, rows: list[dict], repo_root: Path) -> None:
    from transformers import AutoTokenizer

    from stages.models import answer_text
    from stages.train import IGNORE, encode

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    (ex,), dropped = encode(rows[:1], load_catalog(repo_root / "schemas"), tok, 4096)
    labelled = [t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab != IGNORE]
    assert dropped == 0
    schema = load_catalog(repo_root / "schemas")[rows[0]["schema_id"]].schema
    assert tok.decode(labelled) == answer_text(rows[0]["expected_output"], schema) + tok.eos_token


@pytest.fixture(scope="module")
def quantized(trained: dict, rows: list[dict], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    p = trained["params"]
    qcfg = dataclasses.replace(p.quantize, check_rows=2, check_tokens=8)  # the real min_agreement
    gguf_dir = tmp_path_factory.mktemp("gguf")
    return {"dir": gguf_dir, "metrics": quantize_run(trained["dir"] / "merged", gguf_dir, rows, load_catalog(repo_root / "schemas"), qcfg)}


def test_quantize_and_evaluate_gguf_and_hf(trained: dict, quantized: dict, rows: list[dict], repo_root: Path) -> None:
    p = trained["params"]
    catalog = load_catalog(repo_root / "schemas")
    q, gguf_dir = quantized["metrics"], quantized["dir"]
    assert q["greedy_exact_f16"] == 1.0 and q["greedy_prefix_f16"] == 1.0
    assert q["greedy_prefix_q8_0"] >= p.quantize.min_agreement and q["greedy_prefix_q4"] >= p.quantize.min_agreement
    assert 0 < q["q4_size_mb"] < q["q8_0_size_mb"] < q["f16_size_mb"]
    assert (gguf_dir / "model-q8_0.gguf").read_bytes()[:4] == b"GGUF"
    few = rows[:2]
    # HF constrained and GGUF free: the CLI test below (and the e2e release in tests/dvc)
    for model, constrained in ((gguf_dir / "model-q8_0.gguf", True), (trained["dir"] / "merged", False)):
        agg, preds = evaluate_model(model, few, catalog, constrained, 12, 2, 1024, 2, False)
        assert agg["n"] == 2 and len(preds) == 2
        assert set(agg["by_tier"]) <= {"simple", "medium", "complex"}
        assert agg["tokens_per_s"] > 0 and agg["size_mb"] > 0 and agg["peak_rss_mb"] > 0
        assert all(pr["tokens"] <= 12 for pr in preds), "generation must respect the token cap"


def test_evaluate_cli_on_gguf_and_hf(trained: dict, quantized: dict, rows: list[dict], repo_root: Path, tmp_path: Path) -> None:
    data = tmp_path / "external.jsonl"
    # an external file: no complexity, surface or version fields
    data.write_text("".join(json.dumps({k: r[k] for k in ("id", "schema_id", "prompt", "expected_output")}) + "\n" for r in rows[:2]))
    runner = CliRunner()
    q4 = next(quantized["dir"].glob("model-q4*.gguf"))
    for model, flags in ((trained["dir"] / "merged", ["--constrained"]), (q4, [])):
        out = tmp_path / f"{model.name}.json"
        res = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(data), "--schemas", str(repo_root / "schemas"), *flags, "--limit", "2", "--max-new-tokens", "8", "--out", str(out)])
        assert res.exit_code == 0, res.output
        report = json.loads(out.read_text())
        assert {"n", "json_exact", "field_f1", "schema_valid", "json_parse", "by_tier", "by_schema"} <= set(report) and report["n"] == 2, model


def test_bad_models_get_one_line_errors(trained: dict, rows: list[dict], repo_root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(rows[0]) + "\n")
    args = ["--data", str(data), "--schemas", str(repo_root / "schemas"), "--out", str(tmp_path / "o.json")]
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF" + b"\0" * 64)
    notgguf = tmp_path / "junk.gguf"
    notgguf.write_bytes(b"hello world")
    pickle_dir = tmp_path / "pickled"
    pickle_dir.mkdir()
    (pickle_dir / "config.json").write_text("{}")
    (pickle_dir / "pytorch_model.bin").write_bytes(b"\x80\x04")
    cases = {
        str(tmp_path / "missing"): "not found",
        str(truncated): "cannot load",
        str(notgguf): "not a GGUF",
        str(pickle_dir): "pickle",
    }
    for model, needle in cases.items():
        res = runner.invoke(app, ["evaluate", "--model", model, *args])
        assert res.exit_code != 0, model
        err = res.stderr.strip()
        assert err.count("\n") == 0 and needle in err, err
    # a test row whose schema is not in the schema directory
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps(dict(rows[0], schema_id="no_such_schema")) + "\n")
    res = runner.invoke(app, ["evaluate", "--model", str(trained["dir"] / "merged"), "--data", str(odd), "--schemas", str(repo_root / "schemas"), "--out", str(tmp_path / "o.json")])
    assert res.exit_code != 0 and "no_such_schema" in res.stderr and res.stderr.strip().count("\n") == 0


def test_missing_base_and_unreachable_hub_id(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from huggingface_hub import constants

    from stages.base_model import load_source
    from stages.errors import SLMBenchError

    with pytest.raises(SLMBenchError, match="model directory not found"):
        load_source(str(tmp_path / "nope"))
    # No hub here: one quick request fails, instead of the download's retries (about 50 s).
    # The endpoint is a closed port on loopback, so the test means the same with or without a network.
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(SLMBenchError, match="hub could not provide it"):
        load_source("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert time.monotonic() - start < 20
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SLMBenchError, match="hub could not provide it"):
        load_source("HuggingFaceTB/SmolLM2-360M-Instruct")
