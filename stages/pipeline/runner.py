"""The generic runner: a task's rows answered under its decoding constraint, and the answers scored
and aggregated. Used by the quantize and evaluate stages only (it loads the model runtimes)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any


def label_set(t: ModuleType, recipe: Any, source: Path | None = None) -> list[str]:
    """The task's decoding constraint as the generic runner takes it: one label set for every row.
    (A task whose answers are JSON under a per-row schema keeps its own runner for now.)"""
    from stages.core.errors import SLMBenchError

    c = t.constraint(recipe, source)
    if not isinstance(c, dict) or set(c) != {"labels"} or not c["labels"]:
        raise SLMBenchError(f"stages/tasks/{t.NAME}/pipeline.py: constraint() gave {str(c)[:80]!r}; the generic runner takes {{'labels': [a non-empty list]}}")
    return sorted({str(x) for x in c["labels"]})


def answer(t: ModuleType, model: Path, rows: list[dict[str, Any]], labels: list[str], cfg: Any) -> list[str]:
    """The model's answer to each row's prompt under the label set (llama.cpp for a GGUF file,
    transformers with llguidance for a merged folder); "" where a decoding was cut off."""
    from stages.inference.label_lm import LabelLM

    lm = LabelLM(Path(model), labels, threads=cfg.threads, parallel=cfg.parallel, batch_size=cfg.batch_size)
    return lm.predict([t.prompt(r) for r in rows])


def scored(t: ModuleType, rows: list[dict[str, Any]], answers: list[str], samples: int, seed: int) -> dict[str, Any]:
    """The task's per-row scores (`score_row`), aggregated in the one metrics layout: each metric
    `m` as its mean over the rows that have it, `m_ci95` (a 95% bootstrap interval over those
    rows) and `m_n` (their count)."""
    from stages.core.stats import DIGITS, bootstrap_intervals

    per_row = [t.score_row(r, a) for r, a in zip(rows, answers, strict=True)]
    out: dict[str, Any] = {"n": len(rows)}
    for m in t.METRICS:  # a metric may be defined on some rows only (a recall: the rows of its class), with its own n
        values = [float(s[m]) for s in per_row if m in s]
        if not values:
            continue
        (interval,) = bootstrap_intervals([[v] for v in values], samples, seed)
        out[m] = round(sum(values) / len(values), DIGITS)
        out[f"{m}_ci95"] = list(interval)
        out[f"{m}_n"] = len(values)
    return out
