"""What an evaluation measures besides quality, the same way for every model: single-query latency
(one query at a time, as a page or an app asks), its p50 and p95, and a measurement run in a freshly
spawned process so that the peak RSS it reads is the runtime's own."""

from __future__ import annotations

import concurrent.futures
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def single_query_latencies(predict: Callable[[Sequence[str]], Any], timed: Sequence[str], warmup: Sequence[str]) -> list[float]:
    """Milliseconds of `predict([text])` for each of `timed`, after one untimed call per `warmup` text:
    one query at a time, as a page or an app asks. Every intent model is timed this way."""
    for text in warmup:
        predict([text])
    latencies = []
    for text in timed:
        start = time.perf_counter()
        predict([text])
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def in_own_process(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], isolate: bool = True) -> dict[str, Any]:
    """`fn(*args)` in a freshly spawned process (`isolate`), so that the peak RSS it reads is its own
    runtime's, nothing of the caller's; in this process otherwise (tests)."""
    if not isolate:
        return fn(*args)
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, Any]:
    v = np.asarray(latencies_ms, dtype=np.float64)
    if not v.size:
        return {"latency_n": 0}
    p50, p95 = np.percentile(v, [50, 95])
    return {"latency_n": int(v.size), "latency_ms_p50": round(float(p50), 3), "latency_ms_p95": round(float(p95), 3)}
