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
    adapter: Annotated[Path, typer.Option(help="The trained LoRA adapter folder (the train stage's --adapter).")],
    base: Annotated[Path, typer.Option(help="The base checkpoint folder the adapter was trained on (base-model --out).")],
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder to write: base + adapter.")],
    test: Annotated[Path, typer.Option(help="Test JSONL: the gate's rows.")],
    out: Annotated[Path, typer.Option(help="GGUF folder to write.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    constraint: Annotated[Path | None, typer.Option(help="A file the task's decoding constraint is read from (e.g. a label set), where the task needs one.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Merge a task's trained adapter into its base, convert the merged model to GGUF and gate it against the merged model (stages/core/gate.py).

    Example: slmbench task-quantize --task T --name D --adapter models/tasks/T/D/mlm/adapter --base models/base/B --merged models/tasks/T/D/mlm/merged
    --test data/tasks/T/D/test.jsonl --out models/tasks/T/D/mlm/gguf --metrics metrics/tasks/T/D/mlm/quantize.json
    """
    from stages.pipeline import quantize as stage

    stage.main(task, name, params, adapter, base, merged, test, out, metrics, constraint)
    files = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in sorted(Path(out).glob("*.gguf")))
    typer.echo(f"{task}-quantize {name}: the gate passed -> {out}: {files}", err=True)


if __name__ == "__main__":
    typer.run(task_quantize)
