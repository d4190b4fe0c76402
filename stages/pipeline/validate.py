"""The validate stage, for every pipeline task: the task's `gate` part reads the rows, runs its
Python and jsonschema checks and its Great Expectations suites (with the runner this stage hands
it, stages/data/gx.py), and returns what it accepted, what it quarantined with the reasons, and
its quality figures (stages/core/rowgate.py). This stage writes the quarantine and quality.json
(and any file the gate adds beside it) either way; the validated rows only when the gate passed. A failed gate removes any old validated
file and exits with one line naming the input file and every failed expectation.

`source`: the file or folder the task's rows are checked against, where it has one (EdgeIntent's
label set, EdgeFuncCall's tool catalogue, EdgeJSON's generated schemas), given as the stage's --constraint."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from stages.core.errors import SLMBenchError
from stages.core.records import write_json
from stages.core.rowgate import GateResult
from stages.data.datadocs import libraries
from stages.data.gx import gx_gate
from stages.pipeline.common import task_recipe

TASK_MODULE = "gate"  # the task module this stage loads (registry.pipeline_task): its deps are that code
PARTS = ("gate", "write_rows")


def main(
    task: str, name: str, params_path: Path, inp: Path, validated: Path, quarantine: Path, metrics: Path, docs: Path | None = None, source: Path | None = None
) -> GateResult:
    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    if docs is not None:
        libraries()  # the Data Docs need them: fail before any work, naming the setup command
    Path(validated).unlink(missing_ok=True)  # a failed gate must not leave an old file behind
    result = t.gate(name, recipe, Path(inp), source, partial(gx_gate, docs_dir=docs))
    t.write_rows(Path(quarantine), result.quarantine)
    write_json(Path(metrics), result.quality)
    for file_name, body in result.files.items():  # what the task writes beside quality.json (EdgeJSON's gate.json)
        write_json(Path(metrics).with_name(file_name), body)
    if not result.passed:
        n = len(result.failed_expectations)
        raise SLMBenchError(f"{inp}: the {t.TITLE} {name} gate failed {n} expectation(s): {'; '.join(result.failed_expectations)}")
    t.write_rows(Path(validated), result.accepted)
    return result
