"""EdgeIntent's pipeline parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic stages
(stages/pipeline/) call for it. Its gate (gate.py) and split rule (split.py) run through them, and its MLM trains and is
quantized through them; its import and the scoring of every model side by side are still its own
stages (docs/intent.md). Its board parts are in task.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.core.params import IntentMLMParams, IntentRecipe, Params
from stages.core.records import write_rows  # noqa: F401 (the interface's row writer)
from stages.tasks.intent.prompt import answer_text, chat_messages
from stages.tasks.intent.rows import draw, read_labels
from stages.tasks.intent.rows import read_intent_jsonl as read_rows  # noqa: F401 (the interface's row reader)

NAME = "intent"
TITLE = "EdgeIntent"
PARAMS_KEY = "intent"  # its settings: intent.datasets.<name>, intent.mlm
METRICS = ("accuracy",)  # what score_row gives; macro F1 and the out-of-scope figures are its evaluate stage's
PRIMARY = "accuracy"  # the metric the quantize gate compares
GATE_DECODING = "constrained"  # the gate's answers: one label of the set
AGREEMENT = "exact"  # a row agrees when the GGUF gives the merged model's label


def recipe(p: Params, name: str) -> IntentRecipe:
    return P.intent_recipe(p, name)


def mlm(p: Params, name: str) -> IntentMLMParams:
    """One setting for every dataset's MLM (`intent.mlm`); `name`: the dataset it trains on."""
    return P.intent_mlm(p)


def mlm_key(name: str) -> str:
    return "intent.mlm"


def resolve(rows: list[dict[str, Any]], p: Params, source: Path | None) -> list[dict[str, Any]]:
    """Its rows as they are: each already holds what prompt, answer and constraint read."""
    return rows


def bootstrap(p: Params) -> tuple[int, int]:
    return p.intent.bootstrap_samples, p.intent.bootstrap_seed


def train_rows(rows: list[dict[str, Any]], cfg: IntentMLMParams) -> list[dict[str, Any]]:
    """About `train_rows` rows, the same number from each in-scope class, and every out-of-scope row (rows.draw), drawn with `seed`."""
    return draw(rows, cfg.train_rows, cfg.seed)


def train_figures(picked: list[dict[str, Any]]) -> dict[str, Any]:
    return {"classes": len({r["label"] for r in picked})}


def prompt(row: dict[str, Any]) -> list[dict[str, str]]:
    return chat_messages(row["text"])


def answer(row: dict[str, Any]) -> str:
    return answer_text(row["label"])


def constraint(r: IntentRecipe, source: Path | None) -> dict[str, list[str]]:
    """The label set: the dataset's labels.json (its import writes it), given as the stage's --constraint."""
    if source is None:
        raise SLMBenchError("--constraint: EdgeIntent's decoding constraint is its dataset's label set; give its labels.json")
    return {"labels": read_labels(Path(source))}


def score_row(row: dict[str, Any], got: str) -> dict[str, float]:
    return {"accuracy": float(got == row["label"])}
