"""The registered metrics: pure functions over (prediction text, expected object, schema entry).

Each metric is registered with whether higher is better and how it aggregates (a mean over
rows), lm-evaluation-harness style. Model output is untrusted data: `parse_prediction` never
raises; garbage, oversized answers, deep nesting, NaN/Infinity and duplicate keys all score
as failures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stages.core.catalog import SchemaEntry

MAX_ANSWER_CHARS = 64_000  # a longer answer is a failure, not something to parse
MAX_DEPTH = 32


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[["Prediction", Any, SchemaEntry | None], float]
    higher_is_better: bool
    version: int  # bumped whenever the definition changes (the leaderboard flags figures of another version)


METRICS: dict[str, Metric] = {}


def metric(name: str, higher_is_better: bool = True, version: int = 1) -> Callable[[Callable[..., float]], Callable[..., float]]:
    def register(fn: Callable[..., float]) -> Callable[..., float]:
        METRICS[name] = Metric(name, fn, higher_is_better, version)
        return fn

    return register


@dataclass(frozen=True)
class Prediction:
    text: str
    value: Any  # the parsed object, or None
    error: str | None  # why it did not parse


class _Reject(ValueError):
    pass


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Reject(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise _Reject(f"non-JSON constant {name}")


def _depth(obj: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        raise _Reject(f"nesting deeper than {MAX_DEPTH}")
    if isinstance(obj, dict):
        return max((_depth(v, level + 1) for v in obj.values()), default=level)
    if isinstance(obj, list):
        return max((_depth(v, level + 1) for v in obj), default=level)
    return level


def parse_prediction(text: Any) -> Prediction:
    """Parse a model's answer strictly: one JSON object, nothing else of substance."""
    if not isinstance(text, str):
        return Prediction(str(text)[:200], None, "answer is not text")
    if len(text) > MAX_ANSWER_CHARS:
        return Prediction(text[:200], None, f"answer longer than {MAX_ANSWER_CHARS} characters")
    body = text.strip()
    if body.startswith("```"):  # tolerate a fenced block, as many chat models answer
        body = body.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(body, object_pairs_hook=_no_dupes, parse_constant=_no_constants)
        _depth(value)
    except (_Reject, json.JSONDecodeError, RecursionError, ValueError) as exc:
        return Prediction(text, None, str(exc)[:160] or type(exc).__name__)
    if not isinstance(value, dict):
        return Prediction(text, None, f"answer is a JSON {type(value).__name__}, expected an object")
    return Prediction(text, value, None)


def canonical(value: Any) -> Any:
    """Key order ignored, numbers compared as numbers (1 == 1.0), booleans kept apart from numbers."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(canonical(v) for v in value))
    if isinstance(value, bool) or value is None:
        return ("__lit__", value)
    if isinstance(value, (int, float)):
        f = float(value)
        return ("__num__", f if math.isfinite(f) else repr(f))
    return ("__str__", str(value))


def leaf_pairs(value: Any, path: str = "") -> set[tuple[str, Any]]:
    """(path, canonical leaf) pairs, paths like `line_items[1].unit_price`; empty containers are leaves."""
    if isinstance(value, dict) and value:
        out: set[tuple[str, Any]] = set()
        for k, v in value.items():
            out |= leaf_pairs(v, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, list) and value:
        out = set()
        for i, v in enumerate(value):
            out |= leaf_pairs(v, f"{path}[{i}]")
        return out
    return {(path, canonical(value))}


@metric("json_parse")
def json_parse(pred: Prediction, expected: Any, entry: SchemaEntry | None) -> float:
    return float(pred.value is not None)


@metric("json_exact")
def json_exact(pred: Prediction, expected: Any, entry: SchemaEntry | None) -> float:
    return float(pred.value is not None and canonical(pred.value) == canonical(expected))


@metric("field_f1")
def field_f1(pred: Prediction, expected: Any, entry: SchemaEntry | None) -> float:
    gold = leaf_pairs(expected)
    got = leaf_pairs(pred.value) if pred.value is not None else set()
    if not got or not gold:
        return float(got == gold)
    hit = len(gold & got)
    if hit == 0:
        return 0.0
    precision, recall = hit / len(got), hit / len(gold)
    return 2 * precision * recall / (precision + recall)


@metric("schema_valid")
def schema_valid(pred: Prediction, expected: Any, entry: SchemaEntry | None) -> float:
    if pred.value is None or entry is None:
        return 0.0
    try:
        return float(not entry.errors(pred.value))
    except RecursionError:
        return 0.0


def score_row(text: Any, expected: Any, entry: SchemaEntry | None) -> dict[str, float]:
    pred = parse_prediction(text)
    return {name: m.fn(pred, expected, entry) for name, m in METRICS.items()}


def aggregate(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """Means overall, per tier and per schema; each scored row has `schema_id`, `tier` and metric values."""

    def mean(rows: list[dict[str, Any]]) -> dict[str, float]:
        return {name: round(sum(r[name] for r in rows) / len(rows), 6) for name in METRICS} if rows else {}

    tiers = sorted({str(r["tier"]) for r in scored if r.get("tier")})
    schemas = sorted({str(r["schema_id"]) for r in scored})
    return {
        "n": len(scored),
        **mean(scored),
        "by_tier": {t: {"n": sum(1 for r in scored if r.get("tier") == t), **mean([r for r in scored if r.get("tier") == t])} for t in tiers},
        "by_schema": {s: {"n": sum(1 for r in scored if r["schema_id"] == s), **mean([r for r in scored if r["schema_id"] == s])} for s in schemas},
    }


def higher_is_better() -> dict[str, bool]:
    return {name: m.higher_is_better for name, m in METRICS.items()}


def versions() -> dict[str, int]:
    return {name: m.version for name, m in METRICS.items()}
