"""EdgeFuncCall's registered metrics (docs/funccall.md), each with whether higher is better and a
version that changes when its definition does, and their figures over scored rows, each with its
n and a 95% bootstrap interval.

Per row (`row_score`), from the model's answer text, the row's tools and accepted answers, and
whether the answer validated against the row's answer schema (the caller checks it: the schema is
built by the runtime side, stages/inference/tool_calls.py):

- `ast_accuracy`: the answer's calls match the accepted ones by BFCL's AST rules
  (stages/tasks/funccall/scoring.py: `ast_match`); a no-call row is right when the answer is
  `{"calls": []}`. Over every row.
- `name_accuracy`: the multiset of function names called equals the expected one (a no-call row:
  no name). Over every row.
- `argument_f1`: micro F1 over arguments (`scoring.argument_counts`): 2 TP / (2 TP + FP + FN)
  summed over rows, so rows with more arguments weigh more; its interval resamples rows. Left
  out when no row expects or gives an argument.
- `irrelevance_accuracy`: over the rows where no offered tool fits, the share answered with no call.
- `parallel_accuracy`: `ast_accuracy` over the rows that expect two or more calls.
- `json_parse`: the answer is JSON of the answer's shape (`scoring.parse_answer`).
- `schema_valid`: the answer validates against the row's answer schema (jsonschema).

A metric whose rows are absent (no parallel row in BFCL simple) is left out, not reported as 0.
`by_domain` and `by_kind` repeat `ast_accuracy` (and its n and interval) per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stages.core.stats import DIGITS, _bounds, _resample, bootstrap_intervals
from stages.tasks.funccall.scoring import argument_counts, ast_match, name_match, parse_answer

NONE, SINGLE, PARALLEL = "none", "single", "parallel"


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    version: int
    rows: str  # which rows it is a share of: "all", "none" (no call expected), "parallel"


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("ast_accuracy", True, 1, "all"),
        Metric("name_accuracy", True, 1, "all"),
        Metric("argument_f1", True, 1, "all"),
        Metric("irrelevance_accuracy", True, 1, "none"),
        Metric("parallel_accuracy", True, 1, "parallel"),
        Metric("json_parse", True, 1, "all"),
        Metric("schema_valid", True, 1, "all"),
    )
}


def kind_of(row: dict[str, Any]) -> str:
    n = len(row["accepted"])
    return NONE if n == 0 else SINGLE if n == 1 else PARALLEL


def row_score(row: dict[str, Any], text: str, schema_valid: bool) -> dict[str, Any]:
    """One row's verdicts; model text is data, and nothing in it can raise here."""
    calls = parse_answer(text)
    parsed = calls is not None
    calls = calls if calls is not None else []
    ok, error = ast_match(row["tools"], row["accepted"], calls) if parsed else (False, "json_parse")
    tp, fp, fn = argument_counts(row["tools"], row["accepted"], calls)
    return {
        "ast": float(ok),
        "name": float(parsed and name_match(row["accepted"], calls)),
        "json_parse": float(parsed),
        "schema_valid": float(parsed and schema_valid),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "error": error,
        "kind": kind_of(row),
        "domain": str(row.get("domain", "")),
    }


def _r(x: float) -> float:
    return round(float(x), DIGITS)


def _f1(tp: float, fp: float, fn: float) -> float:
    d = 2 * tp + fp + fn
    return 1.0 if d == 0 else 2 * tp / d


def f1_interval(counts: np.ndarray, samples: int, seed: int) -> tuple[float, float]:
    """The percentile bootstrap of micro F1 over rows of (tp, fp, fn)."""
    idx = _resample(counts.shape[0], samples, seed)
    sums = counts[idx].sum(axis=1)  # samples x 3
    d = 2 * sums[:, 0] + sums[:, 1] + sums[:, 2]
    f1 = np.where(d == 0, 1.0, 2 * sums[:, 0] / np.maximum(d, 1))
    lo, hi = _bounds(f1)
    return _r(lo), _r(hi)


def _share(name: str, values: Sequence[float], samples: int, seed: int) -> dict[str, Any]:
    if not values:
        return {}
    [ci] = bootstrap_intervals([[v] for v in values], samples, seed)
    return {name: _r(np.mean(values)), f"{name}_ci95": list(ci), f"{name}_n": len(values)}


def summarize(scores: Sequence[dict[str, Any]], samples: int, seed: int) -> dict[str, Any]:
    """Every registered figure over row scores (`row_score`), with n and 95% intervals, and
    `ast_accuracy` by domain and by kind."""
    out: dict[str, Any] = {"n": len(scores)}
    if not scores:
        return out
    for name, key in (("ast_accuracy", "ast"), ("name_accuracy", "name"), ("json_parse", "json_parse"), ("schema_valid", "schema_valid")):
        out.update(_share(name, [s[key] for s in scores], samples, seed))
    counts = np.array([[s["tp"], s["fp"], s["fn"]] for s in scores], dtype=np.float64)
    if counts.sum() > 0:  # rows where no argument is expected or given (an irrelevance set answered with no call) have no F1
        out["argument_f1"] = _r(_f1(*counts.sum(axis=0)))
        out["argument_f1_ci95"] = list(f1_interval(counts, samples, seed))
        out["argument_f1_n"] = len(scores)
    out.update(_share("irrelevance_accuracy", [s["ast"] for s in scores if s["kind"] == NONE], samples, seed))
    out.update(_share("parallel_accuracy", [s["ast"] for s in scores if s["kind"] == PARALLEL], samples, seed))
    for group in ("domain", "kind"):
        keys = sorted({s[group] for s in scores})
        out[f"by_{group}"] = {
            k: {"n": sum(1 for s in scores if s[group] == k), **_share("ast_accuracy", [s["ast"] for s in scores if s[group] == k], samples, seed)}
            for k in keys
        }
    errors: dict[str, int] = {}
    for s in scores:
        if s["error"]:
            errors[s["error"]] = errors.get(s["error"], 0) + 1
    out["errors"] = dict(sorted(errors.items()))
    return out


def higher_is_better() -> dict[str, bool]:
    return {name: m.higher_is_better for name, m in METRICS.items()}


def versions() -> dict[str, int]:
    return {name: m.version for name, m in METRICS.items()}
