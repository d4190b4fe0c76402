"""EdgeIntent's evaluations (stages/tasks/registry.py: PIPELINE_PARTS, EVALUATIONS), for the generic
evaluate stage (stages/pipeline/evaluate.py, whose TASK_MODULE is `evaluate`):

- `mlm` (the intent_mlm_evaluate stage): the MLM's GGUF on a dataset's test split, label-constrained
  (stages/tasks/intent/mlm_evaluation.py), with the settings of `intent.mlm`; writes its eval.json
  and per-class F1;
- `side_by_side` (the intent_evaluate stage): every EdgeIntent model of a dataset side by side. The NLM
  (stages/tasks/intent/nlm_evaluation.py: scored in a spawned process, single-query latency, peak
  RSS), the MLM (its eval.json and per-class F1 from the `mlm` evaluation are read here), and the two
  baselines (majority class, TF-IDF + logistic regression) measured the same way here: quality over
  every test row with its 95% bootstrap interval (stages/tasks/intent/metrics.py), latency one query
  at a time over the first `intent.latency_queries` rows, size as the files a deployment loads.
  Writes `eval.json` ({"models": {name: figures}}), `per_class.json` (per-class F1 per model) and
  `size_accuracy.json` (one point per model: the accuracy-against-size plot).

`main_any` is `slmbench evaluate --task intent` (task.py's EVALUATOR).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.core.evaluation import Evaluation
from stages.core.params import IntentRecipe, Params
from stages.core.records import write_json
from stages.core.stats import DIGITS

NAME = "intent"
TITLE = "EdgeIntent"

WARMUP = 10


def recipe(p: Params, name: str) -> IntentRecipe:
    return P.intent_recipe(p, name)


def measure_baseline(predict: Callable[[Sequence[str]], list[str]], texts: list[str], latency_queries: int) -> tuple[list[str], list[float]]:
    """Predictions of every text (one batch) and single-query latencies (ms) over the first rows."""
    from stages.inference.measure import single_query_latencies

    timed = texts[:latency_queries]
    return predict(texts), single_query_latencies(predict, timed, timed[:WARMUP])


def all_models(
    name: str, params_path: Path, test_file: Path, labels_file: Path, nlm_dir: Path, baselines_dir: Path, out: Path, per_class_out: Path, plot_out: Path,
    mlm_eval: Path | None = None, mlm_per_class: Path | None = None, predictions_out: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every model of a dataset side by side; each row's label from every model measured here goes to
    `predictions_out` (JSONL: id, label, then one key per model) when given."""
    from stages.inference import intent_baselines as B
    from stages.inference.measure import latency_summary
    from stages.tasks.intent.metrics import score
    from stages.tasks.intent.nlm_evaluation import evaluate_model
    from stages.tasks.intent.rows import read_intent_jsonl, read_labels

    p = P.load(params_path)
    P.intent_recipe(p, name)
    rows = read_intent_jsonl(test_file)
    labels = read_labels(labels_file)
    texts, truth = [str(r["text"]) for r in rows], [str(r["label"]) for r in rows]
    models: dict[str, dict[str, Any]] = {}
    per_class: dict[str, dict[str, float]] = {}
    predicted: dict[str, list[str]] = {}

    majority_file = Path(baselines_dir) / B.MAJORITY_FILE
    majority = json.loads(majority_file.read_text(encoding="utf-8"))
    tfidf = B.load_tfidf_lr(Path(baselines_dir))
    baselines = {
        "majority": (lambda ts: B.predict_majority(majority, ts), [majority_file]),
        "tfidf_lr": (tfidf.predict, [Path(baselines_dir) / B.TFIDF_CONFIG, Path(baselines_dir) / B.TFIDF_WEIGHTS]),
    }
    for model, (predict, files) in baselines.items():
        preds, lat = measure_baseline(predict, texts, p.intent.latency_queries)
        predicted[model] = [str(y) for y in preds]
        summary, f1 = score(truth, preds, labels, samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed)
        size = sum(f.stat().st_size for f in files)
        models[model] = {**summary, **latency_summary(lat), "size_bytes": size, "size_mb": round(size / 1e6, DIGITS)}
        per_class[model] = f1
    nlm = evaluate_model(
        Path(nlm_dir), rows, labels, samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed, latency_queries=p.intent.latency_queries
    )
    per_class["nlm"] = nlm.pop("per_class_f1")
    predicted["nlm"] = [str(y) for y in nlm.pop("predictions")]
    models["nlm"] = nlm
    if mlm_eval is not None:
        mlm = json.loads(Path(mlm_eval).read_text(encoding="utf-8"))
        if mlm.get("test_rows") != len(rows):
            raise SLMBenchError(f"{mlm_eval}: scored a test split of {mlm.get('test_rows')} rows, this one has {len(rows)}; rerun intent_mlm_evaluate")
        models["mlm"] = mlm
        if mlm_per_class is not None:
            per_class["mlm"] = json.loads(Path(mlm_per_class).read_text(encoding="utf-8"))
    result = {"dataset": name, "n": len(rows), "test_rows": len(rows), "models": models}
    write_json(out, result)
    write_json(per_class_out, per_class)
    write_json(plot_out, [{"model": m, "size_mb": v["size_mb"], "accuracy": v["accuracy"]} for m, v in models.items()])
    if predictions_out is not None:
        write_predictions(Path(predictions_out), rows, predicted)
    return result


