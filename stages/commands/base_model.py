"""`python -m stages.commands.base_model`: the command of dvc.yaml's base_model stage, also `slmbench base-model`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import friendly


@friendly
def base_model(
    source: Annotated[str, typer.Option(help="The base: embedded:<name>, a local directory or a Hugging Face hub id (dvc.yaml passes `bases.<name>`).")],
    out: Annotated[Path, typer.Option(help="Output directory, e.g. models/base/smollm2-135m-instruct.")],
) -> None:
    """Convert a base model to an fp32 safetensors checkpoint with its tokenizer.

    Example: slmbench base-model --source embedded:smollm2-135m-instruct --out models/base/smollm2-135m-instruct
    """
    from stages.train import base_model as stage

    typer.echo(f"base-model {source}: -> {stage.main(source, out)}", err=True)


if __name__ == "__main__":
    typer.run(base_model)
