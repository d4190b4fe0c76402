"""EdgeJSON's model parts (stages/tasks/registry.py: PIPELINE_PARTS): what the generic train stage
(stages/pipeline/train.py, whose TASK_MODULE is `model`) calls for it. A stage's `--name` here is a
model of `models:` (each trains on the release dataset, `release.dataset`); its rows name their
schema by id, and `resolve` puts each row's schema, from the schema directory and the version's
generated schemas (the stage's --constraint), beside the row, so prompt and answer read the row alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.catalog import entry_of, load_catalog, with_generated
from stages.core.params import ModelParams, Params
from stages.core.records import read_rows, write_rows  # noqa: F401 (the interface's row reader and writer)
from stages.inference.prompt import answer_text, chat_messages
from stages.tasks.edgejson.model_entry import NAME, TITLE, mlm, mlm_key, recipe  # noqa: F401 (the interface's lookup of a model)


def resolve(rows: list[dict[str, Any]], p: Params, source: Path | None) -> list[dict[str, Any]]:
    """Each row with its schema (`schema`): the schema directory's, or the version's generated
    schemas in `source`; one line naming the row and its schema id when neither has it."""
    return with_schemas(rows, with_generated(load_catalog(Path(p.schemas_dir)), source))


def with_schemas(rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row with its schema from `catalog` (one line naming the row when it has none)."""
    return [{**r, "schema": entry_of(r, catalog, required=True).schema} for r in rows]  # type: ignore[union-attr]


def train_rows(rows: list[dict[str, Any]], cfg: ModelParams) -> list[dict[str, Any]]:
    """Every row, in the split's order: the model's `max_steps` (or `epochs`) bounds what it sees."""
    return rows


def train_figures(picked: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": len({r["schema_id"] for r in picked})}


def prompt(row: dict[str, Any]) -> list[dict[str, str]]:
    """The schema skeleton (system) and the text (user)."""
    return chat_messages(row["prompt"], row["schema_id"], row["schema"])


def answer(row: dict[str, Any]) -> str:
    """The expected object as compact JSON, keys in the schema's grammar order."""
    return answer_text(row["expected_output"], row["schema"])
