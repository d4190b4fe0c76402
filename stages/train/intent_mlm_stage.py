"""`slmbench intent-mlm-train`: EdgeIntent's MLM, one per dataset under `intent.datasets`, with the
settings of `intent.mlm` (stages/core/params.py: IntentMLMParams).

Train: SmolLM2-135M-Instruct (a key of `bases`) gets a LoRA adapter through the same loop as
EdgeJSON's model (stages/train/train.py), on chats built by the task (stages/tasks/intent/prompt.py):
the query in, the label out, loss on the label tokens and EOS only. With `train_rows` > 0 it
trains on about that many rows, the same number from each in-scope class (`train_rows` // classes),
drawn with `seed` from the rows sorted by id, so the same params pick the same rows, and on every
out-of-scope row (CLINC150's `oos` stands for everything outside 150 intents: a class's share of
it, 10 rows in the first run, left the model never answering `oos`); 0 takes every row. The merged model goes on to
stages/train/intent_mlm_quantize.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.records import write_json


def train_main(
    name: str, params_path: Path, train_file: Path, labels_file: Path, base_dir: Path, adapter: Path, merged: Path, metrics: Path, live_dir: Path
) -> dict[str, Any]:
    from stages.core import params as P
    from stages.tasks.intent.prompt import answer_text, chat_messages
    from stages.tasks.intent.rows import check_labels, draw, read_intent_jsonl, read_labels
    from stages.train.train import run

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.intent_mlm(p)
    rows = read_intent_jsonl(Path(train_file))
    labels = read_labels(Path(labels_file))
    check_labels(rows, labels, str(train_file))
    picked = draw(rows, cfg.train_rows, cfg.seed)
    chats = [(chat_messages(r["text"]), answer_text(r["label"])) for r in picked]
    result = run("mlm", cfg, Path(base_dir), chats, Path(adapter), Path(merged), Path(live_dir), key="intent")
    result = {**result, "train_rows": len(picked), "train_rows_available": len(rows), "classes": len({r["label"] for r in picked})}
    write_json(Path(metrics), result)
    return result
