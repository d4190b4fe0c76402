"""The EdgeIntent NLM and baselines on real rows, tiny: a 6-class BANKING77 NLM trains in about a
second, exports to ONNX that agrees with torch, is byte-identical for a seed, fits the size
budget at full size, and is scored with intervals; bad model files are one-line errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from intent_models import TINY, TRICKY, banking_rows, tiny_nlm

from stages.core.errors import SLMBenchError
from stages.inference import intent_baselines as R
from stages.inference.nlm_features import FeatureSpec, Featurizer, feature_strings, fnv1a32, tokens
from stages.inference.nlm_runtime import load_nlm
from stages.tasks.intent.metrics import score
from stages.tasks.intent.nlm_evaluation import evaluate_model
from stages.train import intent_baselines as B
from stages.train.nlm import NLMConfig, choose_threshold, export, predict_onnx, torch_logits, train

SIZE_LIMIT_BYTES = 10_000_000  # the NLM class: deployed files under 10 MB


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("nlm")
    model, test_rows, labels = tiny_nlm(out, with_oos=True)
    return {"dir": out, "model": model, "test": test_rows, "labels": labels}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- featuriser ------------------------------------------------------------------------------


def test_fnv1a_and_tokens_follow_the_spec() -> None:
    # published FNV-1a 32-bit test vectors
    assert [fnv1a32(b""), fnv1a32(b"a"), fnv1a32(b"foobar")] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]
    # ASCII-only lowercasing; typographic punctuation, Latin-1 symbols and NBSP separate tokens
    assert tokens("Why HASN'T my Card… arrived—£20 ÉTÉ x\u00a0y", 64) == ["why", "hasn", "t", "my", "card", "arrived", "20", "ÉtÉ", "x", "y"]
    assert tokens("😀 e\u0301 \ud800", 64) == ["😀", "e\u0301", "\ufffd"]
    assert tokens("a b c", 2) == ["a", "b"]


def test_features_are_words_bigrams_and_char_grams_in_order() -> None:
    spec = FeatureSpec(buckets=2**20, word_ngrams=2, char_min=3, char_max=4, max_ids=100)
    f = Featurizer(spec)
    assert feature_strings("Hi yo", spec) == ["w hi", "w yo", "b hi yo", "c <hi", "c hi>", "c <hi>", "c <yo", "c yo>", "c <yo>"]
    assert f.ids("Hi yo") == [fnv1a32(s.encode()) % 2**20 for s in feature_strings("Hi yo", spec)]
    ids, mask = f.batch(["", "hi"])
    assert ids.shape == mask.shape == (2, 4) and mask[0].sum() == 0 and mask[1].sum() == 4
    assert len(Featurizer(FeatureSpec(max_ids=7)).ids(TRICKY[-1])) == 7


# --- training, export, determinism, size -----------------------------------------------------


def test_onnx_matches_torch_and_learns(tiny: dict[str, Any]) -> None:
    import onnx

    graph = onnx.load(tiny["dir"] / "model.onnx")
    onnx.checker.check_model(graph, full_check=True)
    assert [i.name for i in graph.graph.input] == ["ids", "mask"] and [o.name for o in graph.graph.output] == ["logits"]
    assert max(op.version for op in graph.opset_import if op.domain in ("", "ai.onnx")) >= 17
    texts = [r["text"] for r in tiny["test"]] + TRICKY
    reference = torch_logits(tiny["model"], texts)
    nlm = load_nlm(tiny["dir"])
    got = nlm.logits(texts)
    assert (reference.argmax(1) == got.argmax(1)).all(), "ONNX and torch disagree on a row"
    assert np.abs(reference - got).max() < 1e-4
    preds = predict_onnx(tiny["dir"], [r["text"] for r in tiny["test"]])
    in_scope = [(p, r["label"]) for p, r in zip(preds, tiny["test"], strict=True) if r["label"] != "oos"]
    accuracy = np.mean([p == y for p, y in in_scope])
    assert accuracy > 0.6, f"6 classes (chance 0.17): in-scope accuracy {accuracy:.2f}"
    config = json.loads((tiny["dir"] / "nlm.json").read_text(encoding="utf-8"))
    assert config["labels"] == tiny["labels"] and config["oos_label"] == "oos"
    assert 0.0 <= config["oos_threshold"] < 1.0 and config["features"]["buckets"] == TINY.buckets


def test_same_seed_same_bytes_other_seed_other_bytes(tiny: dict[str, Any], tmp_path: Path) -> None:
    again = tmp_path / "again"
    tiny_nlm(again, with_oos=True)
    assert sha(again / "model.onnx") == sha(tiny["dir"] / "model.onnx")
    assert sha(again / "nlm.json") == sha(tiny["dir"] / "nlm.json")
    other = tmp_path / "other"
    tiny_nlm(other, with_oos=True, cfg=NLMConfig(**{**TINY.__dict__, "seed": 1}))
    assert sha(other / "model.onnx") != sha(tiny["dir"] / "model.onnx")


def test_full_size_model_fits_the_budget_with_150_labels(tmp_path: Path) -> None:
    """The default table (2^17 x 64, int8) with CLINC150's 151 outputs: under 10 MB deployed."""
    train_rows, _, labels = banking_rows(n_labels=3, train_per_label=5, test_per_label=0)
    all_labels = sorted([*labels, *(f"intent_{k:03d}" for k in range(148))])
    model = train(train_rows, all_labels, NLMConfig(epochs=1))
    files = export(model, tmp_path)
    size = sum(p.stat().st_size for p in files)
    assert 8_000_000 < size < SIZE_LIMIT_BYTES, size
    assert load_nlm(tmp_path).logits(["card"]).shape == (1, 151)


