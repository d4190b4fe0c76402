"""python benchmarks/bench_intent.py [--samples 1000] [--latency-queries 500] [--browser-rows 1000] [--out benchmarks/results/bench_intent.json]

EdgeIntent's models side by side on the real data of data/sources, each trained and timed in
this run, on 1 thread:

* BANKING77: train.csv split 80/20, stratified and seeded (SPLIT_SEED): within each intent, in
  sorted order of intents, a permutation of its rows from numpy's PCG64 (one generator for the
  whole split) puts round(20%) of them in the test side. 8,005 training and 1,998 test rows.
* CLINC150: trained on `train` + `oos_train`, tested on `val` + `oos_val` (3,000 + 100).

Models: the majority class; TF-IDF (word 1-2 + char_wb 2-5) + logistic regression
(stages/train/intent_baselines.py); the NLM (stages/train/nlm.py) at its default size and at
2^15 buckets (`nlm_small`). Each gets the task's figures with 95% bootstrap intervals
(stages/tasks/intent/metrics.py), training seconds, the size of its saved files, and
single-query latency p50/p95 (the NLM's from stages/evaluate/intent.py: onnxruntime, 1 thread,
in a spawned process that also gives its peak RSS; the baselines' in this process, scikit-learn).
With --browser-rows > 0, the default NLM also runs in headless Chromium (onnxruntime-web wasm,
1 thread; tests/browser.py) on that many test rows: agreement with Python row for row, and p50/p95.

Writes benchmarks/results/bench_intent.json (--out) with the command, date, git commit and CPU.
"""

from __future__ import annotations

import argparse
import csv
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
SOURCES = ROOT / "data" / "sources"
SPLIT_SEED = 1337
TEST_SHARE = 0.2
BOOT_SEED = 0


def banking77() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with (SOURCES / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = [{"id": f"banking77-train-{k:06d}", "text": r["text"], "label": r["category"]} for k, r in enumerate(csv.DictReader(fh))]
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for label in sorted({r["label"] for r in rows}):
        group = [r for r in rows if r["label"] == label]
        order = rng.permutation(len(group))
        k = round(TEST_SHARE * len(group))
        test += [group[i] for i in order[:k]]
        train += [group[i] for i in order[k:]]
    return train, test


def clinc150() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = json.loads((SOURCES / "clinc150" / "data_train_val.json").read_text(encoding="utf-8"))
    rows = lambda *names: [{"id": f"clinc150-{n}-{k:06d}", "text": t, "label": y} for n in names for k, (t, y) in enumerate(data[n])]  # noqa: E731
    return rows("train", "oos_train"), rows("val", "oos_val")


def single_query_latency(predict: Any, texts: list[str], warmup: int = 10) -> dict[str, Any]:
    from stages.evaluate.intent import latency_summary, single_query_latencies

    return latency_summary(single_query_latencies(predict, texts, texts[:warmup]))


def quality(rows: list[dict[str, Any]], preds: list[str], labels: list[str], samples: int) -> dict[str, Any]:
    from stages.tasks.intent.metrics import score

    summary, _ = score([r["label"] for r in rows], preds, labels, samples=samples, seed=BOOT_SEED)
    return summary


def browser_run(model_dir: Path, texts: list[str], work: Path) -> dict[str, Any]:
    """The NLM in headless Chromium on `texts`: labels and per-query latencies."""
    sys.path.insert(0, str(ROOT / "tests"))
    import browser

    from stages.evaluate.web import build_site

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
    from stages.evaluate.intent import evaluate_model
    from stages.inference.nlm_runtime import load_nlm
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
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples per interval")
    ap.add_argument("--latency-queries", type=int, default=500, help="test rows timed one at a time")
    ap.add_argument("--browser-rows", type=int, default=1000, help="test rows the browser classifies (0: skip the browser)")
    ap.add_argument("--only", choices=("banking77", "clinc150"), help="one dataset")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_intent.json")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_model import provenance

    from stages.core.records import write_json

    split = {"banking77": f"stratified 80/20 of train.csv, seed {SPLIT_SEED}", "clinc150": "train+oos_train / val+oos_val"}
    result: dict[str, Any] = {**provenance("bench_intent.py"), "split": split}
    result["threads"] = 1
    with tempfile.TemporaryDirectory() as tmp:
        for name, load in (("banking77", banking77), ("clinc150", clinc150)):
            if args.only and name != args.only:
                continue
            train_rows, test_rows = load()
            result[name] = run_dataset(name, train_rows, test_rows, args, Path(tmp))
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
