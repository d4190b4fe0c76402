"""train -> quantize -> evaluate on a tiny random Llama with the real SmolLM2 tokenizer.

Real peft, real llama.cpp conversion and quantization, real GGUF generation; no mocks.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core import params as P
from stages.core.catalog import load_catalog
from stages.tasks.edgejson.model import answer, prompt, with_schemas
from stages.tasks.edgejson.quantize import run as quantize_run
from stages.train.merge import merge
from stages.train.train import run as train_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(repo_root: Path) -> list[dict]:
    from stages.tasks.edgejson.generate import run as generate

    p = P.load(repo_root / "params.yaml")
    recipe = dataclasses.replace(p.datasets["v3"], rows_per_schema=1)
    return generate("v3", recipe, load_catalog(repo_root / "schemas"), progress=False)


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, rows: list[dict], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    p = P.load(repo_root / "params.yaml")
    cfg = dataclasses.replace(p.models["smollm2-135m-lora"], r=4, alpha=8, max_steps=2, batch_size=2, grad_accum=1, warmup_steps=0, precision="fp32")
    out = tmp_path_factory.mktemp("trained")
    small = [r for r in rows if r["complexity"] == "simple"][:6]
    chats = [(prompt(r), answer(r)) for r in with_schemas(small, load_catalog(repo_root / "schemas"))]
    m1 = train_run("tiny", cfg, tiny_model_dir, chats, out / "adapter", out / "checkpoint", out / "live")
    m2 = train_run("tiny", cfg, tiny_model_dir, chats, out / "adapter2", out / "checkpoint2", out / "live2")
    merge(tiny_model_dir, out / "adapter", out / "merged")  # the quantize stage's first step
    return {"dir": out, "m1": m1, "m2": m2, "cfg": cfg, "params": p}


def test_train_outputs_and_same_loss_curve_on_rerun(trained: dict) -> None:
    out, m1, m2 = trained["dir"], trained["m1"], trained["m2"]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert list((out / "merged").glob("*.safetensors")) and (out / "merged" / "tokenizer.json").is_file()
    assert not list((out / "merged").glob("*.bin")), "weights must be safetensors, never pickle"
    assert m1["steps"] == 2 and m1["tokens"] > 0 and m1["tokens_per_s"] > 0 and m1["peak_rss_mb"] > 0
    assert (m1["bf16"], m1["precision_auto"]) == (0, 0), "an explicit fp32 wins"
    assert all(isinstance(v, (int, float)) for v in m1.values()), "train.json is a DVC metrics file: numbers only"
    for key in ("steps", "tokens", "final_loss", "train_loss"):
        assert m1[key] == m2[key], key
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        assert (out / "adapter" / name).read_bytes() == (out / "adapter2" / name).read_bytes(), name
    assert "output_dir" not in (out / "live" / "params.yaml").read_text()
    curve = (out / "live" / "plots" / "metrics" / "loss.tsv").read_text().splitlines()
    assert curve[0].split("\t")[:2] == ["step", "loss"] and len(curve) == 3


def test_loss_is_on_answer_tokens_only(tiny_model_dir: Path, rows: list[dict], repo_root: Path) -> None:
    from transformers import AutoTokenizer

    from stages.inference.prompt import answer_text
    from stages.train.train import IGNORE, encode_chats

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    (ex,), dropped = encode_chats([(prompt(r), answer(r)) for r in with_schemas(rows[:1], load_catalog(repo_root / "schemas"))], tok, 4096)
    labelled = [t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != IGNORE]
    assert dropped == 0
    schema = load_catalog(repo_root / "schemas")[rows[0]["schema_id"]].schema
    assert tok.decode(labelled) == answer_text(rows[0]["expected_output"], schema) + tok.eos_token


CHECK_SCHEMAS = 4  # schemas whose test rows the greedy check sees here: enough for a stratified sample, cheap on the tiny model


@pytest.fixture(scope="module")
def quantized(trained: dict, rows: list[dict], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    p = trained["params"]
    # the real q4_type (Q4_K_M) and min_agreement; Q4_0 as the report-only check type, as in params.yaml.
    # One thread: llama.cpp's OpenMP workers spin, and on a busy 2-core machine 2 threads ran this 60x slower.
    qcfg = dataclasses.replace(p.quantize, check_rows_per_schema=1, check_max_tokens=8, check_types=["Q4_0"], threads=1)
    schemas = sorted({r["schema_id"] for r in rows})[:CHECK_SCHEMAS]
    sample = [r for r in rows if r["schema_id"] in schemas]
    gguf_dir = tmp_path_factory.mktemp("gguf")
    # batched transformers and parallel llama.cpp decoding, as the stage runs the check
    metrics = quantize_run(trained["dir"] / "merged", gguf_dir, sample, load_catalog(repo_root / "schemas"), qcfg, 200, 7, hf_batch=2, parallel=2)
    return {"dir": gguf_dir, "metrics": metrics, "sample": sample}


def test_quantize_and_evaluate_gguf_and_hf(trained: dict, quantized: dict, rows: list[dict], repo_root: Path) -> None:
    p = trained["params"]
    q, gguf_dir = quantized["metrics"], quantized["dir"]
    names = ["model-q4_0.gguf", "model-q4_k_m.gguf", "model-q8_0.gguf"]
    assert sorted(f.name for f in gguf_dir.iterdir()) == names, "f16 is temporary; q4_type and the check types stay"
    assert all((gguf_dir / name).read_bytes()[:4] == b"GGUF" for name in names)
    assert q["merged"]["n"] == CHECK_SCHEMAS
    for t in ("f16", "q8_0", "q4_k_m", "q4_0"):
        assert q[t]["n"] == CHECK_SCHEMAS, t
        for figure in ("exact_agreement", "prefix_agreement", "json_exact"):
            lo, hi = q[t][f"{figure}_ci95"]
            assert 0.0 <= lo <= q[t][figure] <= hi <= 1.0 and q[t][f"{figure}_n"] == CHECK_SCHEMAS, (t, figure)
    assert q["f16"]["exact_agreement"] == 1.0 and q["f16"]["prefix_agreement"] == 1.0
    assert q["q8_0"]["prefix_agreement"] >= p.quantize.min_agreement and q["q4_k_m"]["prefix_agreement"] >= p.quantize.min_agreement
    assert (q["f16"]["gated"], q["q8_0"]["gated"], q["q4_k_m"]["gated"], q["q4_0"]["gated"]) == (1, 1, 1, 0)
    assert 0 < q["q4_0"]["size_mb"] < q["q8_0"]["size_mb"] < q["f16"]["size_mb"] and q["q4_k_m"]["size_mb"] < q["q8_0"]["size_mb"]
    # evaluation of these files: test_release_evaluation_rows_intervals_and_predictions below


def test_greedy_check_fails_on_a_gguf_of_other_weights(trained: dict, quantized: dict, repo_root: Path, tmp_path: Path) -> None:
    """A GGUF converted from other weights (a broken conversion, as far as the check can tell) must
    fail the gate when it stands for f16 or a shipped type, naming the type, the figure and the
    first differing row in one line; as a check type it is only reported."""
    import torch
    from transformers import AutoModelForCausalLM

    from stages.core.errors import SLMBenchError
    from stages.tasks.edgejson.quantize import compare, gate, greedy_answers, to_f16

    merged = trained["dir"] / "merged"
    # The tiny model's tied embeddings make it echo its last prompt token whatever its other
    # weights; an untied random output layer answers differently.
    config = AutoModelForCausalLM.from_pretrained(merged).config
    config.tie_word_embeddings = False
    torch.manual_seed(1)
    other = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        other.get_input_embeddings().weight.normal_(0.0, 1.0)
        other.get_output_embeddings().weight.normal_(0.0, 1.0)
    other.save_pretrained(tmp_path / "other", safe_serialization=True)
    for f in merged.iterdir():  # the tokenizer and its chat template
        if f.suffix != ".safetensors" and not (tmp_path / "other" / f.name).exists():
            (tmp_path / "other" / f.name).write_bytes(f.read_bytes())
    to_f16(tmp_path / "other", tmp_path / "other.gguf")
    sample, catalog = quantized["sample"], load_catalog(repo_root / "schemas")
    cfg = dataclasses.replace(trained["params"].quantize, check_max_tokens=8, threads=1)
    ref, got = greedy_answers(merged, {"other": tmp_path / "other.gguf"}, sample, catalog, cfg, hf_batch=2, parallel=2)
    texts = got["other"]
    assert any(a.strip() != b.strip() for a, b in zip(ref, texts, strict=True)), "other weights must give other answers, or this test proves nothing"
    paths = {name: tmp_path / "other.gguf" for name in ("f16", "q8_0", "q4_0")}
    merged_json_exact = [0.0] * len(sample)
    for name in ("f16", "q8_0"):
        with pytest.raises(SLMBenchError) as err:
            gate(compare(ref, {name: texts}, paths, {name}, sample, catalog), ref, sample, merged_json_exact, cfg, 200, 7)
        msg = str(err.value)
        assert msg.count("\n") == 0 and f"({name})" in msg and "worst row" in msg and "quantize.min_agreement" in msg, msg
    gate(compare(ref, {"q4_0": texts}, paths, set(), sample, catalog), ref, sample, merged_json_exact, cfg, 200, 7)  # report-only: no error


def test_evaluate_cli_on_gguf_and_hf(trained: dict, quantized: dict, rows: list[dict], repo_root: Path, tmp_path: Path) -> None:
    data = tmp_path / "external.jsonl"
    # an external file: no complexity, surface or version fields
    data.write_text("".join(json.dumps({k: r[k] for k in ("id", "schema_id", "prompt", "expected_output")}) + "\n" for r in rows[:2]))
    runner = CliRunner()
    q4 = next(quantized["dir"].glob("model-q4*.gguf"))
    for model, flags in ((trained["dir"] / "merged", ["--constrained"]), (q4, [])):
        out = tmp_path / f"{model.name}.json"
        args = ["evaluate", "--model", str(model), "--data", str(data), "--schemas", str(repo_root / "schemas"), *flags]
        res = runner.invoke(app, [*args, "--limit", "2", "--max-new-tokens", "8", "--out", str(out)])
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
    args = ["--data", str(odd), "--schemas", str(repo_root / "schemas"), "--out", str(tmp_path / "o.json")]
    res = runner.invoke(app, ["evaluate", "--model", str(trained["dir"] / "merged"), *args])
    assert res.exit_code != 0 and "no_such_schema" in res.stderr and res.stderr.strip().count("\n") == 0


def test_missing_base_and_unreachable_hub_id(repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from huggingface_hub import constants

    from stages.core.errors import SLMBenchError
    from stages.train.base_model import load_source

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


def _release_rows(rows: list[dict], schemas: int = 3) -> list[dict]:
    """Two rows for each of `schemas` schemas: each generated row and a copy under another id."""
    first = rows[:schemas]
    return first + [dict(r, id=f"{r['id']}-copy") for r in first]


def test_release_evaluation_rows_intervals_and_predictions(trained: dict, quantized: dict, rows: list[dict], repo_root: Path) -> None:
    """The release variant on every row, the other on the stratified subset; every figure with its
    n and an interval around it; per-row scores in the predictions; memory from each worker."""
    from stages.tasks.edgejson.evaluation import run_release

    small = dict(rows_per_schema=1, max_rows=0, max_new_tokens=8, hf_batch_size=2, gguf_parallel=4, bootstrap_samples=200)
    cfg = dataclasses.replace(trained["params"].evaluate, variants=["hf_tuned", "gguf_q8_0"], **small)
    merged, catalog = trained["dir"] / "merged", load_catalog(repo_root / "schemas")
    unseen = [dict(r, id=f"{r['id']}-unseen") for r in rows[3:5]]
    ev, by_schema, preds = run_release("tiny", merged, merged, quantized["dir"], _release_rows(rows), catalog, cfg, unseen)
    for d in ("free", "constrained"):
        assert ev["gguf_q8_0"][d]["n"] == 6 and ev["hf_tuned"][d]["n"] == 3, "release variant: every row; the other: one per schema"
        # the held-out schemas' split: the release variant only, every row, with intervals
        unseen_fig = ev["test_unseen"]["gguf_q8_0"][d]
        assert unseen_fig["n"] == unseen_fig["json_exact_n"] == 2 and set(ev["test_unseen"]) == {"gguf_q8_0"}
        assert unseen_fig["json_exact_ci95"][0] <= unseen_fig["json_exact"] <= unseen_fig["json_exact_ci95"][1]
        for v in ("gguf_q8_0", "hf_tuned"):
            g = ev[v][d]
            for m in ("json_exact", "field_f1", "schema_valid", "json_parse"):
                assert g[f"{m}_ci95"][0] <= g[m] <= g[f"{m}_ci95"][1] and g[f"{m}_n"] == g["n"], (v, d, m)
                tiers = [t for t in g if t.startswith("tier_")]
                assert tiers and all(f"{m}_ci95" in g[t] and g[t][f"{m}_n"] == g[t]["n"] for t in tiers), (v, d, m)
            assert all("json_exact_ci95" in s and s["json_exact_n"] == s["n"] for s in by_schema[v][d].values()), (v, d)
    assert len(preds) == 2 * 6 + 2 * 3 + 2 * 2
    assert {p["id"] for p in preds if p["split"] == "test_unseen"} == {r["id"] for r in unseen}
    assert all(p["tokens"] <= 8 for p in preds), "generation must respect the token cap"
    for v in ("gguf_q8_0", "hf_tuned"):
        assert ev[v]["free"]["tokens_per_s"] > 0 and ev[v]["free"]["size_mb"] > 0 and ev[v]["free"]["crashes"] == 0, v
    assert all({"id", "variant", "decoding", "tier", "json_exact", "field_f1", "schema_valid", "json_parse"} <= set(p) for p in preds)
    hf_ids = {p["id"] for p in preds if p["variant"] == "hf_tuned"}
    assert hf_ids < {p["id"] for p in preds if p["variant"] == "gguf_q8_0" and p["split"] == "test_seen"}, "the subset is part of the release rows"
    # a llama.cpp worker of a tiny model holds far less than a transformers worker (torch alone is
    # hundreds of MB); the old figure was the parent's peak, the same for every variant
    assert ev["gguf_q8_0"]["free"]["peak_rss_mb"] < ev["hf_tuned"]["free"]["peak_rss_mb"] - 100


def test_gguf_peak_rss_is_the_workers_own(quantized: dict) -> None:
    """Each worker reports its own high-water mark: a bigger GGUF costs its size more. (A spawned
    child's ru_maxrss starts from the parent's peak, which made every GGUF variant report the same.)"""
    import resource

    from stages.inference.prompt import embedded_gguf
    from stages.tasks.edgejson.evaluation import generate_isolated

    prompt = ["<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n"]
    small, big = quantized["dir"] / "model-q8_0.gguf", Path(embedded_gguf("smollm2-135m-instruct"))
    _, info_small = generate_isolated("gguf", small, prompt, [None], 4, 2, 512, 1)
    _, info_big = generate_isolated("gguf", big, prompt, [None], 4, 2, 512, 1)
    grown = info_big["rss_mb"] - info_small["rss_mb"]
    size_gap = (big.stat().st_size - small.stat().st_size) / 1e6
    assert 0.6 * size_gap < grown < 1.5 * size_gap + 50, (info_small, info_big, size_gap)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert info_small["rss_mb"] < parent, "a tiny GGUF worker must not report this test process's peak"


def test_parallel_llama_cpp_decoding_gives_the_one_at_a_time_answers(quantized: dict, rows: list[dict], repo_root: Path) -> None:
    """Several sequences per decode step (free and constrained sharing each prompt, more jobs than
    slots) give the answers of one sequence at a time on the tiny model, run after run."""
    from stages.inference.gguf import render_prompts_gguf
    from stages.tasks.edgejson.evaluation import constraint_schema, generate_jobs

    catalog = load_catalog(repo_root / "schemas")
    gguf = quantized["dir"] / "model-q8_0.gguf"
    few = rows[:5]
    prompts = render_prompts_gguf(gguf, few, catalog)
    schemas = [[None, constraint_schema("gguf", catalog[r["schema_id"]].schema, True)] for r in few]
    one, _ = generate_jobs("gguf", gguf, prompts, schemas, 16, 2, 1024, 1, 1)
    many, info = generate_jobs("gguf", gguf, prompts, schemas, 16, 2, 1024, 1, 4)
    again, _ = generate_jobs("gguf", gguf, prompts, schemas, 16, 2, 1024, 1, 4)
    assert info["crashes"] == 0 and set(one) == set(many) == {(i, k) for i in range(5) for k in (0, 1)}
    fields = ("text", "tokens", "finish")
    assert [[many[k][f] for f in fields] for k in sorted(many)] == [[one[k][f] for f in fields] for k in sorted(one)]
    assert [again[k]["text"] for k in sorted(again)] == [many[k]["text"] for k in sorted(many)]
    assert all(g["tokens"] <= 16 and g["seconds"] > 0 for g in many.values())


def test_decodings_of_a_prompt_share_a_sequence_until_they_part(quantized: dict, rows: list[dict], repo_root: Path) -> None:
    """A prompt's decodings run as one sequence while they pick the same tokens and fork where
    they part: two free decodings of a prompt share every token and give one answer twice; free
    and constrained give, shared, the answers they give in sequences of their own."""
    from stages.inference.gguf import GGUFRunner, render_prompts_gguf
    from stages.tasks.edgejson.evaluation import constraint_schema

    catalog = load_catalog(repo_root / "schemas")
    gguf = quantized["dir"] / "model-q8_0.gguf"
    few = rows[:4]
    prompts = render_prompts_gguf(gguf, few, catalog)
    grammar = [constraint_schema("gguf", catalog[r["schema_id"]].schema, True) for r in few]
    runner = GGUFRunner(gguf, 2, 1024)

    def answers(schemas: list[list], share: bool) -> dict:
        got = {(i, k): (g.text, g.tokens, g.finish) for i, k, g in runner.generate_parallel(prompts, schemas, 24, 4, share)}
        return got | {"shared": runner._decoder.shared_tokens}

    twice = answers([[None, None] for _ in few], True)
    tokens = sum(twice[(i, 0)][1] for i in range(len(few)))
    assert 0 < tokens - len(few) <= twice.pop("shared") <= tokens  # every step after the prompt's, once per prompt
    assert all(twice[(i, 0)] == twice[(i, 1)] for i in range(len(few)))
    apart = answers([[None, None] for _ in few], False)
    assert apart.pop("shared") == 0 and apart == twice
    mixed = [[None, g] for g in grammar]
    shared, unshared = answers(mixed, True), answers(mixed, False)
    assert unshared.pop("shared") == 0 and shared.pop("shared") >= 0
    assert shared == unshared and all(shared[(i, 0)] == twice[(i, 0)] for i in range(len(few)))


@pytest.mark.parametrize("runtime", ["gguf", "hf"])
def test_a_prompt_over_the_context_is_a_failed_row_not_a_crash(runtime: str, trained: dict, quantized: dict, rows: list[dict], repo_root: Path) -> None:
    """A row whose prompt leaves no room to answer in n_ctx tokens is scored as a failure with
    finish `prompt_exceeds_context`; the worker does not crash and the other rows are scored."""
    from stages.tasks.edgejson.evaluation import evaluate_variant

    long = dict(rows[0], id="too-long", prompt=rows[0]["prompt"] + " filler" * 700)
    model = quantized["dir"] / "model-q8_0.gguf" if runtime == "gguf" else trained["dir"] / "merged"
    res = evaluate_variant(model, [rows[1], long], load_catalog(repo_root / "schemas"), ("free", "constrained"), 4, 2, 512, 2, True, 2, 200, 0)
    for d in ("free", "constrained"):
        agg, preds = res[d]
        assert [p["finish"] for p in preds][1] == "prompt_exceeds_context" and preds[1]["json_parse"] == 0.0, preds
        assert preds[0]["finish"] in ("stop", "length", "repeat") and agg["crashes"] == 0 and agg["prompt_exceeds_context"] == 1
