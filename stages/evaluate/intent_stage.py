"""`slmbench intent-evaluate`: every EdgeIntent model of a dataset on its test split, side by side.

The NLM (stages/evaluate/intent.py: scored in a spawned process, single-query latency, peak RSS),
and the two baselines (majority class, TF-IDF + logistic regression) measured the same way here:
quality over every test row with its 95% bootstrap interval (stages/tasks/intent/metrics.py),
latency one query at a time over the first `intent.latency_queries` rows, size as the files a
deployment loads. Writes `eval.json` ({"models": {name: figures}}), `per_class.json` (per-class
F1 per model) and `size_accuracy.json` (one point per model: the accuracy-against-size plot).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stages.core.records import write_json
from stages.core.stats import DIGITS

WARMUP = 10


def measure_baseline(predict: Callable[[Sequence[str]], list[str]], texts: list[str], latency_queries: int) -> tuple[list[str], list[float]]:
    """Predictions of every text (one batch) and single-query latencies (ms) over the first rows."""
    from stages.evaluate.intent import single_query_latencies

    timed = texts[:latency_queries]
    return predict(texts), single_query_latencies(predict, timed, timed[:WARMUP])


# Credit the card gives each source dataset; its licence requires attribution in a model card.
SOURCES = {
    "banking77": "BANKING77 (CC BY 4.0): Casanueva et al., 2020, \"Efficient Intent Detection with Dual Sentence Encoders\", PolyAI-LDN/task-specific-datasets",
    "clinc150": "CLINC150 (CC BY 3.0): Larson et al., 2019, \"An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction\", clinc/oos-eval",
}


def card(name: str, fmt: str, result: dict[str, Any]) -> str:
    """The NLM's model card (markdown): what it is, its data and licence, and its figures on the test split."""
    def cell(v: Any) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    def with_ci(m: dict[str, Any], k: str) -> str:
        if k not in m:
            return "-"
        lo, hi = m[f"{k}_ci95"]
        return f"{m[k]:.3f} [{lo:.3f}, {hi:.3f}]"

    keys = [k for k in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall") if k in result["models"]["nlm"]]
    lines = [
        "---",
        "license: cc-by-4.0" if fmt == "banking77" else "license: cc-by-3.0",
        "library_name: onnx",
        "tags: [slmbench, edgeintent, nlm, intent-classification, onnx]",
        "---",
        "",
        f"# NLM-Intent, {name}",
        "",
        "A nano intent classifier (SLMBench's NLM-Intent): hashed word and character n-grams, an int8 embedding table and one "
        "linear layer, in ONNX. It runs in onnxruntime or in a browser with onnxruntime-web; its deployed files are `model.onnx` "
        "and `nlm.json`. Written by the `intent_evaluate` stage from `metrics/intent/" + name + "/eval.json`; nothing here is typed by hand.",
        "",
        "## Data",
        "",
        f"Trained on the training split of {SOURCES.get(fmt, fmt)}. The model and this card carry that dataset's licence and credit.",
        "",
        f"## On the test split (n={result['n']}), every model side by side",
        "",
        "| model | " + " | ".join(keys) + " | size MB | p50 ms | p95 ms |",
        "|---" * (len(keys) + 4) + "|",
    ]
    for model, m in result["models"].items():
        lines.append(f"| {model} | " + " | ".join(with_ci(m, k) for k in keys) + f" | {cell(m.get('size_mb'))} | {cell(m.get('latency_ms_p50'))} | {cell(m.get('latency_ms_p95'))} |")
    lines += [
        "",
        "Intervals are 95% bootstrap intervals over the test rows. Latency is one query at a time, one thread, on the machine that "
        "ran the stage; compare models within this table, not across machines.",
        "",
    ]
    return "\n".join(lines)


def main(
    name: str, params_path: Path, test_file: Path, labels_file: Path, nlm_dir: Path, baselines_dir: Path, out: Path, per_class_out: Path, plot_out: Path,
    card_out: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    from stages.core import params as P
    from stages.evaluate.intent import evaluate_model, latency_summary
    from stages.inference import intent_baselines as B
    from stages.tasks.intent.metrics import score
    from stages.tasks.intent.rows import read_intent_jsonl, read_labels

    p = P.load(params_path)
    P.intent_recipe(p, name)
    rows = read_intent_jsonl(test_file)
    labels = read_labels(labels_file)
    texts, truth = [str(r["text"]) for r in rows], [str(r["label"]) for r in rows]
    models: dict[str, dict[str, Any]] = {}
    per_class: dict[str, dict[str, float]] = {}

    majority_file = Path(baselines_dir) / B.MAJORITY_FILE
    majority = json.loads(majority_file.read_text(encoding="utf-8"))
    tfidf = B.load_tfidf_lr(Path(baselines_dir))
    baselines = {
        "majority": (lambda ts: B.predict_majority(majority, ts), [majority_file]),
        "tfidf_lr": (tfidf.predict, [Path(baselines_dir) / B.TFIDF_CONFIG, Path(baselines_dir) / B.TFIDF_WEIGHTS]),
    }
    for model, (predict, files) in baselines.items():
        preds, lat = measure_baseline(predict, texts, p.intent.latency_queries)
        summary, f1 = score(truth, preds, labels, samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed)
        size = sum(f.stat().st_size for f in files)
        models[model] = {**summary, **latency_summary(lat), "size_bytes": size, "size_mb": round(size / 1e6, DIGITS)}
        per_class[model] = f1
    nlm = evaluate_model(Path(nlm_dir), rows, labels, samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed, latency_queries=p.intent.latency_queries)
    per_class["nlm"] = nlm.pop("per_class_f1")
    nlm.pop("predictions")
    models["nlm"] = nlm
    result = {"dataset": name, "n": len(rows), "test_rows": len(rows), "models": models}
    write_json(out, result)
    write_json(per_class_out, per_class)
    write_json(plot_out, [{"model": m, "size_mb": v["size_mb"], "accuracy": v["accuracy"]} for m, v in models.items()])
    if card_out is not None:
        from stages.core.records import atomic_open

        with atomic_open(Path(card_out)) as fh:
            fh.write(card(name, P.intent_recipe(p, name).format, result))
    return result


def main_any(model: Path, data: Path, out: Path, samples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """`slmbench evaluate --task intent`: any intent model on any intent file, as a user runs it.

    `data` is a BANKING77-style CSV (text,category), a CLINC150 JSON in the data_full.json layout
    (scored on test and oos_test when present, else val and oos_val) or EdgeIntent JSONL
    (stages/tasks/intent/rows.py: read_intent_file). `model` is an NLM: its folder or its .onnx
    with nlm.json beside it; its labels are the label set."""
    from stages.core.errors import SLMBenchError
    from stages.evaluate.intent import evaluate_model
    from stages.inference.gguf import GGUF_MAGIC
    from stages.tasks.intent.rows import read_intent_file

    model = Path(model)
    if model.is_file() and model.suffix != ".onnx":
        with model.open("rb") as fh:
            head = fh.read(4)
        kind = "a GGUF file" if head == GGUF_MAGIC else "neither ONNX nor GGUF"
        raise SLMBenchError(f"{model}: {kind}; EdgeIntent scores an NLM here (its folder or model.onnx with nlm.json beside it)")
    if model.is_dir() and (model / "config.json").is_file() and not (model / "nlm.json").is_file():
        raise SLMBenchError(f"{model}: an HF model directory; EdgeIntent scores an NLM here (its folder or model.onnx with nlm.json beside it)")
    rows, fmt = read_intent_file(Path(data))
    result = evaluate_model(model, rows, samples=samples, seed=seed)
    result.pop("predictions")
    per_class = result.pop("per_class_f1")
    result = {**result, "data": str(data), "data_format": fmt, "model": str(model), "per_class_f1": per_class}
    write_json(out, result)
    return result
