"""The prepare stage: a task's own import or generator (its `prepare` part) writes the dataset's
rows, before the Great Expectations gate. The work is the task's; this module only runs it and
writes the rows atomically."""

from __future__ import annotations

from pathlib import Path

from stages.pipeline.common import task_recipe

PARTS = ("prepare", "write_rows")


def main(task: str, name: str, params_path: Path, source: Path, out: Path) -> int:
    t, p, recipe = task_recipe(task, name, params_path, PARTS)
    rows = t.prepare(recipe, Path(source))
    return t.write_rows(Path(out), rows)
