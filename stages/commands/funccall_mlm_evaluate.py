"""`python -m stages.commands.funccall_mlm_evaluate`: the command of dvc.yaml's funccall_mlm_evaluate stage, also `slmbench funccall-mlm-evaluate`.

A module of its own: the stage's code deps are this module's import closure, not the whole CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stages.commands.bfcl import bfcl_files
from stages.commands.common import ParamsOpt, friendly


@friendly
def funccall_mlm_evaluate(
    model: Annotated[Path, typer.Option(help="The MLM's GGUF (funccall-mlm-quantize --out/model-q8_0.gguf) or an HF directory.")],
    test: Annotated[Path, typer.Option(help="Test JSONL (the split stage's --test).")],
    bfcl: Annotated[Path, typer.Option(help="The converted BFCL folder (funccall-bfcl --out).")],
    out: Annotated[Path, typer.Option(help="eval.json to write.")],
    predictions: Annotated[Path | None, typer.Option(help="Folder for each row set's answers (JSONL); none by default.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score EdgeFuncCall's MLM on our test split and on BFCL's categories, free and constrained: AST match with intervals.

    Example: slmbench funccall-mlm-evaluate --model models/funccall/edgefunccall/mlm/gguf/model-q8_0.gguf --test data/funccall/edgefunccall/test.jsonl
    --bfcl data/funccall/edgefunccall/bfcl --out metrics/funccall/edgefunccall/mlm/eval.json
    """
    from stages.evaluate.funccall_stage import main

    r = main(params, model, test, bfcl_files(bfcl, params), out, predictions)
    parts = []
    for name, v in r.items():
        if isinstance(v, dict) and "constrained" in v:
            c = v["constrained"]
            parts.append(f"{name} n={c['n']} ast {c['ast_accuracy']:.3f}")
    typer.echo("funccall-mlm-evaluate: constrained " + "; ".join(parts), err=True)


if __name__ == "__main__":
    typer.run(funccall_mlm_evaluate)
