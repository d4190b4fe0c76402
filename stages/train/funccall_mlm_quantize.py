"""`slmbench funccall-mlm-quantize`: EdgeFuncCall's MLM to GGUF.

Merged safetensors -> GGUF f16 (llama.cpp's convert_hf_to_gguf.py) -> `funccall.mlm.qtype`
(Q8_0 by default) with `llama_model_quantize` (stages/train/gguf_convert.py, as the other tasks).
Check: on `check_rows` test rows drawn with `seed`, the GGUF's constrained answers must equal the
merged model's (transformers + llguidance) exactly, text for text, on at least `min_agreement` of
them, else the stage fails and keeps no GGUF. quantize.json reports the agreement with its n and
95% interval, and the file's size.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir, write_json


def quantize_main(params_path: Path, merged: Path, test_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    import numpy as np

    from stages.core import params as P
    from stages.core.stats import DIGITS, bootstrap_intervals
    from stages.inference.call_lm import CallLM
    from stages.inference.tool_calls import answer_schema
    from stages.tasks.funccall.prompt import chat_messages
    from stages.tasks.funccall.rows import read_call_rows
    from stages.train.gguf_convert import gguf_name, quantize_file, to_f16

    p = P.load(params_path)
    cfg = P.funccall_mlm(p)
    test = sorted(read_call_rows(Path(test_file)), key=lambda r: str(r["id"]))
    rows = sorted(random.Random(cfg.seed).sample(test, min(cfg.check_rows, len(test))), key=lambda r: str(r["id"]))
    out_dir = Path(out_dir)
    result: dict[str, Any] = {}
    with atomic_dir(out_dir) as staging:
        gguf = staging / gguf_name(cfg.qtype)
        with tempfile.TemporaryDirectory(dir=staging.parent) as tmp:
            f16 = Path(tmp) / "model-f16.gguf"
            to_f16(Path(merged), f16)
            quantize_file(f16, gguf, cfg.qtype.upper(), cfg.threads)
        size = gguf.stat().st_size
        result = {"qtype_" + cfg.qtype.lower(): 1, "size_bytes": size, "size_mb": round(size / 1e6, DIGITS), "check_n": len(rows)}
        if rows:
            chats = [chat_messages(r["request"], r["tools"]) for r in rows]
            schemas = [answer_schema(r["tools"], cfg.max_calls) for r in rows]
            kw = {"threads": cfg.threads, "n_ctx": cfg.n_ctx, "max_new_tokens": cfg.max_new_tokens}
            ref = CallLM(Path(merged), batch_size=cfg.batch_size, **kw).answer(chats, schemas, ["constrained"])["constrained"]
            got = CallLM(gguf, parallel=cfg.parallel, **kw).answer(chats, schemas, ["constrained"])["constrained"]
            same = np.array([[float(a.text == b.text)] for a, b in zip(ref, got, strict=True)])
            agreement = float(same.mean())
            [ci] = bootstrap_intervals(same, p.funccall.bootstrap_samples, p.funccall.bootstrap_seed)
            result.update(agreement=round(agreement, DIGITS), agreement_ci95=list(ci))
            if agreement < cfg.min_agreement:
                first = next(i for i, (a, b) in enumerate(zip(ref, got, strict=True)) if a.text != b.text)
                raise SLMBenchError(
                    f"funccall-mlm-quantize: the {cfg.qtype} GGUF's constrained answers equal the merged model's on {agreement:.3f} of {len(rows)} test rows,"
                    f" below funccall.mlm.min_agreement {cfg.min_agreement}; first difference: row {rows[first]['id']} ({ref[first].text[:80]!r} vs {got[first].text[:80]!r})"
                )
    write_json(Path(metrics), result)
    return result
