"""`python -m stages.commands.funccall_card`: the command of dvc.yaml's funccall_card stage, also `slmbench funccall-card`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.common import ParamsOpt, friendly


@friendly
def funccall_card(
    eval_file: Annotated[Path, typer.Option("--eval", help="The MLM's eval.json (funccall-mlm-evaluate --out).")],
    train_file: Annotated[Path, typer.Option("--train", help="Its train.json.")],
    quantize_file: Annotated[Path, typer.Option("--quantize", help="Its quantize.json.")],
    quality: Annotated[Path, typer.Option(help="quality.json of its data (the validate stage's --metrics).")],
    out: Annotated[Path, typer.Option(help="Model card to write (Markdown with Hugging Face front matter).")],
    scores: Annotated[Path, typer.Option(help="Plot data to write: AST accuracy per row set and decoding.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write EdgeFuncCall's model card and the data of its score plot.

    Example: slmbench funccall-card --eval metrics/funccall/edgefunccall/mlm/eval.json --train metrics/funccall/edgefunccall/mlm/train.json
    --quantize metrics/funccall/edgefunccall/mlm/quantize.json --quality metrics/funccall/edgefunccall/quality.json --out models/funccall/edgefunccall/README.md
    --scores metrics/funccall/edgefunccall/mlm/scores.json
    """
    from stages.evaluate.funccall_card import main

    main(params, eval_file, train_file, quantize_file, quality, out, scores)
    typer.echo(f"funccall-card: -> {out}, {scores}", err=True)


if __name__ == "__main__":
    typer.run(funccall_card)
