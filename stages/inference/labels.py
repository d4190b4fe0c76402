"""A label set as each runner's grammar: the answer is exactly one of the labels.

    gbnf_alternation(["card_arrival", "oos"])  ->  'root ::= "card_arrival" | "oos"'   (llama.cpp)
    lark_alternation(["card_arrival", "oos"])  ->  'start: "card_arrival" | "oos"'      (llguidance)

Both grammars accept the same strings; once a label is complete the runner ends the answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from stages.core.errors import SLMBenchError


def _literals(labels: Sequence[str]) -> list[str]:
    if not labels:
        raise SLMBenchError("an empty label set: nothing to constrain the answer to")
    bad = [lab for lab in labels if not lab or any(c in lab for c in "\r\n")]
    if bad:
        raise SLMBenchError(f"labels must be non-empty single lines; got {bad[0]!r}")
    # JSON string escapes (\" and \\) are what both grammar formats take inside a literal
    return [json.dumps(lab, ensure_ascii=False) for lab in sorted(set(labels))]


def gbnf_alternation(labels: Sequence[str]) -> str:
    """llama.cpp's GBNF: one root rule, an alternation of the labels."""
    return "root ::= " + " | ".join(_literals(labels))


def lark_alternation(labels: Sequence[str]) -> str:
    """llguidance's Lark: one start rule, an alternation of the labels."""
    return "start: " + " | ".join(_literals(labels))
