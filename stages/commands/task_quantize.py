"""`python -m stages.commands.task_quantize`: the generic quantize stage of every pipeline task (stages/pipeline/quantize.py), also `slmbench task-quantize`.

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_quantize(
    task: TaskOpt,
    name: TaskNameOpt,
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder.")],
    test: Annotated[Path, typer.Option(help="Test JSONL: the gate's rows.")],
    out: Annotated[Path, typer.Option(help="GGUF folder to write.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    constraint: Annotated[Path | None, typer.Option(help="A file the task's decoding constraint is read from (e.g. a label set), where the task needs one.")] = None,
    params: ParamsOpt = Path("params.yaml"),
    base: Annotated[Path | None, typer.Option(help="The base checkpoint folder, for a task that converts its base too (EdgeJSON: base-q8_0.gguf, evaluate's gguf_base).")] = None,
) -> None:
    """Convert a task's merged model to GGUF and gate it against the merged model (stages/core/gate.py).

    Example: slmbench task-quantize --task T --name D --merged models/tasks/T/D/mlm/merged --test data/tasks/T/D/test.jsonl --out models/tasks/T/D/mlm/gguf --metrics metrics/tasks/T/D/mlm/quantize.json
    """
    from stages.pipeline import quantize as stage

    stage.main(task, name, params, merged, test, out, metrics, constraint, base)
    files = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in sorted(Path(out).glob("*.gguf")))
    typer.echo(f"{task}-quantize {name}: the gate passed -> {out}: {files}", err=True)


if __name__ == "__main__":
    typer.run(task_quantize)
