"""python benchmarks/bench_intent.py [--samples 1000] [--latency-queries 500] [--browser-rows 1000] [--mlm stage|train|skip] [--out benchmarks/results/bench_intent.json]

EdgeIntent's models side by side on the pipeline's own split of each dataset
(data/intent/<d>/train.jsonl and test.jsonl: run `dvc repro intent_split@banking77
intent_split@clinc150` first), the small ones trained and timed in this run, on 1 thread:

Models: the majority class; TF-IDF (word 1-2 + char_wb 2-5) + logistic regression
(stages/train/intent_baselines.py); the NLM (stages/train/nlm.py) at its default size and at
2^15 buckets (`nlm_small`). Each gets the task's figures with 95% bootstrap intervals
(stages/tasks/intent/metrics.py), training seconds, the size of its saved files, and
single-query latency p50/p95 (the NLM's from stages/tasks/intent/nlm_evaluation.py: onnxruntime, 1 thread,
in a spawned process that also gives its peak RSS; the baselines' in this process, scikit-learn).
With --browser-rows > 0, the default NLM also runs in headless Chromium (onnxruntime-web wasm,
1 thread; tests/browser.py) on that many test rows: agreement with Python row for row, and p50/p95.

The MLM (SmolLM2-135M + LoRA, Q8_0 GGUF, label-constrained; stages/tasks/intent/mlm_evaluation.py, with
`intent.mlm.threads` threads) is scored on the rows its stage scores (`intent.mlm.test_rows`, the
same draw). `--mlm stage` scores the GGUF `dvc repro` built (models/intent/<d>/mlm/gguf) and takes
its training seconds from the stage's metrics/intent/<d>/mlm/train.json (`train_s_from` says so);
`--mlm train` trains it here with the params' `intent.mlm` (minutes per dataset) and times that;
`--mlm skip` leaves it out.

Writes benchmarks/results/bench_intent.json (--out) with the command, date, git commit and CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import http.server
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BOOT_SEED = 0


def load_split(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pipeline's split of dataset `name` (intent_split@<name>)."""
    from stages.tasks.intent.rows import read_intent_jsonl

    folder = ROOT / "data" / "intent" / name
    if not (folder / "test.jsonl").is_file():
        raise SystemExit(f"{folder}/test.jsonl: not built; run `dvc repro intent_split@{name}` first")
    return read_intent_jsonl(folder / "train.jsonl"), read_intent_jsonl(folder / "test.jsonl")


