"""EdgeJSON's training examples as the train stage builds them, for the benchmarks: each row with its
schema (stages/tasks/edgejson/model.py), its training chat (prompt and answer), tokenized by the
shared loop's `encode_chats` (stages/train/train.py)."""

from __future__ import annotations

from typing import Any


def encode(rows: list[dict[str, Any]], catalog: dict[str, Any], tok: Any, max_length: int) -> tuple[list[dict[str, list[int]]], int]:
    """(examples, rows dropped for exceeding max_length), in the order of `rows`."""
    from stages.tasks.edgejson.model import answer, prompt, with_schemas
    from stages.train.train import encode_chats

    resolved = with_schemas(rows, catalog)
    return encode_chats([(prompt(r), answer(r)) for r in resolved], tok, max_length)
