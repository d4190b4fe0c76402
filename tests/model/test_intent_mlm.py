"""EdgeIntent's MLM on a tiny random Llama with the real SmolLM2 tokenizer: LoRA training on intent
chats, the GGUF conversion with its labels, and label-constrained decoding in both runtimes
(llama.cpp with a GBNF alternation, transformers with llguidance). A random model answers
nonsense when free, so every answer landing in the label set is the constraint at work."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from intent_models import banking_rows
from typer.testing import CliRunner

from stages.cli import app
from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.inference.label_lm import LabelLM
from stages.inference.labels import gbnf_alternation, lark_alternation
from stages.pipeline.quantize import main as quantize_main
from stages.tasks.intent.mlm_evaluation import evaluate_lm
from stages.tasks.intent.prompt import answer_text, chat_messages
from stages.tasks.intent.rows import per_class_share, per_class_subset
from stages.train.train import encode_chats, run

pytestmark = pytest.mark.slow


def test_label_grammars_are_alternations_of_escaped_literals() -> None:
    assert gbnf_alternation(["oos", "card_arrival", "oos"]) == 'root ::= "card_arrival" | "oos"'
    assert lark_alternation(['say "hi"', "a\\b"]) == 'start: "a\\\\b" | "say \\"hi\\""'
    for bad in ([], ["ok", ""], ["two\nlines"]):
        with pytest.raises(SLMBenchError) as exc:
            gbnf_alternation(bad)
        assert "\n" not in str(exc.value)


def test_per_class_subset_is_stratified_and_seeded() -> None:
    rows = [{"id": f"r{i:03d}", "label": "ab"[i % 2] if i < 40 else "c", "text": str(i)} for i in range(43)]
    picked = per_class_subset(rows, 5, seed=3)
    assert sorted(r["label"] for r in picked) == ["a"] * 5 + ["b"] * 5 + ["c"] * 3  # a smaller class keeps all its rows
    assert picked == per_class_subset(list(reversed(rows)), 5, seed=3), "the source order does not matter, only the seed"
    assert picked != per_class_subset(rows, 5, seed=4)
    assert sorted(r["id"] for r in per_class_subset(rows, 0, seed=3)) == sorted(r["id"] for r in rows)
    assert sorted(r["label"] for r in per_class_subset(rows, 2, seed=3, keep_whole=["a"])) == ["a"] * 20 + ["b"] * 2 + ["c"] * 2
    assert (per_class_share(rows, 30), per_class_share(rows, 2), per_class_share(rows, 0)) == (10, 1, 0)


def test_training_examples_learn_the_label_and_eos_only(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    chats = [(chat_messages("where is my card?"), answer_text("card_arrival"))]
    (ex,), dropped = encode_chats(chats, tok, 256)
    learned = [t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != -100]
    assert dropped == 0 and tok.decode(learned) == "card_arrival" + tok.eos_token
    assert "where is my card?" in tok.decode(ex["input_ids"])
    assert encode_chats(chats, tok, 8) == ([], 1)


@pytest.fixture(scope="module")
def mlm(tiny_model_dir: Path, repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two LoRA steps on 6 BANKING77 classes; the quantize stage merges the adapter, converts and quantizes to Q8_0."""
    out = tmp_path_factory.mktemp("intent-mlm")
    train_rows, test_rows, labels = banking_rows(n_labels=6, train_per_label=4, test_per_label=3)
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(repo_root / "schemas")
    raw["intent"]["mlm"].update(r=4, alpha=8, max_steps=2, batch_size=4, warmup_steps=0, precision="fp32")
    raw["intent"]["mlm_scoring"].update(check_rows=6, min_agreement=0.5, parallel=4)
    params = out / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    cfg = P.intent_mlm(P.load(params))
    metrics = run("mlm", cfg, tiny_model_dir, [(chat_messages(r["text"]), answer_text(r["label"])) for r in train_rows], out / "adapter", out / "checkpoint", out / "live", key="intent")
    test_file, labels_file = out / "test.jsonl", out / "labels.json"
    test_file.write_text("".join(json.dumps(r) + "\n" for r in test_rows), encoding="utf-8")
    labels_file.write_text(json.dumps(labels), encoding="utf-8")
    quantized = quantize_main("intent", "banking77", params, out / "adapter", tiny_model_dir, out / "merged", test_file, out / "gguf", out / "quantize.json", labels_file)
    return {"dir": out, "train": metrics, "quantize": quantized, "test": test_rows, "labels": labels, "test_file": test_file, "params": params}


def test_quantize_writes_the_gguf_its_labels_and_the_check(mlm: dict[str, Any]) -> None:
    gguf = mlm["dir"] / "gguf" / "model-q8_0.gguf"
    q = json.loads((mlm["dir"] / "quantize.json").read_text(encoding="utf-8"))
    assert q["size_bytes"] == gguf.stat().st_size and q["check_n"] == 6
    assert q["agreement_ci95"][0] <= q["agreement"] <= q["agreement_ci95"][1] and q["agreement"] >= 0.5
    assert json.loads((mlm["dir"] / "gguf" / "labels.json").read_text(encoding="utf-8")) == mlm["labels"]
    assert mlm["train"]["steps"] == 2 and mlm["train"]["tokens"] > 0


