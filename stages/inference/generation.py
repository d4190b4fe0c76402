"""What a runner returns for one decoding, and the chat format's end-of-turn marker."""

from __future__ import annotations

from dataclasses import dataclass

STOP = "<|im_end|>"


@dataclass
class Generation:
    text: str
    tokens: int  # generated tokens
    seconds: float  # wall time attributed to this row
    finish: str  # "stop", "length", "repeat" (the repetition guard, stages/inference/loops.py), "prompt_exceeds_context" or "error"
