"""Scoring an EdgeIntent NLM: quality with intervals, and what it costs to run.

    evaluate_model(Path("models/nlm-banking77"), rows, labels, out=Path("metrics/models/nlm-banking77/eval.json"))

The model is an NLM folder (model.onnx + nlm.json) or its .onnx file with nlm.json beside it
(stages/inference/nlm_runtime.py). It is loaded once here, so a bad file fails fast with one line
(not ONNX; an output width other than the label count; labels other than the task's), then
measured in a fresh spawned process (`isolate=True`) so that peak RSS is the runtime's own:

- quality: stages/tasks/intent/metrics.py's `score` over every row (batched inference);
- `latency_ms_p50`, `latency_ms_p95`: one query at a time (featurise, run, decide), as a page or
  an app calls it, over the first `latency_queries` rows after `warmup` untimed queries, with
  `threads` onnxruntime threads (1, like the browser's single-threaded wasm);
- `size_mb` / `size_bytes`: model.onnx + nlm.json, the files a page downloads (MB = 10^6 bytes);
- `peak_rss_mb`: the measuring process's high-water mark (VmHWM) after loading the model and
  answering the timed queries one at a time: Python, numpy, onnxruntime and the model, nothing of
  the caller, and not the batched scoring that follows it.

Timings and RSS vary from run to run; the quality figures are byte-stable for the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.memory import peak_rss_mb
from stages.core.records import read_rows, write_json
from stages.core.stats import DIGITS
from stages.inference.measure import in_own_process, latency_summary, single_query_latencies
from stages.inference.nlm_runtime import load_nlm
from stages.tasks.intent.metrics import score
from stages.tasks.intent.rows import OOS


def measure(model_path: str, texts: list[str], timed: list[str], warmup: int, threads: int) -> dict[str, Any]:
    """Single-query latencies over `timed` (ms), this process's peak RSS while answering them, then
    the predictions for `texts` (batched, so after the RSS reading)."""
    model = load_nlm(Path(model_path), threads=threads)
    latencies = single_query_latencies(model.predict, timed, (timed or texts)[:warmup])
    peak = peak_rss_mb()
    return {"predictions": model.predict(texts), "latencies_ms": latencies, "peak_rss_mb": peak}


def evaluate_model(
    model_path: Path,
    rows: Sequence[dict[str, Any]],
    labels: Sequence[str] | None = None,
    samples: int = 1000,
    seed: int = 0,
    latency_queries: int = 200,
    warmup: int = 10,
    threads: int = 1,
    isolate: bool = True,
    out: Path | None = None,
    per_class_out: Path | None = None,
) -> dict[str, Any]:
    """Metrics of an NLM on intent rows ("text", "label"); written to `out` (JSON, atomically) when given.

    `labels` is the task's label set (default: the model's); the model must output exactly these.
    Per-class F1 goes to `per_class_out` when given, and under "per_class_f1" in the result."""
    model = load_nlm(Path(model_path), threads=threads)
    if labels is not None and set(labels) != set(model.labels):
        missing, extra = sorted(set(labels) - set(model.labels)), sorted(set(model.labels) - set(labels))
        raise SLMBenchError(
            f"{model.config_path}: the model's {len(model.labels)} labels are not the task's {len(set(labels))}"
            f" (not in the model: {', '.join(missing[:3]) or 'none'}; not in the task: {', '.join(extra[:3]) or 'none'})"
        )
    if not rows:
        raise SLMBenchError("no rows to evaluate")
    unknown = sorted({str(r["label"]) for r in rows} - set(model.labels))
    if unknown:
        raise SLMBenchError(f"rows carry labels the model does not know: {', '.join(map(repr, unknown[:5]))}")
    texts = [str(r["text"]) for r in rows]
    timed = texts[:latency_queries]
    args = (str(model.onnx_path), texts, timed, warmup, threads)
    measured = in_own_process(measure, args, isolate)
    truth = [str(r["label"]) for r in rows]
    summary, per_class = score(truth, measured["predictions"], model.labels, oos_label=model.oos_label or OOS, samples=samples, seed=seed)
    size = sum(p.stat().st_size for p in model.files)
    result = {
        **summary,
        **latency_summary(measured["latencies_ms"]),
        "size_bytes": size,
        "size_mb": round(size / 1e6, DIGITS),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "threads": threads,
        "oos_threshold": model.oos_threshold,
    }
    if out is not None:
        write_json(out, result)
    if per_class_out is not None:
        write_json(per_class_out, per_class)
    return {**result, "per_class_f1": per_class, "predictions": measured["predictions"]}


def main(
    model: Path, data: Path, out: Path, per_class_out: Path | None = None, samples: int = 1000, seed: int = 0, latency_queries: int = 200
) -> dict[str, Any]:
    """Score a model on a JSONL file of intent rows; the metrics go to `out`."""
    rows = read_rows(Path(data), required=("id", "text", "label"))
    return evaluate_model(model, rows, samples=samples, seed=seed, latency_queries=latency_queries, out=out, per_class_out=per_class_out)
