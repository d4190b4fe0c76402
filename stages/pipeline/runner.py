"""The generic runner: a task's rows answered under its decoding constraint, and the answers scored
and aggregated. Used by the quantize and evaluate stages only (it loads the model runtimes).

A task's `constraint(recipe, source)` is one of two shapes, and each runtime translates it into its
own grammar (llama.cpp's GBNF for a GGUF file, llguidance for an HF folder), as every runner does:

- `{"labels": [...]}`: one label set for every row; the answer is one label (stages/inference/label_lm.py);
- `{"json_schema": "per_row"}`: each row's answer is JSON under its own schema, the task's
  `row_schema(row, cfg)` (EdgeFuncCall's calls over the row's tools), decoded free or constrained
  (stages/inference/call_lm.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

LABELS, JSON_SCHEMA = "labels", "json_schema"


def constraint_of(t: ModuleType, recipe: Any, source: Path | None = None) -> dict[str, Any]:
    """The task's decoding constraint, checked: {'labels': sorted labels} or {'json_schema': 'per_row'}."""
    from stages.core.errors import SLMBenchError

    c = t.constraint(recipe, source)
    if isinstance(c, dict) and set(c) == {LABELS} and c[LABELS]:
        return {LABELS: sorted({str(x) for x in c[LABELS]})}
    if c == {JSON_SCHEMA: "per_row"}:
        if not hasattr(t, "row_schema"):
            raise SLMBenchError(f"stages/tasks/{t.NAME}: constraint() gave a per-row JSON schema, but the task does not provide row_schema(row, cfg)")
        return dict(c)
    raise SLMBenchError(
        f"stages/tasks/{t.NAME}: constraint() gave {str(c)[:80]!r}; the generic runner takes {{'labels': [a non-empty list]}} or {{'json_schema': 'per_row'}}"
    )


def answer(t: ModuleType, model: Path, rows: list[dict[str, Any]], c: dict[str, Any], cfg: Any, decoding: str = "constrained") -> list[str]:
    """The model's greedy answer to each row's prompt (llama.cpp for a GGUF file, transformers for a
    merged folder): under the label set, or under each row's JSON schema (`decoding` "constrained")
    or free; "" where a label decoding was cut off."""
    from stages.core.errors import SLMBenchError

    if LABELS in c:
        from stages.inference.label_lm import LabelLM

        if decoding != "constrained":
            raise SLMBenchError(f"stages/tasks/{t.NAME}: a label-set answer is always constrained; got decoding {decoding!r}")
        lm = LabelLM(Path(model), c[LABELS], threads=cfg.threads, parallel=cfg.parallel, batch_size=cfg.batch_size)
        return lm.predict([t.prompt(r) for r in rows])
    from stages.inference.call_lm import CallLM

    lm2 = CallLM(Path(model), threads=cfg.threads, parallel=cfg.parallel, batch_size=cfg.batch_size, n_ctx=cfg.n_ctx, max_new_tokens=cfg.max_new_tokens)
    got = lm2.answer([t.prompt(r) for r in rows], [t.row_schema(r, cfg) for r in rows], [decoding])[decoding]
    return [g.text for g in got]


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
