"""`slmbench funccall-bfcl`: the funccall_bfcl stage. BFCL's single-call AST categories
(`funccall.bfcl`: simple_python, multiple, irrelevance), as unpacked by `bash .ci/bfcl.sh`, become
EdgeFuncCall rows (stages/tasks/funccall/bfcl.py: convert), one file per category,
`<out>/bfcl_<category>.jsonl`, for the evaluate stage to score as the outside test. bfcl.json
counts the rows per category and kind. BFCL rows are test rows only; the train stage fails if
any of their questions appears in our training rows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.records import atomic_dir, write_json
from stages.tasks.funccall.rows import write_call_rows


def main(params_path: Path, src: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.tasks.funccall.bfcl import VERSION, category_files, convert

    p = P.load(params_path)
    categories = P.funccall_bfcl(p)
    result: dict[str, Any] = {"bfcl_eval": VERSION, "categories": {}}
    with atomic_dir(Path(out_dir)) as staging:
        for c in categories:
            questions, answers = category_files(c, Path(src))
            rows = convert(questions, answers, c)
            write_call_rows(staging / f"bfcl_{c}.jsonl", rows)
            result["categories"][c] = {"rows": len(rows), "by_kind": dict(sorted(Counter(r["kind"] for r in rows).items()))}
    write_json(Path(metrics), result)
    return result
