"""EdgeIntent's prompt and answer format for a language model (the MLM): the query as the user's
message under a one-line system message, the intent label as the whole answer.

The label set is the task's decoding constraint; each runner translates it into its own grammar
(stages/inference/labels.py: a GBNF alternation for llama.cpp, a Lark alternation for llguidance).
The prompt does not list the labels: 77 or 151 of them would cost ten times the query's tokens on
every call, and the constraint already keeps the answer inside the set.
"""

from __future__ import annotations

SYSTEM_PROMPT = "Classify the user's message. Answer with its intent label only."


def chat_messages(text: str) -> list[dict[str, str]]:
    """The chat of one query, without the answer."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}]


def answer_text(label: str) -> str:
    """The target answer: the label itself."""
    return label
