"""The train stage, for every pipeline task: the task's LoRA language model (`mlm`: a base of
`bases` and ModelParams' settings) trained through the loop every task shares
(stages/train/train.py) on the task's training chats (`prompt` and `answer` of a row; loss on the
answer and EOS only), over the rows the task draws (`train_rows`). train.json has the loop's
figures, the rows used and what the task adds about them (`train_figures`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.records import write_json
from stages.pipeline.common import task_recipe

PARTS = ("PARAMS_KEY", "read_rows", "mlm", "train_rows", "train_figures", "prompt", "answer")


def main(task: str, name: str, params_path: Path, train_file: Path, base_dir: Path, adapter: Path, merged: Path, metrics: Path, live_dir: Path) -> dict[str, Any]:
    from stages.train.train import run

    t, p, recipe = task_recipe(task, name, params_path, PARTS)
    cfg = t.mlm(p)
    rows = t.read_rows(Path(train_file))
    picked = t.train_rows(rows, cfg.train_rows, cfg.seed)
    chats = [(t.prompt(r), t.answer(r)) for r in picked]  # the training chat of a row
    result = run("mlm", cfg, Path(base_dir), chats, Path(adapter), Path(merged), Path(live_dir), key=t.PARAMS_KEY)
    result = {**result, "train_rows": len(picked), "train_rows_available": len(rows), **t.train_figures(picked)}
    write_json(Path(metrics), result)
    return result
