"""Scoring a model on function-call rows (EdgeFuncCall's split, or BFCL converted to its rows):
a GGUF file or an HF directory, greedy, free and/or constrained by each row's answer schema.

    evaluate_calls(model, rows, ["constrained"], ...) -> {"constrained": {...figures...}, ...}

Per decoding: every figure of stages/tasks/funccall/metrics.py with its n and 95% interval,
`schema_valid` checked here with jsonschema against the row's answer schema
(stages/inference/tool_calls.py), `tokens_per_s` (generated tokens over the rows' shares of
decode time: the runners attribute each decode step's time to the rows in it), `finish` counts
(a `length` finish is an answer cut off at `max_new_tokens`). Over the run: `size_mb`, and
`peak_rss_mb` of the spawned process that loaded the model and answered (`isolate`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.memory import peak_rss_mb
from stages.core.stats import DIGITS
from stages.inference.tool_calls import answer_schema
from stages.tasks.funccall.metrics import row_score, summarize
from stages.tasks.funccall.prompt import chat_messages


def measure(
    model_path: str,
    rows: list[dict[str, Any]],
    decodings: list[str],
    threads: int,
    parallel: int,
    batch_size: int,
    n_ctx: int,
    max_new_tokens: int,
    max_calls: int,
) -> dict[str, Any]:
    """Every decoding's answers to `rows` (text, tokens, seconds, finish), this process's peak RSS and the wall time."""
    from stages.inference.call_lm import CallLM

    lm = CallLM(Path(model_path), threads=threads, parallel=parallel, batch_size=batch_size, n_ctx=n_ctx, max_new_tokens=max_new_tokens)
    chats = [chat_messages(r["request"], r["tools"]) for r in rows]
    schemas = [answer_schema(r["tools"], max_calls) for r in rows]
    t0 = time.perf_counter()
    gens = lm.answer(chats, schemas, decodings)
    wall = time.perf_counter() - t0
    return {
        "answers": {d: [(g.text, g.tokens, g.seconds, g.finish) for g in gs] for d, gs in gens.items()},
        "peak_rss_mb": peak_rss_mb(),
        "size_bytes": lm.size_bytes,
        "wall_s": wall,
        "runtime": "llama.cpp" if lm.kind == "gguf" else "transformers",
    }


def schema_ok(validator: Any, text: str) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    try:
        return validator.is_valid(value)
    except Exception:  # noqa: BLE001 - model text is data: a validator error on it is an invalid answer
        return False


def evaluate_calls(
    model_path: Path,
    rows: Sequence[dict[str, Any]],
    decodings: Sequence[str],
    samples: int = 1000,
    seed: int = 0,
    threads: int = 2,
    parallel: int = 8,
    batch_size: int = 8,
    n_ctx: int = 2048,
    max_new_tokens: int = 192,
    max_calls: int = 4,
    isolate: bool = True,
    predictions_out: Path | None = None,
) -> dict[str, Any]:
    """Figures per decoding of a model on function-call rows; each row's answers to
    `predictions_out` (JSONL) when given."""
    from jsonschema import Draft202012Validator, FormatChecker

    from stages.core.records import write_rows
    from stages.inference.label_lm import model_kind
    from stages.inference.measure import in_own_process

    model_kind(Path(model_path))  # one line for a file that is neither, before any worker starts
    if not rows:
        raise SLMBenchError("no rows to evaluate")
    args = (str(model_path), list(rows), list(decodings), threads, parallel, batch_size, n_ctx, max_new_tokens, max_calls)
    measured = in_own_process(measure, args, isolate)
    checker = FormatChecker()
    validators = [Draft202012Validator(answer_schema(r["tools"], max_calls), format_checker=checker) for r in rows]
    result: dict[str, Any] = {}
    preds: list[dict[str, Any]] = [{"id": r["id"]} for r in rows]
    for d in decodings:
        answers = measured["answers"][d]
        scores = [row_score(r, text, schema_ok(v, text)) for r, v, (text, _, _, _) in zip(rows, validators, answers, strict=True)]
        tokens = sum(a[1] for a in answers)
        seconds = sum(a[2] for a in answers if a[3] not in ("error", "prompt_exceeds_context"))
        result[d] = {
            **summarize(scores, samples, seed),
            "tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 2) if seconds > 0 else 0.0,
            "finish": dict(sorted(Counter(a[3] for a in answers).items())),
        }
        for p, (text, _, _, finish), s in zip(preds, answers, scores, strict=True):
            p[d] = {"text": text, "finish": finish, "ast": s["ast"], "error": s["error"]}
    result["size_bytes"] = measured["size_bytes"]
    result["size_mb"] = round(measured["size_bytes"] / 1e6, DIGITS)
    result["peak_rss_mb"] = round(measured["peak_rss_mb"], 1)
    result["wall_s"] = round(measured["wall_s"], 1)
    result["runtime"] = measured["runtime"]
    result["threads"] = threads
    if predictions_out is not None:
        write_rows(Path(predictions_out), preds)
    return result


def read_any(data: Path, answers: Path | None) -> list[dict[str, Any]]:
    """Rows from a BFCL questions file (with its possible_answer file, or none: an irrelevance set,
    every row expects no call) or from EdgeFuncCall JSONL rows (`answers` must then be absent)."""
    from stages.core.records import jsonl_objects
    from stages.tasks.funccall.bfcl import convert
    from stages.tasks.funccall.rows import read_call_rows

    data = Path(data)
    try:
        first = next(jsonl_objects(data.read_text(encoding="utf-8"), str(data)), None)
    except (OSError, UnicodeDecodeError) as exc:
        raise SLMBenchError(f"{data}: cannot read it ({exc.__class__.__name__}); expected BFCL questions or EdgeFuncCall JSONL") from None
    if first is None:
        raise SLMBenchError(f"{data}: no rows; expected BFCL questions or EdgeFuncCall JSONL")
    row = first[1]
    if "question" in row and "function" in row:
        stem = data.stem
        category = stem[len("BFCL_v4_") :] if stem.startswith("BFCL_v4_") else "".join(c if c.isalnum() else "_" for c in stem).strip("_") or "bfcl"
        return convert(data, answers, category)
    if answers is not None:
        raise SLMBenchError(f"{data}: --answers goes with a BFCL questions file; these are EdgeFuncCall rows, which carry their accepted answers")
    return read_call_rows(data)


def main_any(
    model: Path, data: Path, answers: Path | None, constrained: bool, out: Path, threads: int, parallel: int, max_new_tokens: int,
    samples: int, seed: int, limit: int = 0, max_calls: int = 4, n_ctx: int = 2048, predictions_out: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`slmbench evaluate --task funccall`: any model on any BFCL single-call file or EdgeFuncCall
    rows, one decoding; OUT.json has the decoding's figures at its top level (n, ast_accuracy,
    irrelevance_accuracy, ...), then the model's size and memory."""
    from stages.core.records import write_json

    rows = read_any(data, answers)
    if limit > 0:
        rows = rows[:limit]
    decoding = "constrained" if constrained else "free"
    r = evaluate_calls(
        Path(model), rows, [decoding], samples=samples, seed=seed, threads=threads, parallel=parallel, n_ctx=n_ctx,
        max_new_tokens=max_new_tokens, max_calls=max_calls, predictions_out=predictions_out,
    )  # fmt: skip
    figures = r.pop(decoding)
    result = {**figures, "decoding": decoding, **r, "data": str(data)}
    write_json(Path(out), result)
    return result
