"""`python -m stages.commands.task_train`: the generic train stage of every task (stages/pipeline/train.py), also `slmbench train` (and `slmbench task-train`).

A module of its own: the stage's code deps are this module's import closure and the task's folder, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, TaskNameOpt, TaskOpt, friendly


@friendly
def task_train(
    task: TaskOpt,
    name: TaskNameOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL.")],
    base: Annotated[Path, typer.Option(help="The base checkpoint (base-model --out).")],
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder to write.")],
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint folder: written every checkpoint_steps optimizer steps, resumed from when its recipe matches; after the run it keeps the run's state only.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive folder: the loss curve.")],
    holdout: Annotated[list[Path] | None, typer.Option(help="A held-out test file (or a folder of *.jsonl): no training row may share its leak_key with one of its rows. Repeatable.")] = None,
    constraint: Annotated[Path | None, typer.Option(help="The file the task reads beside its rows (EdgeJSON: the version's generated_schemas.json).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune a task's language model (its `mlm` settings for --name) on the task's training chats.

    Example (EdgeJSON, --name a model of `models:`): slmbench train --task edgejson --name smollm2-135m-lora --train data/v4/train.jsonl
    --constraint data/v4/generated_schemas.json --base models/base/smollm2-135m-instruct --adapter models/smollm2-135m-lora/adapter
    --checkpoint models/smollm2-135m-lora/checkpoint --metrics metrics/models/smollm2-135m-lora/train.json --live metrics/models/smollm2-135m-lora/train_live

    Example: slmbench task-train --task T --name D --train data/tasks/T/D/train.jsonl --base models/base/B --adapter models/tasks/T/D/mlm/adapter --checkpoint models/tasks/T/D/mlm/checkpoint --metrics metrics/tasks/T/D/mlm/train.json --live metrics/tasks/T/D/mlm/train_live
    """
    from stages.pipeline import train as stage

    r = stage.main(task, name, params, train, base, adapter, checkpoint, metrics, live, holdout, constraint)
    if not r:  # under torchrun only process 0 reports
        return
    typer.echo(f"{task}-train {name}: {r['train_rows']} rows, {r['steps']} steps, {r['wall_s']:.0f} s", err=True)


if __name__ == "__main__":
    typer.run(task_train)