def test_threshold_is_the_largest_within_the_in_scope_budget() -> None:
    # 4 in-scope rows (class 0/1, right with confidence .9/.8/.6/.3) and 1 oos row (class 2)
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25]])
    y = np.array([0, 1, 0, 2, 2])
    # without a threshold in-scope accuracy is 3/3 = 1.0; any threshold above 0.6 costs a row
    assert choose_threshold(probs, y, oos=2, max_drop=0.0) == 0.6
    assert choose_threshold(probs, y, oos=2, max_drop=0.34) == 0.8


def test_bad_labels_and_config_are_one_line_errors() -> None:
    rows, _, labels = banking_rows(n_labels=2, train_per_label=3, test_per_label=0)
    with pytest.raises(SLMBenchError, match="not one of the 1 labels") as exc:
        train(rows, labels[:1], TINY)
    assert "\n" not in str(exc.value)
    with pytest.raises(SLMBenchError, match="weights"):
        train(rows, labels, NLMConfig(weights="int4"))


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_match_sklearn_and_intervals_hold_the_point() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    labels = [f"c{k}" for k in range(12)] + ["oos"]
    truth = list(rng.choice(labels, 400))
    pred = [y if rng.random() < 0.8 else str(rng.choice([*labels, "never_seen"])) for y in truth]
    summary, per_class = score(truth, pred, labels, samples=500, seed=1)
    assert summary["macro_f1"] == pytest.approx(f1_score(truth, pred, labels=sorted(set(truth)), average="macro"), abs=1e-6)
    assert summary["accuracy"] == pytest.approx(np.mean([a == b for a, b in zip(truth, pred, strict=True)]), abs=1e-6)
    for name in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall"):
        lo, hi = summary[f"{name}_ci95"]
        assert lo <= summary[name] <= hi and hi - lo > 0, name
    assert summary["n"] == 400 and summary["n_oos"] + summary["n_in_scope"] == 400
    assert summary["accuracy_n"] == summary["macro_f1_n"] == 400, "each figure with the rows it was computed on"
    assert (summary["in_scope_accuracy_n"], summary["oos_recall_n"]) == (summary["n_in_scope"], summary["n_oos"])
    assert set(per_class) == set(truth) and all(0 <= v <= 1 for v in per_class.values())
    assert score(truth, pred, labels, samples=500, seed=1) == (summary, per_class), "same seed, same figures"
    without_oos, _ = score(["a", "b"], ["a", "a"], ["a", "b"], samples=50)
    assert "oos_recall" not in without_oos and without_oos["accuracy"] == 0.5


