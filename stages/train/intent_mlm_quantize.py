"""`slmbench intent-mlm-quantize`: EdgeIntent's MLM to GGUF, one per dataset under `intent.datasets`.

Merged safetensors -> GGUF f16 (llama.cpp's convert_hf_to_gguf.py) -> `intent.mlm.qtype` (Q8_0 by
default) with `llama_model_quantize` (stages/train/gguf_convert.py, as EdgeJSON's quantize stage),
and `labels.json` beside it, so `slmbench evaluate --task intent --model .../model-q8_0.gguf` knows
the label set. Gate (stages/core/gate.py, the rule every task's quantize stage shares): on
`check_rows` test rows drawn with `seed`, the GGUF and the merged model (transformers +
llguidance) both label each query under the label-set grammar. The GGUF fails when its labels
agree with the merged model's on less than `min_agreement` of the rows (a floor a broken file
cannot reach, far below an honest Q8_0's near-tie flips), or when its accuracy is below the
merged model's by more than `max_drop` and a paired test (McNemar) calls the drop significant.
A failed gate keeps no GGUF. quantize.json reports the agreement and both accuracies with their
n and 95% intervals, the paired difference with its interval and p-value, and the file's size.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from stages.core.records import atomic_dir, write_json

LABELS_FILE = "labels.json"


def gate_gguf(label: str, merged: Path, gguf: Path, labels: list[str], rows: list[dict[str, Any]], cfg: Any, samples: int, seed: int) -> dict[str, Any]:
    """Label `rows` with the merged model and the GGUF, under the label-set grammar, and apply the
    quantize gate (stages/core/gate.py); returns the gate's figures (less `n`) for quantize.json."""
    from stages.core.gate import CheckRows, GateRule, check, figures
    from stages.inference.label_lm import LabelLM
    from stages.tasks.intent.prompt import chat_messages

    chats = [chat_messages(r["text"]) for r in rows]
    ref = LabelLM(Path(merged), labels, threads=cfg.threads, batch_size=cfg.batch_size).predict(chats)
    got = LabelLM(Path(gguf), labels, threads=cfg.threads, parallel=cfg.parallel).predict(chats)
    rows_checked = CheckRows(
        label,
        [r["id"] for r in rows],
        [float(a == r["label"]) for a, r in zip(ref, rows, strict=True)],
        [float(b == r["label"]) for b, r in zip(got, rows, strict=True)],
        [float(a == b) for a, b in zip(ref, got, strict=True)],
        ref,
        got,
    )
    fig = figures(rows_checked, samples, seed)
    check(rows_checked, GateRule(cfg.min_agreement, cfg.max_drop, "intent.mlm"), fig)
    return {k: v for k, v in fig.items() if k != "n"}


def quantize_main(name: str, params_path: Path, merged: Path, test_file: Path, labels_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.core.stats import DIGITS
    from stages.tasks.intent.rows import read_intent_jsonl, read_labels
    from stages.train.gguf_convert import gguf_name, quantize_file, to_f16

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.intent_mlm(p)
    labels = read_labels(Path(labels_file))
    test = read_intent_jsonl(Path(test_file))
    rows = sorted(random.Random(cfg.seed).sample(test, min(cfg.check_rows, len(test))), key=lambda r: r["id"])
    out_dir = Path(out_dir)
    result: dict[str, Any] = {}
    with atomic_dir(out_dir) as staging:
        gguf = staging / gguf_name(cfg.qtype)
        with tempfile.TemporaryDirectory(dir=staging.parent) as tmp:
            f16 = Path(tmp) / "model-f16.gguf"
            to_f16(Path(merged), f16)
            quantize_file(f16, gguf, cfg.qtype.upper(), cfg.threads)
        (staging / LABELS_FILE).write_text(json.dumps(sorted(labels), indent=1) + "\n", encoding="utf-8")
        size = gguf.stat().st_size
        result = {"qtype_" + cfg.qtype.lower(): 1, "size_bytes": size, "size_mb": round(size / 1e6, DIGITS), "check_n": len(rows)}
        if rows:
            result.update(gate_gguf(f"intent-mlm-quantize {name}: {gguf.name}", Path(merged), gguf, labels, rows, cfg, p.intent.bootstrap_samples, p.intent.bootstrap_seed))
    write_json(Path(metrics), result)
    return result