def mlm_run(name: str, train_rows: list, test_rows: list, labels: list[str], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The MLM: trained here (--mlm train) or the stage's GGUF (--mlm stage), scored on the stage's test rows."""
    from stages.core import params as P
    from stages.tasks.intent.mlm_evaluation import evaluate_lm
    from stages.tasks.intent.prompt import answer_text, chat_messages
    from stages.tasks.intent.rows import draw

    cfg = P.intent_mlm(P.load(ROOT / "params.yaml"))
    scored = sorted(draw(test_rows, cfg.test_rows, cfg.seed), key=lambda r: r["id"])
    out: dict[str, Any] = {}
    if args.mlm == "train":
        from stages.inference.gguf_convert import gguf_name, quantize_file, to_f16
        from stages.train.train import run

        picked = draw(train_rows, cfg.train_rows, cfg.seed)
        d = work / name / "mlm"
        m = run("mlm", cfg, ROOT / "models" / "base" / cfg.base, [(chat_messages(r["text"]), answer_text(r["label"])) for r in picked], d / "adapter", d / "merged", d / "live", key="intent")
        gguf = d / gguf_name(cfg.qtype)
        to_f16(d / "merged", d / "f16.gguf")
        quantize_file(d / "f16.gguf", gguf, cfg.qtype.upper(), cfg.threads)
        out.update(train_s=m["wall_s"], train_rows=len(picked), train_s_from="this run")
    else:
        gguf = ROOT / "models" / "intent" / name / "mlm" / "gguf" / f"model-{cfg.qtype.lower()}.gguf"
        train_json = ROOT / "metrics" / "intent" / name / "mlm" / "train.json"
        if not gguf.is_file():
            raise SystemExit(f"{gguf}: not built; run `dvc repro intent_mlm_quantize@{name}` first, or --mlm train")
        m = json.loads(train_json.read_text(encoding="utf-8"))
        out.update(train_s=m["wall_s"], train_rows=m["train_rows"], train_s_from=str(train_json.relative_to(ROOT)))
    ev = evaluate_lm(gguf, scored, labels, samples=args.samples, seed=BOOT_SEED, latency_queries=min(args.latency_queries, cfg.latency_queries),
                     threads=cfg.threads, parallel=cfg.parallel)  # fmt: skip
    ev.pop("predictions")
    ev.pop("per_class_f1")
    return {**ev, **out}


def single_query_latency(predict: Any, texts: list[str], warmup: int = 10) -> dict[str, Any]:
    from stages.inference.measure import latency_summary, single_query_latencies

    return latency_summary(single_query_latencies(predict, texts, texts[:warmup]))


def quality(rows: list[dict[str, Any]], preds: list[str], labels: list[str], samples: int) -> dict[str, Any]:
    from stages.tasks.intent.metrics import score

    summary, _ = score([r["label"] for r in rows], preds, labels, samples=samples, seed=BOOT_SEED)
    return summary


def browser_run(model_dir: Path, texts: list[str], work: Path) -> dict[str, Any]:
    """The NLM in headless Chromium on `texts`: labels and per-query latencies."""
    sys.path.insert(0, str(ROOT / "tests"))
    import browser

    from stages.tasks.intent.page import build_site

    site = build_site(model_dir, work / "site")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # the test helper's Chromium has no network; 127.0.0.1 (this server) stays reachable
    browser.FLAGS = tuple("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" if f.startswith("--host-resolver-rules=") else f for f in browser.FLAGS)
    try:
        with browser.Browser(work / "chromium", timeout_s=300) as b:
            page = b.open(f"http://127.0.0.1:{server.server_address[1]}/index.html")
            state = page.wait_for("document.body.dataset.state !== 'loading' && document.body.dataset.state", timeout_s=60)
            if state != "ready":
                message = page.evaluate("document.getElementById('error').textContent")
                raise RuntimeError(f"the page did not load the model: {message}")
            page.evaluate(f"window.classifyAll({json.dumps(texts[:10])})")  # warm-up
            out = page.evaluate(f"window.classifyAll({json.dumps(texts)})")
            out["errors"] = page.errors
            return out
    finally:
        server.shutdown()
        server.server_close()


def run_dataset(name: str, train_rows: list, test_rows: list, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from stages.inference.nlm_runtime import load_nlm
    from stages.tasks.intent.nlm_evaluation import evaluate_model
    from stages.train import intent_baselines as B
    from stages.train.nlm import NLMConfig, export, train

    labels = sorted({r["label"] for r in train_rows})
    texts = [r["text"] for r in test_rows]
    timed = texts[: args.latency_queries]
    out: dict[str, Any] = {"n_train": len(train_rows), "n_test": len(test_rows), "n_labels": len(labels)}
    print(f"{name}: {len(train_rows)} train, {len(test_rows)} test, {len(labels)} labels", flush=True)

    start = time.perf_counter()
    majority = B.train_majority(train_rows)
    train_s = time.perf_counter() - start
    size = len(json.dumps(majority, sort_keys=True)) + 1
    out["majority"] = {**quality(test_rows, B.predict_majority(majority, texts), labels, args.samples), "train_s": round(train_s, 4), "size_bytes": size,
                       **single_query_latency(functools.partial(B.predict_majority, majority), timed)}  # fmt: skip
    print(f"  majority: {out['majority']['accuracy']}", flush=True)

    start = time.perf_counter()
    lr = B.train_tfidf_lr(train_rows)
    train_s = time.perf_counter() - start
    files = B.save_tfidf_lr(lr, work / name / "tfidf_lr")
    lr = B.load_tfidf_lr(work / name / "tfidf_lr")
    out["tfidf_lr"] = {**quality(test_rows, lr.predict(texts), labels, args.samples), "train_s": round(train_s, 2),
                       "size_bytes": sum(p.stat().st_size for p in files), **single_query_latency(lr.predict, timed)}  # fmt: skip
    print(f"  tfidf_lr: {out['tfidf_lr']['accuracy']} in {out['tfidf_lr']['train_s']} s", flush=True)

    for key, cfg in (("nlm", NLMConfig()), ("nlm_small", NLMConfig(buckets=2**15))):
        model = train(train_rows, labels, cfg)
        model_dir = work / name / key
        export(model, model_dir)
        ev = evaluate_model(model_dir, test_rows, labels, samples=args.samples, seed=BOOT_SEED, latency_queries=args.latency_queries)
        preds = ev.pop("predictions")
        ev.pop("per_class_f1")
        out[key] = {**ev, "train_s": model.stats["wall_s"], "config": dataclasses.asdict(cfg)}
        print(f"  {key}: {ev['accuracy']} in {model.stats['wall_s']} s, {ev['size_bytes']} bytes, p50 {ev['latency_ms_p50']} ms", flush=True)
        if key == "nlm" and args.browser_rows > 0:
            subset = texts[: args.browser_rows]
            got = browser_run(model_dir, subset, work / name)
            python = load_nlm(model_dir).predict(subset)
            agree = [a == b for a, b in zip(python, got["labels"], strict=True)]
            p50, p95 = np.percentile(got["latencies_ms"], [50, 95])
            out[key]["browser"] = {"n": len(subset), "agreement_with_python": round(float(np.mean(agree)), 6), "disagreements": int(len(agree) - sum(agree)),
                                   "latency_ms_p50": round(float(p50), 3), "latency_ms_p95": round(float(p95), 3), "page_errors": got["errors"]}  # fmt: skip
            assert preds[: len(subset)] == python
            print(f"  browser: {out[key]['browser']}", flush=True)
    if args.mlm != "skip":
        out["mlm"] = mlm_run(name, train_rows, test_rows, labels, args, work)
        print(f"  mlm: {out['mlm']['accuracy']} (n={out['mlm']['n']}), {out['mlm']['size_bytes']} bytes, p50 {out['mlm'].get('latency_ms_p50')} ms", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples per interval")
    ap.add_argument("--latency-queries", type=int, default=500, help="test rows timed one at a time")
    ap.add_argument("--browser-rows", type=int, default=1000, help="test rows the browser classifies (0: skip the browser)")
    ap.add_argument("--only", choices=("banking77", "clinc150"), help="one dataset")
    ap.add_argument("--mlm", choices=("stage", "train", "skip"), default="stage", help="the MLM: the stage's GGUF, trained in this run, or left out")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_intent.json")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_model import provenance

    from stages.core.records import write_json

    result: dict[str, Any] = {**provenance("bench_intent.py"), "split": "data/intent/<d>/train.jsonl and test.jsonl (intent_split@<d>)"}
    result["threads"] = 1
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("banking77", "clinc150"):
            if args.only and name != args.only:
                continue
            train_rows, test_rows = load_split(name)
            result[name] = run_dataset(name, train_rows, test_rows, args, Path(tmp))
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