def write_predictions(path: Path, rows: Sequence[dict[str, Any]], predicted: dict[str, list[str]]) -> int:
    """One JSONL line per scored row: its id, its true label and each model's label (key: the model)."""
    from stages.core.records import write_rows

    return write_rows(path, ({"id": str(r["id"]), "label": str(r["label"]), **{m: ys[i] for m, ys in predicted.items()}} for i, r in enumerate(rows)))


def mlm(name: str, params_path: Path, model: Path, test_file: Path, labels_file: Path, out: Path, per_class_out: Path, predictions_out: Path | None = None) -> dict[str, Any]:
    """The `mlm` evaluation: the MLM on a dataset's test split, or with
    `intent.mlm_scoring.test_rows` > 0 on about that many of its rows, the same number from each in-scope
    class, and every out-of-scope row (so oos recall keeps its n), drawn with the MLM's seed and
    scored in id order: generation costs about 0.1 s a query on 2 cores (docs/intent.md). Each
    scored row's label goes to `predictions_out` (JSONL: id, label, mlm) when given."""
    from stages.tasks.intent.mlm_evaluation import evaluate_lm
    from stages.tasks.intent.rows import draw, read_intent_jsonl, read_labels

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.intent_mlm(p)
    rows = read_intent_jsonl(Path(test_file))
    scored = sorted(draw(rows, cfg.test_rows, cfg.seed), key=lambda r: r["id"])
    result = evaluate_lm(
        Path(model), scored, read_labels(Path(labels_file)), samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed,
        latency_queries=cfg.latency_queries, threads=cfg.threads, parallel=cfg.parallel, batch_size=cfg.batch_size,
        per_class_out=Path(per_class_out),
    )  # fmt: skip
    predicted = [str(y) for y in result.pop("predictions")]
    if predictions_out is not None:
        write_predictions(Path(predictions_out), scored, {"mlm": predicted})
    per_class = result.pop("per_class_f1")
    result["test_rows"] = len(rows)  # n is the rows scored: all of them, or a per-class share
    write_json(Path(out), result)
    return {**result, "per_class_f1": per_class}