def test_both_runtimes_answer_inside_the_label_set_and_agree(mlm: dict[str, Any]) -> None:
    chats = [chat_messages(r["text"]) for r in mlm["test"]]
    gguf = LabelLM(mlm["dir"] / "gguf" / "model-q8_0.gguf", mlm["labels"], threads=2, parallel=4)
    hf = LabelLM(mlm["dir"] / "merged", mlm["labels"], threads=2, batch_size=4)
    got_gguf, got_hf = gguf.predict(chats), hf.predict(chats)
    assert set(got_gguf) <= set(mlm["labels"]) and set(got_hf) <= set(mlm["labels"]), (got_gguf, got_hf)
    assert gguf.predict(chats[:1]) == got_gguf[:1], "one query at a time answers as in a batch"
    assert sum(a == b for a, b in zip(got_gguf, got_hf, strict=True)) >= len(chats) // 2
    # the constraint is what keeps them there: two labels only, and every answer is one of the two
    two = LabelLM(mlm["dir"] / "gguf" / "model-q8_0.gguf", ["lost_or_stolen_card", "oos"], threads=2, parallel=4)
    assert set(two.predict(chats)) <= {"lost_or_stolen_card", "oos"}


def test_evaluate_lm_reports_quality_speed_size_and_memory(mlm: dict[str, Any], tmp_path: Path) -> None:
    gguf = mlm["dir"] / "gguf" / "model-q8_0.gguf"
    r = evaluate_lm(gguf, mlm["test"], mlm["labels"], samples=200, latency_queries=5, warmup=1, parallel=4, out=tmp_path / "eval.json", per_class_out=tmp_path / "pc.json")
    written = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))
    assert written["n"] == len(mlm["test"]) and written["accuracy_ci95"][0] <= written["accuracy"] <= written["accuracy_ci95"][1]
    assert written["unlabelled"] == 0 and written["latency_n"] == 5 and 0 < written["latency_ms_p50"] <= written["latency_ms_p95"]
    assert written["size_bytes"] == gguf.stat().st_size and written["runtime"] == "llama.cpp"
    assert 50 < written["peak_rss_mb"] < 4000
    assert set(json.loads((tmp_path / "pc.json").read_text(encoding="utf-8"))) <= set(mlm["labels"])
    assert len(r["predictions"]) == len(mlm["test"])


def test_the_cli_scores_a_gguf_and_an_hf_directory_on_a_banking77_csv(mlm: dict[str, Any], tmp_path: Path) -> None:
    data = tmp_path / "test.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "category"])
        w.writerows([r["text"], r["label"]] for r in mlm["test"])
    runner = CliRunner()
    for model, extra in ((mlm["dir"] / "gguf" / "model-q8_0.gguf", []), (mlm["dir"] / "merged", ["--labels", str(mlm["dir"] / "labels.json")])):
        out = tmp_path / f"{model.name}.json"
        res = runner.invoke(app, ["evaluate", "--task", "intent", "--model", str(model), "--data", str(data), "--out", str(out), "--parallel", "4", *extra])
        assert res.exit_code == 0, res.output
        r = json.loads(out.read_text(encoding="utf-8"))
        assert r["n"] == len(mlm["test"]) and r["labels"] == 6 and r["label_set"].endswith("labels.json") and "macro_f1_ci95" in r
        assert r["runtime"] == ("llama.cpp" if model.suffix == ".gguf" else "transformers")


def test_a_model_that_is_neither_onnx_nor_gguf_is_one_line(mlm: dict[str, Any], tmp_path: Path) -> None:
    data = mlm["test_file"]
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"\x80\x04pickle")
    empty = tmp_path / "empty"
    empty.mkdir()
    for model, message in ((bad, "not a GGUF file"), (empty, "without config.json"), (tmp_path / "nope.gguf", "GGUF file not found")):
        res = CliRunner().invoke(app, ["evaluate", "--task", "intent", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "o.json")])
        assert res.exit_code != 0 and message in res.output and res.output.strip().count("\n") == 0, res.output
    assert not (tmp_path / "o.json").exists()
    with pytest.raises(SLMBenchError, match="outside the model's 2 labels"):
        evaluate_lm(mlm["dir"] / "gguf" / "model-q8_0.gguf", mlm["test"], ["a", "b"], isolate=False)


def test_intent_mlm_params_are_checked(mlm: dict[str, Any]) -> None:
    p = P.load(mlm["params"])
    for section, change, message in (
        ("mlm_scoring", {"qtype": "q2_k"}, "intent.mlm_scoring.qtype"),
        ("mlm", {"base": "nope"}, "intent.mlm.base"),
        ("mlm", {"lora_r": 4}, "unknown key intent.mlm.lora_r"),
        ("mlm", {"check_rows": 30}, "unknown key intent.mlm.check_rows"),  # a scoring key in the training recipe: one line, and training never reads it
        ("mlm_scoring", {"epochs": 3}, "unknown key intent.mlm_scoring.epochs"),
    ):
        bad = dataclasses.replace(p, intent=dataclasses.replace(p.intent, **{section: {**getattr(p.intent, section), **change}}))
        with pytest.raises(SLMBenchError, match=message):
            P.intent_mlm(bad)
    # the train stage reads the training recipe alone: a scoring change leaves it as it was
    scored = dataclasses.replace(p, intent=dataclasses.replace(p.intent, mlm_scoring={**p.intent.mlm_scoring, "parallel": 2}))
    assert P.intent_mlm_training(scored) == P.intent_mlm_training(p) and P.intent_mlm(scored).parallel == 2
