"""The converted BFCL files (funccall-bfcl --out) that the funccall MLM's train and evaluate commands read."""

from __future__ import annotations

from pathlib import Path


def bfcl_files(folder: Path, params: Path) -> list[Path]:
    """The converted BFCL files of funccall.bfcl's categories, in that order."""
    from stages.core import params as P

    return [Path(folder) / f"bfcl_{c}.jsonl" for c in P.funccall_bfcl(P.load(params))]