def main_any(
    model: Path,
    data: Path,
    out: Path,
    samples: int = 1000,
    seed: int = 0,
    labels_file: Path | None = None,
    threads: int = 2,
    parallel: int = 1,
    predictions_out: Path | None = None,
) -> dict[str, Any]:
    """`slmbench evaluate --task intent`: any intent model on any intent file, as a user runs it.

    `data` is a BANKING77-style CSV (text,category), a CLINC150 JSON in the data_full.json layout
    (scored on test and oos_test when present, else val and oos_val) or EdgeIntent JSONL
    (stages/tasks/intent/rows.py: read_intent_file). `model` is
    - an NLM: its folder, or its .onnx with nlm.json beside it; its labels are the label set;
    - a GGUF file or an HF model directory (an MLM, stages/tasks/intent/mlm_evaluation.py): it answers under
      a grammar of the label set, which is `labels_file`, else labels.json beside the GGUF or inside
      the directory (the intent_mlm_quantize stage, stages/pipeline/quantize.py, writes one), else the labels the data carries.
      `parallel` queries share a llama.cpp decode step (an HF directory: a batch).
    The per-row predictions (row number, true label, predicted label) go to `predictions_out` (JSONL) when given."""
    from stages.inference.label_lm import model_kind
    from stages.tasks.intent.mlm_evaluation import evaluate_lm
    from stages.tasks.intent.nlm_evaluation import evaluate_model
    from stages.tasks.intent.rows import read_intent_file, read_labels

    model = Path(model)
    nlm = model.suffix == ".onnx" or (model.is_dir() and (model / "nlm.json").is_file())
    kind = "nlm" if nlm else model_kind(model)  # one line for a file that is neither ONNX nor GGUF
    rows, fmt = read_intent_file(Path(data))
    extra: dict[str, Any] = {}
    if kind == "nlm":
        result = evaluate_model(model, rows, samples=samples, seed=seed)
    else:
        beside = (model if model.is_dir() else model.parent) / "labels.json"
        if labels_file is not None:
            labels, source = read_labels(Path(labels_file)), str(labels_file)
        elif beside.is_file():
            labels, source = read_labels(beside), str(beside)
        else:
            labels, source = sorted({str(r["label"]) for r in rows}), "the data's labels"
        if not labels:
            raise SLMBenchError(f"{data}: no labels to constrain the answers to")
        result = evaluate_lm(model, rows, labels, samples=samples, seed=seed, threads=threads, parallel=parallel, batch_size=max(1, parallel))
        extra = {"label_set": source, "labels": len(labels)}
    predicted = result.pop("predictions")
    if predictions_out is not None:
        from stages.core.records import write_rows

        write_rows(
            Path(predictions_out), ({"row": i, "label": str(r["label"]), "prediction": str(y)} for i, (r, y) in enumerate(zip(rows, predicted, strict=True)))
        )
    per_class = result.pop("per_class_f1")
    result = {**result, **extra, "data": str(data), "data_format": fmt, "model": str(model), "per_class_f1": per_class}
    write_json(out, result)
    return result


def _mlm(params_path: Path, name: str, i: dict[str, Path], o: dict[str, Path]) -> str:
    r = mlm(name, params_path, i["model"], i["test"], i["labels"], o["eval"], o["per_class"], o["predictions"])
    return f"intent {name} mlm: n={r['n']} accuracy {r['accuracy']:.3f} {r['accuracy_ci95']}, p50 {r.get('latency_ms_p50', 0):.1f} ms"


def _models(params_path: Path, name: str, i: dict[str, Path], o: dict[str, Path]) -> str:
    r = all_models(
        name, params_path, i["test"], i["labels"], i["nlm"], i["baselines"], o["eval"], o["per_class"], o["plot"], i.get("mlm_eval"), i.get("mlm_per_class"),
        o["predictions"],
    )  # fmt: skip
    return f"intent {name} side_by_side: n={r['n']} accuracy " + ", ".join(f"{m} {v['accuracy']:.3f}" for m, v in r["models"].items())


EVALUATIONS = {
    "mlm": Evaluation(
        "the MLM's GGUF on the test split, label-constrained",
        _mlm,
        {"model": "the MLM's GGUF (or an HF folder)", "test": "test JSONL (the split stage's --test)", "labels": "the label set: the grammar's alternatives"},
        {"eval": "eval.json to write", "per_class": "per-class F1 (JSON) to write", "predictions": "each scored row's label (JSONL: id, label, mlm)"},
    ),
    "side_by_side": Evaluation(
        "the NLM and the baselines, side by side with the MLM's figures",
        _models,
        {"test": "test JSONL", "labels": "the label set", "nlm": "the NLM folder (intent_nlm)", "baselines": "the baselines folder (intent_baselines)"},
        {
            "eval": "eval.json to write: every model's figures",
            "per_class": "per-class F1 of every model (JSON)",
            "plot": "accuracy against size, one point per model (JSON)",
            "predictions": "each test row's label from every model measured here (JSONL: id, label, majority, tfidf_lr, nlm)",
        },
        optional_inputs={"mlm_eval": "the MLM's eval.json (the `mlm` evaluation), put in the same table", "mlm_per_class": "the MLM's per-class F1"},
    ),
}
