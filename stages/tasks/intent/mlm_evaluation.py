"""Scoring EdgeIntent's MLM (a GGUF file or an HF directory answering with one label), as the NLM is
scored (stages/tasks/intent/nlm_evaluation.py), so the two sit in one table:

- quality over every row: stages/tasks/intent/metrics.py's `score` on the constrained labels
  (llama.cpp with a GBNF alternation, or transformers with llguidance's; stages/inference/label_lm.py),
  many queries per decode step. Out-of-scope (CLINC150) is the label `oos`, predicted like any other
  label: the MLM has no confidence threshold. A decoding cut off before its label is complete counts
  as wrong (`unlabelled` counts them).
- `latency_ms_p50` / `latency_ms_p95`: one query at a time over the first `latency_queries` rows,
  after `warmup` untimed queries, with `threads` threads: prompt evaluation and the label's tokens.
- `size_mb` / `size_bytes`: the GGUF file (or the directory's files).
- `peak_rss_mb`: the measuring process's high-water mark after loading the model and answering the
  timed queries one at a time; the process is spawned (`isolate`), so the figure is the runtime's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.memory import peak_rss_mb
from stages.core.records import write_json
from stages.core.stats import DIGITS
from stages.tasks.intent.metrics import score
from stages.tasks.intent.prompt import chat_messages
from stages.tasks.intent.rows import OOS


def measure(model_path: str, labels: list[str], texts: list[str], timed: list[str], warmup: int, threads: int, parallel: int, batch_size: int) -> dict[str, Any]:
    """Single-query latencies over `timed` (ms), this process's peak RSS while answering them, then
    the labels of `texts` (many per step, so after the RSS reading)."""
    from stages.inference.label_lm import LabelLM
    from stages.inference.measure import single_query_latencies

    lm = LabelLM(Path(model_path), labels, threads=threads, parallel=parallel, batch_size=batch_size)
    latencies = single_query_latencies(lambda ts: lm.predict([chat_messages(t) for t in ts]), timed, (timed or texts)[:warmup])
    peak = peak_rss_mb()
    return {"predictions": lm.predict([chat_messages(t) for t in texts]), "latencies_ms": latencies, "peak_rss_mb": peak, "size_bytes": lm.size_bytes}


def evaluate_lm(
    model_path: Path,
    rows: Sequence[dict[str, Any]],
    labels: Sequence[str],
    samples: int = 1000,
    seed: int = 0,
    latency_queries: int = 200,
    warmup: int = 10,
    threads: int = 2,
    parallel: int = 16,
    batch_size: int = 16,
    isolate: bool = True,
    out: Path | None = None,
    per_class_out: Path | None = None,
) -> dict[str, Any]:
    """Metrics of a label-answering LM on intent rows ("text", "label"); written to `out` when given.
    Per-class F1 goes to `per_class_out` when given, and under "per_class_f1" in the result."""
    from stages.inference.label_lm import model_kind
    from stages.inference.measure import in_own_process, latency_summary

    kind = model_kind(Path(model_path))  # one line for a file that is neither, before any worker starts
    if not rows:
        raise SLMBenchError("no rows to evaluate")
    unknown = sorted({str(r["label"]) for r in rows} - set(labels))
    if unknown:
        raise SLMBenchError(f"rows carry labels outside the model's {len(set(labels))} labels: {', '.join(map(repr, unknown[:5]))}")
    texts = [str(r["text"]) for r in rows]
    args = (str(model_path), sorted(set(labels)), texts, texts[:latency_queries], warmup, threads, parallel, batch_size)
    measured = in_own_process(measure, args, isolate)
    preds = measured["predictions"]
    summary, per_class = score([str(r["label"]) for r in rows], preds, labels, oos_label=OOS, samples=samples, seed=seed)
    result = {
        **summary,
        "unlabelled": sum(1 for x in preds if not x),
        **latency_summary(measured["latencies_ms"]),
        "size_bytes": measured["size_bytes"],
        "size_mb": round(measured["size_bytes"] / 1e6, DIGITS),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "threads": threads,
        "runtime": "llama.cpp" if kind == "gguf" else "transformers",
    }
    if out is not None:
        write_json(out, result)
    if per_class_out is not None:
        write_json(per_class_out, per_class)
    return {**result, "per_class_f1": per_class, "predictions": preds}
