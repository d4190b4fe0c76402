"""The train stage, for every pipeline task: the task's LoRA language model (`mlm`: a base of
`bases` and ModelParams' settings) trained through the loop every task shares
(stages/train/train.py) on the task's training chats (`prompt` and `answer` of a row; loss on the
answer and EOS only), over the rows the task draws (`train_rows`). With held-out files (an
outside test such as BFCL), the stage first fails, in one line, when any training row shares its
`leak_key` with a held-out row: a test is never training data. train.json has the loop's figures,
the rows used, the held-out rows checked, and what the task adds about the rows (`train_figures`).
The stage writes the adapter only (the release weights a DVC remote keeps) and its checkpoint
folder (a `persist` output: a rerun after a kill resumes from it); merging the adapter into the
base is the quantize stage's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json
from stages.pipeline.common import task_recipe

PARTS = ("read_rows", "resolve", "mlm", "mlm_key", "train_rows", "train_figures", "prompt", "answer")
TASK_MODULE = "model"  # a task's model parts: stages/tasks/<task>/model.py where it has one, else its pipeline.py


def holdout_files(paths: list[Path]) -> list[Path]:
    """Each path a rows file, or a folder whose *.jsonl files are (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.glob("*.jsonl"))
        elif p.is_file():
            out.append(p)
        else:
            raise SLMBenchError(f"--holdout {p}: no such file or folder")
    return out


def leaks(t: Any, train: list[dict[str, Any]], held_out: list[Path]) -> tuple[list[tuple[str, str]], int]:
    """((training row id, held-out row id) of every training row that shares its leak_key with a held-out row, held-out rows read)."""
    keys: dict[str, str] = {}
    n = 0
    for f in held_out:
        for r in t.read_rows(f):
            keys.setdefault(t.leak_key(r), str(r["id"]))
            n += 1
    return [(str(r["id"]), keys[k]) for r in train if (k := t.leak_key(r)) in keys], n


def main(
    task: str,
    name: str,
    params_path: Path,
    train_file: Path,
    base_dir: Path,
    adapter: Path,
    checkpoint: Path,
    metrics: Path,
    live_dir: Path,
    holdout: list[Path] | None = None,
    constraint: Path | None = None,
) -> dict[str, Any]:
    """`constraint`: the file the task's `resolve` reads beside the rows (EdgeJSON: the version's generated schemas), or None."""
    from stages.train.train import run

    t, p, recipe = task_recipe(task, name, params_path, PARTS + (("leak_key",) if holdout else ()), TASK_MODULE)
    cfg = t.mlm(p, name)
    rows = t.resolve(t.read_rows(Path(train_file)), p, constraint)
    held: dict[str, Any] = {}
    if holdout:
        found, n_held = leaks(t, rows, holdout_files(holdout))
        if found:
            raise SLMBenchError(f"{task}-train {name}: {len(found)} training rows are held-out test rows (first: {found[0][0]} = {found[0][1]}); a test is never training data")
        held = {"holdout_rows": n_held, "holdout_leaks": 0}
    picked = t.train_rows(rows, cfg)
    chats = [(t.prompt(r), t.answer(r)) for r in picked]  # the training chat of a row
    section, model = t.mlm_key(name).rsplit(".", 1)  # where its settings are: for errors and the training log
    result = run(model, cfg, Path(base_dir), chats, Path(adapter), Path(checkpoint), Path(live_dir), key=section)
    if not result:  # under torchrun only process 0 logs, saves and writes the metrics
        return result
    result = {**result, "train_rows": len(picked), "train_rows_available": len(rows), **held, **t.train_figures(picked)}
    write_json(Path(metrics), result)
    return result
