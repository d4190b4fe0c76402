"""What every stage command shares: the one-line error for bad input, and the common options.

Every stage depends on this module (dvc.yaml): keep it small and stable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from stages.core.errors import SLMBenchError

F = TypeVar("F", bound=Callable[..., Any])

ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
VersionOpt = Annotated[str, typer.Option("--version", help="Dataset version, a key of `datasets` in params.yaml (e.g. v3).")]
IntentOpt = Annotated[str, typer.Option("--name", help="EdgeIntent dataset, a key of `intent.datasets` in params.yaml (e.g. banking77).")]
TaskOpt = Annotated[str, typer.Option("--task", help="A registered task: a folder stages/tasks/<task>/ with a task.py.")]
TaskNameOpt = Annotated[str, typer.Option("--name", help="What the stage runs for: a dataset of the task's section in params.yaml (EdgeJSON's train: a model of `models:`).")]
FuncCallOpt = Annotated[str, typer.Option("--name", help="EdgeFuncCall dataset, a key of `funccall.datasets` in params.yaml (e.g. edgefunccall).")]


def friendly(fn: F) -> F:
    """Turn SLMBenchError into one line on stderr and exit code 2; no traceback for bad input."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SLMBenchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
