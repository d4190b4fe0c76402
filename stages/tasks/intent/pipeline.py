"""EdgeIntent's pipeline parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic stages
(stages/pipeline/) call for it. Its gate (gate.py) and split rule (split.py) run through them, and its MLM is
quantized through them (it trains through model.py's parts, the training recipe alone); its import and the scoring of every model side by side are still its own
stages (docs/intent.md). Its board parts are in task.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.core.params import IntentMLMParams, IntentRecipe, Params
from stages.tasks.intent.model import NAME, TITLE, answer, mlm_key, prompt, read_rows, recipe, resolve, train_figures, train_rows, write_rows  # noqa: F401 (the interface's parts)
from stages.tasks.intent.rows import read_labels

PARAMS_KEY = "intent"  # its settings: intent.datasets.<name>, intent.mlm (training), intent.mlm_scoring
METRICS = ("accuracy",)  # what score_row gives; macro F1 and the out-of-scope figures are its evaluate stage's
PRIMARY = "accuracy"  # the metric the quantize gate compares
GATE_DECODING = "constrained"  # the gate's answers: one label of the set
AGREEMENT = "exact"  # a row agrees when the GGUF gives the merged model's label


def mlm(p: Params, name: str) -> IntentMLMParams:
    """Every dataset's MLM as quantize and evaluate read it: its training recipe (`intent.mlm`) and
    how it is quantized and scored (`intent.mlm_scoring`); `name`: the dataset."""
    return P.intent_mlm(p)


def bootstrap(p: Params) -> tuple[int, int]:
    return p.intent.bootstrap_samples, p.intent.bootstrap_seed


def constraint(r: IntentRecipe, source: Path | None) -> dict[str, list[str]]:
    """The label set: the dataset's labels.json (its import writes it), given as the stage's --constraint."""
    if source is None:
        raise SLMBenchError("--constraint: EdgeIntent's decoding constraint is its dataset's label set; give its labels.json")
    return {"labels": read_labels(Path(source))}


def score_row(row: dict[str, Any], got: str) -> dict[str, float]:
    return {"accuracy": float(got == row["label"])}
