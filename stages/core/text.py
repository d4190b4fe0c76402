"""What "the same text" means wherever a task compares texts (EdgeIntent's duplicates, conflicts and
split leaks; EdgeFuncCall's request leaks and grounding): `normalise_text`."""

from __future__ import annotations

import unicodedata


def _edge(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def normalise_text(text: str) -> str:
    """Lower case, whitespace runs collapsed to one space, punctuation (Unicode category P*) and spaces stripped at both ends."""
    collapsed = " ".join(text.lower().split())
    start, end = 0, len(collapsed)
    while start < end and _edge(collapsed[start]):
        start += 1
    while end > start and _edge(collapsed[end - 1]):
        end -= 1
    return collapsed[start:end]
