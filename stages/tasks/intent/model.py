"""EdgeIntent's model parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic train stage
(stages/pipeline/train.py, whose TASK_MODULE is `model`) calls for it: the MLM's training recipe
(`intent.mlm`), the rows it trains on and the training chat of a row. Kept apart from pipeline.py,
whose `mlm` adds how the model is quantized and scored (`intent.mlm_scoring`), so that a change
there never makes a trained model look stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.params import IntentRecipe, MLMTraining, Params
from stages.core.records import write_rows  # noqa: F401 (the interface's row writer)
from stages.tasks.intent.prompt import answer_text, chat_messages
from stages.tasks.intent.rows import draw
from stages.tasks.intent.rows import read_intent_jsonl as read_rows  # noqa: F401 (the interface's row reader)

NAME = "intent"
TITLE = "EdgeIntent"


def recipe(p: Params, name: str) -> IntentRecipe:
    return P.intent_recipe(p, name)


def mlm(p: Params, name: str) -> MLMTraining:
    """One training recipe for every dataset's MLM (`intent.mlm`); `name`: the dataset it trains on."""
    return P.intent_mlm_training(p)


def mlm_key(name: str) -> str:
    return "intent.mlm"


def resolve(rows: list[dict[str, Any]], p: Params, source: Path | None) -> list[dict[str, Any]]:
    """Its rows as they are: each already holds what prompt, answer and constraint read."""
    return rows


def train_rows(rows: list[dict[str, Any]], cfg: MLMTraining) -> list[dict[str, Any]]:
    """About `train_rows` rows, the same number from each in-scope class, and every out-of-scope row (rows.draw), drawn with `seed`."""
    return draw(rows, cfg.train_rows, cfg.seed)


def train_figures(picked: list[dict[str, Any]]) -> dict[str, Any]:
    return {"classes": len({r["label"] for r in picked})}


def prompt(row: dict[str, Any]) -> list[dict[str, str]]:
    return chat_messages(row["text"])


def answer(row: dict[str, Any]) -> str:
    return answer_text(row["label"])
