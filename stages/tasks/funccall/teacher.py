"""Teacher paraphrases of EdgeFuncCall requests, as for EdgeJSON's texts (stages/inference/teacher.py:
the same backends, vLLM or any OpenAI-compatible server, and the same answer cache).

With `teacher.backend` set and a dataset's `teacher_fraction` > 0, each row whose stable hash of
(seed, "teacher", id) falls below the fraction is offered once: the teacher rewrites its request
in other words, keeping every phrase a value comes from (the row's `mentions`) as written. The
calls and accepted answers never come from the teacher. A paraphrase is kept only when it is one
line of at most MAX_CHARS characters, holds every mention (case and spacing aside), and brings no
number the template request did not have; otherwise the row keeps its template text and the
reason is counted. A kept row's `surface` becomes "teacher" and its `template_request` keeps the
text it replaced, so the gate's grounding check reads the paraphrase like any other request.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from stages.core.text import normalise_text
from stages.inference.teacher import DEFAULT, Cache, build_backend, call_cached, derived_seed, stable_unit
from stages.tasks.funccall.rows import TEACHER_SURFACE

MAX_CHARS = 300
MAX_TOKENS = 96
REQUEST = (
    "Rewrite this request to a voice assistant in other words, as a person might say it. Keep each of these phrases exactly as "
    "written: {phrases}. Add no other names, numbers, dates or times. Answer with the rewritten request only.\n\nRequest: {request}"
)
NUMBER = re.compile(r"\d+")


def prompt_of(row: dict[str, Any]) -> str:
    phrases = "; ".join(f'"{m}"' for m in dict.fromkeys((row.get("mentions") or {}).values())) or "(none)"
    return REQUEST.format(phrases=phrases, request=row["request"])


def rejection(text: str | None, row: dict[str, Any]) -> str | None:
    """Why a paraphrase cannot replace the row's request, or None when it can."""
    if text is None:
        return "teacher_error"
    text = text.strip().strip('"').strip()
    if not text or "\n" in text or len(text) > MAX_CHARS:
        return "shape"
    said = normalise_text(text)
    if any(normalise_text(m) not in said for m in (row.get("mentions") or {}).values()):
        return "lost_mention"
    if set(NUMBER.findall(text)) - set(NUMBER.findall(row["request"])):
        return "new_number"
    return None


def paraphrase(rows: list[dict[str, Any]], tp: Any, fraction: float, seed: int, cache_path: Path | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rows, with accepted paraphrases in place; the teacher's figures). Pure given the cache."""
    stats: dict[str, Any] = {"enabled": int(tp.backend != "none" and fraction > 0), "fraction": fraction, "rows": len(rows)}
    if not stats["enabled"]:
        return rows, stats | {"rows_sent": 0, "teacher_rows": 0}
    chosen = [i for i, r in enumerate(rows) if stable_unit(seed, "teacher", r["id"]) < fraction]
    cache = Cache(cache_path)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="teacher-model-") as work:
        backend = build_backend(DEFAULT, SimpleNamespace(**vars(tp.resolve(DEFAULT)), **vars(tp.vllm), **vars(tp.openai)), Path(work))
        prompts = [prompt_of(rows[i]) for i in chosen]
        samplings = [{"temperature": tp.temperature, "top_p": tp.top_p, "max_tokens": MAX_TOKENS, "seed": derived_seed(tp.seed, rows[i]["id"])} for i in chosen]
        results, keys = call_cached(backend, cache, prompts, samplings) if chosen else ([], [])
    out, reasons = list(rows), Counter[str]()
    for i, res in zip(chosen, results, strict=True):
        why = rejection(res.text, rows[i])
        if why:
            reasons[why] += 1
            continue
        out[i] = {**rows[i], "request": str(res.text).strip().strip('"').strip(), "surface": TEACHER_SURFACE, "template_request": rows[i]["request"]}
    cache.save(keep=set(keys))
    kept = len(chosen) - sum(reasons.values())
    stats.update(
        rows_sent=len(chosen), teacher_rows=kept, teacher_share=round(kept / max(1, len(rows)), 6), fallbacks=dict(sorted(reasons.items())),
        cache_hits=cache.hits, cache_misses=cache.misses, wall_s=round(time.perf_counter() - start, 3), model=tp.resolve(DEFAULT).model,
    )  # fmt: skip
    return out, stats
