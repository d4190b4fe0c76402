"""EdgeFuncCall's model parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic train
stage (stages/pipeline/train.py, whose TASK_MODULE is `model`) calls for it: the MLM's training
recipe (`funccall.mlm`), the rows it trains on, the training chat of a row, and the key no
training row may share with a held-out BFCL row. Kept apart from pipeline.py, whose `mlm` adds how
the model is quantized and scored (`funccall.mlm_scoring`), so that a change there never makes a
trained model look stale."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.params import FuncCallData, MLMTraining, Params
from stages.inference.tool_calls import answer_text
from stages.tasks.funccall.prompt import chat_messages
from stages.tasks.funccall.rows import first_of_shuffle
from stages.tasks.funccall.rows import read_call_rows as read_rows  # noqa: F401 (the interface's row reader)
from stages.tasks.funccall.rows import write_call_rows as write_rows  # noqa: F401 (the interface's row writer)

NAME = "funccall"
TITLE = "EdgeFuncCall"


def recipe(p: Params, name: str) -> FuncCallData:
    return P.funccall_data(p, name)


def mlm(p: Params, name: str) -> MLMTraining:
    """One training recipe for every dataset's MLM (`funccall.mlm`); `name`: the dataset it trains on."""
    return P.funccall_mlm_training(p)


def mlm_key(name: str) -> str:
    return "funccall.mlm"


def resolve(rows: list[dict[str, Any]], p: Params, source: Path | None) -> list[dict[str, Any]]:
    """Its rows as they are: each already holds what prompt, answer and constraint read."""
    return rows


def train_rows(rows: list[dict[str, Any]], cfg: MLMTraining) -> list[dict[str, Any]]:
    """The first `train_rows` rows of a shuffle seeded with `seed` (rows.first_of_shuffle); 0: every row."""
    return first_of_shuffle(rows, cfg.train_rows, cfg.seed)


def train_figures(picked: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rows_by_kind": dict(sorted(Counter(str(r.get("kind", "")) for r in picked).items()))}


def prompt(row: dict[str, Any]) -> list[dict[str, str]]:
    return chat_messages(row["request"], row["tools"])


def answer(row: dict[str, Any]) -> str:
    """The calls as compact JSON, each call's arguments in its tool's grammar order."""
    return answer_text(row["calls"], row["tools"])


def leak_key(row: dict[str, Any]) -> str:
    """What must differ between a training row and a held-out test row: the request, case and whitespace normalised."""
    return re.sub(r"\s+", " ", row["request"]).strip().casefold()
