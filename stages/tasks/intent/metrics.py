"""EdgeIntent's quality figures over predicted labels, each with its n and a 95% bootstrap interval.

`score(labels_true, labels_pred, label_set)` returns (summary, per_class_f1):

- `accuracy`: share of rows whose predicted label equals the true one (out-of-scope rows count,
  predicted right when predicted `oos`).
- `macro_f1`: the unweighted mean, over the classes present in the true labels, of each class's
  F1 = 2 TP / (2 TP + FP + FN); the same figure as scikit-learn's
  `f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro")`. A prediction of a
  class absent from the truth is a miss for its row's class and counts in no average. `oos`
  is a class like any other here.
- When some true label is `oos_label`: `in_scope_accuracy`, the accuracy over the rows whose true
  label is not `oos` (predicting `oos` for one of them is wrong), and `oos_recall`, the share of
  `oos` rows predicted `oos` (CLINC150's two headline figures, Larson et al. 2019).

Each figure `m` is written with `m_ci95: [lo, hi]` and `m_n`, the rows it was computed on (the one
metrics layout, docs/design.md). Intervals are percentile bootstraps over rows with `samples`
resamples from `seed`: accuracy, in-scope accuracy and out-of-scope recall through
`stages.core.stats.bootstrap_intervals` over their own rows (so the two CLINC150 figures resample
within their row groups); macro F1 by resampling all rows and recomputing the per-class counts
of each resample at once (bincounts over sample x class cells), so 1,000 resamples of 3,000 rows
with 151 classes take well under a second. Figures are rounded to `stats.DIGITS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stages.core.stats import CONFIDENCE, DIGITS, bootstrap_intervals
from stages.tasks.intent.rows import OOS

# resamples of the macro-F1 bootstrap held in memory at once (each is one row-index vector)
CHUNK = 100
# The registry: metric -> version of its definition above, bumped whenever that changes (the
# leaderboard flags a submission scored with another version). The last two exist only for data
# with out-of-scope rows.
METRICS = {"accuracy": 1, "macro_f1": 1, "in_scope_accuracy": 1, "oos_recall": 1}


def versions() -> dict[str, int]:
    return dict(METRICS)


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _f1_by_class(true: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(per-class F1, class present in the truth) for k classes coded 0..k-1 (a prediction coded k is
    outside every class), from one set of rows (n) or from many at once (samples x n -> samples x k)."""
    t2, p2 = np.atleast_2d(true), np.atleast_2d(pred)
    s = t2.shape[0]
    base = (np.arange(s) * (k + 1))[:, None]  # each resample gets its own k + 1 bincount cells

    def count(codes: np.ndarray) -> np.ndarray:
        return np.bincount((base + codes).ravel(), minlength=s * (k + 1)).reshape(s, k + 1)[:, :k]

    tp, n_true, n_pred = count(np.where(t2 == p2, t2, k)), count(t2), count(p2)
    denom = n_true + n_pred  # 2 TP + FP + FN
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(denom.shape), where=denom > 0)
    present = n_true > 0
    return (f1, present) if true.ndim == 2 else (f1[0], present[0])


def macro_f1_interval(true: np.ndarray, pred: np.ndarray, k: int, samples: int, seed: int) -> tuple[float, float]:
    """The percentile bootstrap of macro F1 (over the classes present in each resample's truth)."""
    n = true.size
    rng = np.random.default_rng(seed)
    values = []
    for start in range(0, samples, CHUNK):
        idx = rng.integers(0, n, size=(min(CHUNK, samples - start), n))
        f1, present = _f1_by_class(true[idx], pred[idx], k)
        values.append((f1 * present).sum(axis=1) / present.sum(axis=1))
    tail = (1 - CONFIDENCE) / 2
    lo, hi = np.quantile(np.concatenate(values), [tail, 1 - tail], method="linear")
    return _r(lo), _r(hi)


def score(
    labels_true: Sequence[str],
    labels_pred: Sequence[str],
    label_set: Sequence[str],
    oos_label: str = OOS,
    samples: int = 1000,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, float]]:
    """(summary, per-class F1) of predictions against the truth; see the module docstring.

    `label_set` is the task's labels (the model's outputs); every true label must be in it.
    Per-class F1 is given for the classes present in the truth, keyed by label, sorted."""
    if len(labels_true) != len(labels_pred):
        raise ValueError(f"{len(labels_true)} true labels but {len(labels_pred)} predictions")
    if not labels_true:
        raise ValueError("no rows to score")
    classes = sorted(set(label_set))
    code = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    unknown = sorted(set(labels_true) - set(code))
    if unknown:
        raise ValueError(f"true labels outside the label set: {', '.join(map(repr, unknown[:5]))}")
    true = np.array([code[y] for y in labels_true], dtype=np.int64)
    pred = np.array([code.get(y, k) for y in labels_pred], dtype=np.int64)
    correct = (true == pred).astype(np.float64)

    f1, present = _f1_by_class(true, pred, k)
    out: dict[str, Any] = {"n": int(true.size), "accuracy": _r(correct.mean()), "macro_f1": _r(f1[present].mean())}
    [out["accuracy_ci95"]] = [list(ci) for ci in bootstrap_intervals(correct[:, None], samples, seed)]
    out["accuracy_n"] = int(true.size)
    out["macro_f1_ci95"] = list(macro_f1_interval(true, pred, k, samples, seed))
    out["macro_f1_n"] = int(true.size)
    if oos_label in code and (is_oos := true == code[oos_label]).any():
        groups = {"in_scope_accuracy": correct[~is_oos], "oos_recall": correct[is_oos]}
        out["n_in_scope"], out["n_oos"] = int((~is_oos).sum()), int(is_oos.sum())
        for name, values in groups.items():
            if values.size:
                out[name] = _r(values.mean())
                [out[f"{name}_ci95"]] = [list(ci) for ci in bootstrap_intervals(values[:, None], samples, seed)]
                out[f"{name}_n"] = int(values.size)
    per_class = {c: _r(f1[i]) for i, c in enumerate(classes) if present[i]}
    return out, per_class
