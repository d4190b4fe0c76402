"""`slmbench funccall-mlm-train`: EdgeFuncCall's MLM, with the settings of `funccall.mlm`
(stages/core/params.py: FuncCallMLMParams).

SmolLM2-135M-Instruct (a key of `bases`) gets a LoRA adapter through the loop every task shares
(stages/train/train.py), on chats the task builds (stages/tasks/funccall/prompt.py): the tools
offered and the request in, the calls out as compact JSON in the grammar's key order
(stages/inference/tool_calls.py), loss on the answer tokens and EOS only. With `train_rows` > 0
it trains on the first `train_rows` rows of a shuffle seeded with `seed`
(stages/tasks/funccall/rows.py: first_of_shuffle); 0 takes every row.

BFCL is a test, never training data: before training, the stage fails when any question of the
converted BFCL files (the bfcl stage's rows) appears, after normalising case and whitespace, as
the request of a training row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import write_json


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def bfcl_leaks(train: list[dict[str, Any]], bfcl_files: list[Path]) -> list[tuple[str, str]]:
    """(training row id, BFCL row id) of every training request that is a BFCL question."""
    from stages.tasks.funccall.rows import read_call_rows

    questions: dict[str, str] = {}
    for f in bfcl_files:
        for r in read_call_rows(f):
            questions.setdefault(normalise(r["request"]), str(r["id"]))
    return [(str(r["id"]), questions[normalise(r["request"])]) for r in train if normalise(r["request"]) in questions]


def train_main(
    params_path: Path, train_file: Path, bfcl_files: list[Path], base_dir: Path, adapter: Path, merged: Path, metrics: Path, live_dir: Path
) -> dict[str, Any]:
    from stages.core import params as P
    from stages.inference.tool_calls import answer_text
    from stages.tasks.funccall.prompt import chat_messages
    from stages.tasks.funccall.rows import first_of_shuffle, read_call_rows
    from stages.train.train import run

    p = P.load(params_path)
    cfg = P.funccall_mlm(p)
    rows = read_call_rows(Path(train_file))
    leaks = bfcl_leaks(rows, [Path(f) for f in bfcl_files])
    if leaks:
        raise SLMBenchError(
            f"funccall-mlm-train: {len(leaks)} training requests are BFCL questions (first: {leaks[0][0]} = {leaks[0][1]}); BFCL is a test, never training data"
        )
    picked = first_of_shuffle(rows, cfg.train_rows, cfg.seed)
    chats = [(chat_messages(r["request"], r["tools"]), answer_text(r["calls"], r["tools"])) for r in picked]
    result = run("mlm", cfg, Path(base_dir), chats, Path(adapter), Path(merged), Path(live_dir), key="funccall")
    kinds: dict[str, int] = {}
    for r in picked:
        kinds[str(r.get("kind", ""))] = kinds.get(str(r.get("kind", "")), 0) + 1
    result = {**result, "train_rows": len(picked), "train_rows_available": len(rows), "rows_by_kind": dict(sorted(kinds.items())), "bfcl_leaks": 0}
    write_json(Path(metrics), result)
    return result
