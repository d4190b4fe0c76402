"""The card stage, for every task: the model card (README.md beside the model) and, where the task
draws one, the rows of its plot, from what the train, quantize and evaluate stages wrote (and the
data's quality.json, where given). The task writes its card (`card`, in its card.py when it has one:
EdgeJSON's and EdgeFuncCall's; a small task may build it on stages.core.markdown.lora_card); the
stage reads the files, checks them, and writes atomically. Nothing is measured here; every figure is
quoted from those files with its n and 95% interval."""

from __future__ import annotations

from pathlib import Path

from stages.core.board import read_json
from stages.core.errors import SLMBenchError
from stages.core.records import atomic_open, write_json
from stages.pipeline.common import task_recipe

PARTS = ("card",)
TASK_MODULE = "card"  # a task's card parts: stages/tasks/<task>/card.py where it has one, else its pipeline.py


def main(
    task: str, name: str, params_path: Path, eval_file: Path, train_file: Path | None, quantize_file: Path | None, out: Path, quality: Path | None = None, plot: Path | None = None
) -> str:
    """`train_file`, `quantize_file`, `quality`: the metrics files the task's card quotes ({} for one
    not given: EdgeIntent's NLM card quotes its eval.json only); `plot`: where the rows of the task's plot go."""
    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    ev = read_json(Path(eval_file))
    tr, qz, ql = ({} if f is None else read_json(Path(f)) for f in (train_file, quantize_file, quality))
    text, rows = t.card(p, name, recipe, ev, tr, qz, ql)
    if (rows is None) != (plot is None):
        made = "draws a plot" if rows is not None else "draws no plot"
        raise SLMBenchError(f"--plot: the task {task!r} {made}; give --plot exactly when it draws one")
    if plot is not None:
        write_json(Path(plot), rows)
    with atomic_open(Path(out)) as fh:
        fh.write(text)
    return text
