"""What a task's evaluation is, for the generic evaluate stage (stages/pipeline/evaluate.py).

A task's evaluate module (stages/tasks/<task>/evaluate.py) lists its evaluations in EVALUATIONS,
name -> Evaluation: what is scored, the files it reads (`inputs`, `optional_inputs`) and writes
(`outputs`, `optional_outputs`), each name -> what the file is, and `run`. The stage takes those
files as `--input NAME=PATH` and `--output NAME=PATH`, checks them against the declaration (one line
naming what is missing or unknown, before anything runs), and calls `run(params_path, name, inputs,
outputs)`, which writes every output atomically and returns the one-line summary the stage prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Run = Callable[[Path, str, dict[str, Path], dict[str, Path]], str]


@dataclass(frozen=True)
class Evaluation:
    title: str  # what it scores, for help and errors
    run: Run
    inputs: dict[str, str]
    outputs: dict[str, str]
    optional_inputs: dict[str, str] = field(default_factory=dict)
    optional_outputs: dict[str, str] = field(default_factory=dict)
