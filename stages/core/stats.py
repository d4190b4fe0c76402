"""Intervals and paired tests over scored rows: `slmbench task-evaluate --task edgejson --evaluation release` and `slmbench evaluate`
put a 95% interval next to every quality figure, and `slmbench compare A B --predictions FILE`
tests a difference between two variants on the rows both scored.

* `bootstrap_intervals`: the percentile bootstrap of a mean. Rows are resampled with
  replacement `samples` times from a generator seeded with `seed` (numpy's PCG64), one set of
  resamples shared by every metric of a group, so the same rows and seed give the same bytes.
* `paired_test`: for a 0/1 metric, McNemar's exact test on the discordant rows (the two-sided
  binomial test of b against b + c at one half); for any other metric, a paired bootstrap of
  the mean difference, its p-value the share of resampled differences, centred on the observed
  one, at least as far from it as the observed difference is from zero. Either way the
  difference gets a paired-bootstrap 95% interval (`diff`, `diff_ci95: [lo, hi]`, `diff_n`: the
  one metrics layout, docs/design.md). Significant means p < ALPHA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
DIGITS = 6  # the rounding of every figure written, so the bytes do not depend on summation order


def _resample(n: int, samples: int, seed: int) -> np.ndarray:
    """Row indices, `samples` x `n`, drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(samples, n))


def _bounds(means: np.ndarray) -> np.ndarray:
    tail = (1 - CONFIDENCE) / 2
    return np.quantile(means, [tail, 1 - tail], axis=0, method="linear")


def bootstrap_intervals(values: Sequence[Sequence[float]] | np.ndarray, samples: int, seed: int) -> list[tuple[float, float]]:
    """95% percentile intervals of the column means of `values` (rows x metrics). An empty
    table gives no intervals; a single row, the point itself."""
    m = np.asarray(values, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"expected a rows x metrics table, got shape {m.shape}")
    if m.shape[0] == 0:
        return []
    if samples < 1:
        raise ValueError(f"bootstrap samples must be at least 1, got {samples}")
    idx = _resample(m.shape[0], samples, seed)
    means = m[idx].mean(axis=1)  # samples x metrics
    lo, hi = _bounds(means)
    return [(round(float(a), DIGITS), round(float(b), DIGITS)) for a, b in zip(lo, hi, strict=True)]


def is_binary(values: Sequence[float] | np.ndarray) -> bool:
    v = np.asarray(values, dtype=np.float64)
    return bool(np.all((v == 0.0) | (v == 1.0)))


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """McNemar's exact test for paired 0/1 outcomes: a_only rows scored 1 only by a, b_only only by b."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a_only, b_only = int(np.sum((x == 1) & (y == 0))), int(np.sum((x == 0) & (y == 1)))
    n = a_only + b_only
    if n == 0:
        p = 1.0
    else:
        # two-sided exact binomial tail, in integers so it is exact for any n
        tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1))
        p = min(1.0, 2 * tail / 2**n)
    return {"a_only": a_only, "b_only": b_only, "p_value": p}


def paired_test(a: Sequence[float], b: Sequence[float], samples: int, seed: int) -> dict[str, Any]:
    """The difference b - a over paired rows: means, the difference with its 95% interval, the
    p-value of the test that fits the metric, and whether it is significant at ALPHA."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired values need the same rows on both sides, got {x.shape} and {y.shape}")
    n = int(x.size)
    if n == 0:
        raise ValueError("no rows to pair")
    d = y - x
    diff = float(d.mean())
    boot = d[_resample(n, samples, seed)].mean(axis=1)
    lo, hi = _bounds(boot)
    out: dict[str, Any] = {"n": n, "mean_a": round(float(x.mean()), DIGITS), "mean_b": round(float(y.mean()), DIGITS), "diff": round(diff, DIGITS)}
    out.update(diff_ci95=[round(float(lo), DIGITS), round(float(hi), DIGITS)], diff_n=n)
    if is_binary(x) and is_binary(y):
        mc = mcnemar_exact(x, y)
        out.update(test="mcnemar_exact", a_only=mc["a_only"], b_only=mc["b_only"], p_value=mc["p_value"])
    else:
        # share of resampled differences at least as far from the observed one as it is from 0
        # (the bootstrap distribution shifted to the null); +1 on both sides so p is never 0
        far = int(np.sum(np.abs(boot - diff) >= abs(diff) - 1e-12))
        out.update(test="paired_bootstrap", p_value=(far + 1) / (samples + 1))
    out["p_value"] = round(float(out["p_value"]), DIGITS)
    out["significant"] = bool(out["p_value"] < ALPHA)
    return out