# --- evaluation: figures and one-line errors -------------------------------------------------


def test_evaluate_model_reports_quality_speed_size(tiny: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = evaluate_model(tiny["dir"] / "model.onnx", tiny["test"], tiny["labels"], samples=200, latency_queries=20, out=out)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert {k: result[k] for k in written} == written
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "latency_ms_p50", "latency_ms_p95", "size_mb", "peak_rss_mb"):
        assert key in written, key
    assert written["latency_n"] == 20 and 0 < written["latency_ms_p50"] <= written["latency_ms_p95"]
    assert written["size_bytes"] == (tiny["dir"] / "model.onnx").stat().st_size + (tiny["dir"] / "nlm.json").stat().st_size
    assert 20 < written["peak_rss_mb"] < 1000  # the spawned measuring process, not this one with torch
    assert result["predictions"] == predict_onnx(tiny["dir"], [r["text"] for r in tiny["test"]])


def test_not_onnx_and_wrong_width_are_one_line_errors(tiny: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copyfile(tiny["dir"] / "nlm.json", bad / "nlm.json")
    (bad / "model.onnx").write_text("this is not a protobuf\n", encoding="utf-8")
    with pytest.raises(SLMBenchError, match="not a loadable ONNX model") as exc:
        evaluate_model(bad, tiny["test"], tiny["labels"], isolate=False)
    assert "\n" not in str(exc.value)

    wide = tmp_path / "wide"
    wide.mkdir()
    shutil.copyfile(tiny["dir"] / "model.onnx", wide / "model.onnx")
    config = json.loads((tiny["dir"] / "nlm.json").read_text(encoding="utf-8"))
    config["labels"] = [*config["labels"], "one_more"]
    (wide / "nlm.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=f"outputs {len(tiny['labels'])} scores per query but nlm.json lists {len(tiny['labels']) + 1}") as exc:
        evaluate_model(wide, tiny["test"], isolate=False)
    assert "\n" not in str(exc.value)

    with pytest.raises(SLMBenchError, match="not the task's") as exc:
        evaluate_model(tiny["dir"], tiny["test"], ["a", "b"], isolate=False)
    assert "\n" not in str(exc.value)
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copyfile(tiny["dir"] / "model.onnx", lone / "model.onnx")
    with pytest.raises(SLMBenchError, match="nlm.json: file not found"):
        evaluate_model(lone / "model.onnx", tiny["test"], isolate=False)


# --- baselines -------------------------------------------------------------------------------


def test_baselines_train_save_reload_predict(tmp_path: Path) -> None:
    train_rows, test_rows, labels = banking_rows(n_labels=4, train_per_label=30, test_per_label=10)
    texts = [r["text"] for r in test_rows] + TRICKY
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in train_rows), encoding="utf-8")
    facts = B.main(train_file, tmp_path / "saved", tmp_path / "baselines.json")
    majority = R.load_majority(tmp_path / "saved")
    assert majority["label"] == labels[0] == facts["majority"]["label"]  # a tie in counts goes to the first label in sorted order
    assert R.predict_majority(majority, texts) == [labels[0]] * len(texts)
    model = B.train_tfidf_lr(train_rows)
    files = B.save_tfidf_lr(model, tmp_path / "a")
    B.save_tfidf_lr(B.train_tfidf_lr(train_rows), tmp_path / "b")
    assert [sha(p) for p in files] == [sha(tmp_path / "b" / p.name) for p in files], "same rows, same bytes"
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in (tmp_path / "a").iterdir())
    assert R.predict_tfidf_lr(tmp_path / "saved", texts) == model.predict(texts)
    reloaded = R.predict_tfidf_lr(tmp_path / "a", texts)
    assert reloaded == model.predict(texts)
    accuracy = np.mean([p == r["label"] for p, r in zip(reloaded, test_rows, strict=False)])
    assert accuracy > 0.6, accuracy
    (tmp_path / "a" / R.TFIDF_WEIGHTS).write_bytes(b"garbage")
    with pytest.raises(SLMBenchError, match="not a TF-IDF") as exc:
        R.load_tfidf_lr(tmp_path / "a")
    assert "\n" not in str(exc.value)
