"""`slmbench intent-mlm-quantize`: EdgeIntent's MLM to GGUF, one per dataset under `intent.datasets`.

Merged safetensors -> GGUF f16 (llama.cpp's convert_hf_to_gguf.py) -> `intent.mlm.qtype` (Q8_0 by
default) with `llama_model_quantize` (stages/train/gguf_convert.py, as EdgeJSON's quantize stage),
and `labels.json` beside it, so `slmbench evaluate --task intent --model .../model-q8_0.gguf` knows
the label set. Check: on `check_rows` test rows drawn with `seed`, the GGUF's constrained labels
must agree with the merged model's (transformers + llguidance) on at least `min_agreement` of
them, else the stage fails and keeps no GGUF. quantize.json reports the agreement with its n and
95% interval, and the file's size.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir, write_json

LABELS_FILE = "labels.json"


def quantize_main(name: str, params_path: Path, merged: Path, test_file: Path, labels_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    import numpy as np

    from stages.core import params as P
    from stages.core.stats import DIGITS, bootstrap_intervals
    from stages.inference.label_lm import LabelLM
    from stages.tasks.intent.prompt import chat_messages
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
            chats = [chat_messages(r["text"]) for r in rows]
            ref = LabelLM(Path(merged), labels, threads=cfg.threads, batch_size=cfg.batch_size).predict(chats)
            got = LabelLM(gguf, labels, threads=cfg.threads, parallel=cfg.parallel).predict(chats)
            same = np.array([[float(a == b)] for a, b in zip(ref, got, strict=True)])
            agreement = float(same.mean())
            [ci] = bootstrap_intervals(same, p.intent.bootstrap_samples, p.intent.bootstrap_seed)
            result.update(agreement=round(agreement, DIGITS), agreement_ci95=list(ci))
            if agreement < cfg.min_agreement:
                first = next(i for i, (a, b) in enumerate(zip(ref, got, strict=True)) if a != b)
                raise SLMBenchError(
                    f"intent-mlm-quantize {name}: the {cfg.qtype} GGUF agrees with the merged model on {agreement:.3f} of {len(rows)} test labels,"
                    f" below intent.mlm.min_agreement {cfg.min_agreement}; first difference: row {rows[first]['id']} ({ref[first]!r} vs {got[first]!r})"
                )
    write_json(Path(metrics), result)
    return result
