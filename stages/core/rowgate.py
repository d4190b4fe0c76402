"""What a task's gate hands the generic validate stage (stages/pipeline/validate.py).

A task's `gate` part (stages/tasks/registry.py, PIPELINE_PARTS) checks its rows in Python, builds
its Great Expectations `Table`s (a pandas DataFrame and the suite it must pass, each expectation
named with `named`), runs them with the `RunGX` it is given and returns a `GateResult`. The stage
owns the files: it reads nothing of the task's format, writes quarantine, quality.json and (only
when the gate passed) the validated rows, and fails with one line naming the input file and every
failed expectation. The runner (stages/data/gx.py's gx_gate) is handed in, so a task's folder
never imports the data floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GateResult:
    accepted: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    quality: dict[str, Any]
    failed_expectations: list[str] = field(default_factory=list)
    expectations: dict[str, bool] = field(default_factory=dict)  # every GX expectation by name -> passed
    files: dict[str, Any] = field(default_factory=dict)  # more JSON files the stage writes beside quality.json, by file name

    @property
    def passed(self) -> bool:
        return not self.failed_expectations


@dataclass(frozen=True)
class Table:
    """One GX validation: a DataFrame and the suite it must pass."""

    name: str  # what the table holds: `input`, `accepted`, a task's own
    frame: Any  # pandas.DataFrame
    suite: str  # the expectation suite's name
    expectations: list[Any]  # GX expectations, each named in meta["name"]


# run_gx(run_name, tables, source_name=...) -> (the failed expectations, each described in a line;
# every expectation's name -> passed)
RunGX = Callable[..., tuple[list[str], dict[str, bool]]]


def named(name: str, property_: str) -> dict[str, Any]:
    """An expectation's name (what the gate reports when it fails) and the property it checks, also shown in Data Docs."""
    return {"meta": {"name": name, "property": property_}, "notes": f"{name}: {property_}"}
