"""EdgeFuncCall's pipeline parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic stages
(stages/pipeline/) call for it. Its gate (gate.py) and split rule (split.py) run through the generic
stages; its MLM trains through the generic train stage (model.py's parts: the training recipe
alone), with BFCL's converted rows as the held-out test no training request may be, and is
quantized and gated through the generic quantize stage
(free decoding, prefix agreement, AST match as the primary metric). Its generator and the scoring of
its test split and BFCL are still its own stages (docs/funccall.md). Its board parts are in task.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.params import FuncCallData, FuncCallMLMParams, Params
from stages.inference.tool_calls import answer_schema
from stages.tasks.funccall.metrics import row_score
from stages.tasks.funccall.model import (  # noqa: F401 (the interface's parts)
    NAME,
    TITLE,
    answer,
    leak_key,
    mlm_key,
    prompt,
    read_rows,
    recipe,
    resolve,
    train_figures,
    train_rows,
    write_rows,
)

PARAMS_KEY = "funccall"  # its settings: funccall.datasets.<name>, funccall.mlm (training), funccall.mlm_scoring
METRICS = ("ast", "name", "json_parse")  # what score_row gives (schema validity and argument F1 are its evaluate stage's)
PRIMARY = "ast"  # the metric the quantize gate compares
GATE_DECODING = "free"  # the two runtimes' answer grammars differ in the whitespace they allow; free decoding judges the conversion
AGREEMENT = "prefix"  # the share of the merged model's answer the GGUF reproduces from its start


def mlm(p: Params, name: str) -> FuncCallMLMParams:
    """Every dataset's MLM as quantize and evaluate read it: its training recipe (`funccall.mlm`) and
    how it is quantized and scored (`funccall.mlm_scoring`); `name`: the dataset."""
    return P.funccall_mlm(p)


def bootstrap(p: Params) -> tuple[int, int]:
    return p.funccall.bootstrap_samples, p.funccall.bootstrap_seed


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
