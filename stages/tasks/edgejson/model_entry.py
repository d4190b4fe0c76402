"""EdgeJSON's model entries: where its model stages (train, card) find a model. A stage's `--name`
is a model of `models:` (each trains on the release dataset, `release.dataset`). Kept apart from
model.py, which reads the schema catalog, so the card stage depends on this lookup only."""

from __future__ import annotations

from stages.core.errors import SLMBenchError
from stages.core.params import ModelParams, Params

NAME = "edgejson"
TITLE = "EdgeJSON"


def recipe(p: Params, name: str) -> ModelParams:
    """The model `name` of `models:`; one line naming the key and the models there otherwise."""
    if name not in p.models:
        raise SLMBenchError(f"params.yaml: no model {name!r} under models; expected one of {', '.join(p.models)}")
    return p.models[name]


def mlm(p: Params, name: str) -> ModelParams:
    return recipe(p, name)


def mlm_key(name: str) -> str:
    return f"models.{name}"
