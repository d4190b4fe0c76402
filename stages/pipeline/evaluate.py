"""The evaluate stage, for every pipeline task: the GGUF answers the test rows (the task's own draw
of `test_rows`, with `seed`) under the task's decoding constraint, the task scores each answer
(`score_row`) and the scores are aggregated in the one metrics layout (`m`, `m_ci95`, `m_n`),
with the file's size and the runtime. `slmbench evaluate --task T` runs the same function."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stages.core.records import write_json, write_rows
from stages.pipeline.common import task_recipe
from stages.pipeline.runner import answer, constraint_of, scored

PARTS = ("METRICS", "bootstrap", "read_rows", "resolve", "mlm", "test_rows", "prompt", "constraint", "score_row")


def main(task: str, name: str, params_path: Path, model: Path, test_file: Path, out: Path, constraint: Path | None = None, predictions: Path | None = None) -> dict[str, Any]:
    from stages.core.stats import DIGITS

    t, p, recipe = task_recipe(task, name, params_path, PARTS)
    cfg = t.mlm(p, name)
    samples, seed = t.bootstrap(p)
    rows = t.test_rows(t.resolve(t.read_rows(Path(test_file)), p, constraint), cfg.test_rows, cfg.seed)
    start = time.perf_counter()
    answers = answer(t, Path(model), rows, constraint_of(t, recipe, constraint), cfg)
    wall = time.perf_counter() - start
    size = Path(model).stat().st_size
    mlm = {
        **scored(t, rows, answers, samples, seed),
        "test_rows": len(t.read_rows(Path(test_file))),
        "size_bytes": size,
        "size_mb": round(size / 1e6, DIGITS),
        "runtime": "llama.cpp",
        "qtype": cfg.qtype.upper(),
        "wall_s": round(wall, 3),
    }
    result = {"task": task, "dataset": name, "models": {"mlm": mlm}}
    write_json(Path(out), result)
    if predictions is not None:
        write_rows(Path(predictions), [{"id": r["id"], "answer": a} for r, a in zip(rows, answers, strict=True)])
    return result


def main_any(
    task: str, model: Path, data: Path, out: Path, samples: int, seed: int, threads: int, parallel: int, labels: Path | None = None, predictions: Path | None = None
) -> dict[str, Any]:
    """`slmbench evaluate --task T` for a pipeline task: any model the task's rows can be put to
    (a GGUF file or an HF folder), on any file of its rows, scored as the evaluate stage scores."""
    from types import SimpleNamespace

    from stages.core.stats import DIGITS
    from stages.tasks import registry

    t = registry.pipeline_task(task, "--task", PARTS)
    rows = t.read_rows(Path(data))
    cfg = SimpleNamespace(threads=threads, parallel=max(parallel, 1), batch_size=8)
    answers = answer(t, Path(model), rows, constraint_of(t, None, labels), cfg)
    size = sum(f.stat().st_size for f in ([Path(model)] if Path(model).is_file() else Path(model).iterdir()) if f.is_file())
    result = {"task": task, **scored(t, rows, answers, samples, seed), "size_mb": round(size / 1e6, DIGITS)}
    write_json(Path(out), result)
    if predictions is not None:
        write_rows(Path(predictions), [{"id": r["id"], "answer": a} for r, a in zip(rows, answers, strict=True)])
    return result
