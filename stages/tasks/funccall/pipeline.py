"""EdgeFuncCall's pipeline parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic stages
(stages/pipeline/) call for it. Its gate (gate.py) and split rule (split.py) run through the generic
stages; its MLM trains through the generic train stage, with BFCL's converted rows as the held-out
test no training request may be, and is quantized and gated through the generic quantize stage
(free decoding, prefix agreement, AST match as the primary metric). Its generator and the scoring of
its test split and BFCL are still its own stages (docs/funccall.md). Its board parts are in task.py."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.params import FuncCallData, FuncCallMLMParams, Params
from stages.inference.tool_calls import answer_schema, answer_text
from stages.tasks.funccall.metrics import row_score
from stages.tasks.funccall.prompt import chat_messages
from stages.tasks.funccall.rows import first_of_shuffle
from stages.tasks.funccall.rows import read_call_rows as read_rows  # noqa: F401 (the interface's row reader)
from stages.tasks.funccall.rows import write_call_rows as write_rows  # noqa: F401 (the interface's row writer)

NAME = "funccall"
TITLE = "EdgeFuncCall"
PARAMS_KEY = "funccall"  # its settings: funccall.datasets.<name>, funccall.mlm
METRICS = ("ast", "name", "json_parse")  # what score_row gives (schema validity and argument F1 are its evaluate stage's)
PRIMARY = "ast"  # the metric the quantize gate compares
GATE_DECODING = "free"  # the two runtimes' answer grammars differ in the whitespace they allow; free decoding judges the conversion
AGREEMENT = "prefix"  # the share of the merged model's answer the GGUF reproduces from its start


def recipe(p: Params, name: str) -> FuncCallData:
    return P.funccall_data(p, name)


def mlm(p: Params, name: str) -> FuncCallMLMParams:
    """One setting for every dataset's MLM (`funccall.mlm`); `name`: the dataset it trains on."""
    return P.funccall_mlm(p)


def mlm_key(name: str) -> str:
    return "funccall.mlm"


def resolve(rows: list[dict[str, Any]], p: Params, source: Path | None) -> list[dict[str, Any]]:
    """Its rows as they are: each already holds what prompt, answer and constraint read."""
    return rows


def bootstrap(p: Params) -> tuple[int, int]:
    return p.funccall.bootstrap_samples, p.funccall.bootstrap_seed


def train_rows(rows: list[dict[str, Any]], cfg: FuncCallMLMParams) -> list[dict[str, Any]]:
    """The first `train_rows` rows of a shuffle seeded with `seed` (rows.first_of_shuffle); 0: every row."""
    return first_of_shuffle(rows, cfg.train_rows, cfg.seed)


def train_figures(picked: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rows_by_kind": dict(sorted(Counter(str(r.get("kind", "")) for r in picked).items()))}


def prompt(row: dict[str, Any]) -> list[dict[str, str]]:
    return chat_messages(row["request"], row["tools"])


def answer(row: dict[str, Any]) -> str:
    """The calls as compact JSON, each call's arguments in its tool's grammar order."""
    return answer_text(row["calls"], row["tools"])


def constraint(r: FuncCallData | None, source: Path | None) -> dict[str, str]:
    """Each row's answer is JSON under its own schema: the calls over the row's tools (row_schema)."""
    return {"json_schema": "per_row"}


def row_schema(row: dict[str, Any], cfg: FuncCallMLMParams) -> dict[str, Any]:
    """The answer schema of a row: up to `max_calls` calls of its tools, each with its arguments' schema."""
    return answer_schema(row["tools"], cfg.max_calls)


def score_row(row: dict[str, Any], got: str) -> dict[str, float]:
    """AST match, the right function names, and parsable JSON (metrics.row_score; model text is data)."""
    s = row_score(row, got, False)
    return {m: float(s[m]) for m in METRICS}


def leak_key(row: dict[str, Any]) -> str:
    """What must differ between a training row and a held-out test row: the request, case and whitespace normalised."""
    return re.sub(r"\s+", " ", row["request"]).strip().casefold()
