"""What every generic stage does first: find the task by name and read its recipe from params."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.tasks import registry


def task_recipe(task: str, name: str, params_path: Path, parts: tuple[str, ...], module: str = "pipeline") -> tuple[ModuleType, Params, Any]:
    """(the task's pipeline parts, params, the recipe of its dataset `name`); one line for an
    unknown task, a task without the `parts` the stage calls, or a dataset its params do not have.
    `module`: the stage's own task module (registry.pipeline_task)."""
    t = registry.pipeline_task(task, "--task", ("NAME", "TITLE", "recipe", *parts), module)
    p = P.load(params_path)
    r = t.recipe(p, name)
    declared = getattr(r, "task", t.NAME)  # a recipe that names its task (`task:`) must name the one asked
    if declared != t.NAME:
        raise SLMBenchError(f"{params_path}: dataset {name!r} of task {t.NAME}: task: expected {t.NAME!r}, got {declared!r}")
    return t, p, r

