"""`slmbench funccall-mlm-quantize`: EdgeFuncCall's MLM to GGUF.

Merged safetensors -> GGUF f16 (llama.cpp's convert_hf_to_gguf.py) -> `funccall.mlm.qtype`
(Q8_0 by default) with `llama_model_quantize` (stages/train/gguf_convert.py, as the other tasks).
Gate (stages/core/gate.py, the rule every task's quantize stage shares): on `check_rows` test
rows drawn with `seed`, the GGUF (llama.cpp) and the merged model (transformers) both answer
greedily with free decoding: the gate judges the conversion, and the two runtimes' answer
grammars differ in the whitespace they allow, which a grammar-constrained comparison would
count against the file. The GGUF fails when it reproduces on average less than
`min_agreement` of each merged answer from its start (a floor a broken file cannot reach, far
below an honest Q8_0's near-tie flips), or when its AST accuracy is below the merged model's by
more than `max_drop` and a paired test (McNemar) calls the drop significant. A failed gate keeps
no GGUF. quantize.json reports the agreement and both accuracies with their n and 95%
intervals, the paired difference with its interval and p-value, and the file's size.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from stages.core.records import atomic_dir, write_json


def gate_gguf(label: str, merged: Path, gguf: Path, rows: list[dict[str, Any]], cfg: Any, samples: int, seed: int) -> dict[str, Any]:
    """Answer `rows` greedily with the merged model and the GGUF, free, and apply the quantize gate (stages/core/gate.py); returns the gate's figures (less `n`)."""
    from stages.core.gate import CheckRows, GateRule, check, figures, prefix_share
    from stages.inference.call_lm import CallLM
    from stages.inference.tool_calls import answer_schema
    from stages.tasks.funccall.metrics import row_score
    from stages.tasks.funccall.prompt import chat_messages

    chats = [chat_messages(r["request"], r["tools"]) for r in rows]
    schemas = [answer_schema(r["tools"], cfg.max_calls) for r in rows]
    kw = {"threads": cfg.threads, "n_ctx": cfg.n_ctx, "max_new_tokens": cfg.max_new_tokens}
    # Free decoding: the gate judges the conversion, and the two runtimes' grammars differ where the
    # answer's JSON may carry whitespace (llama.cpp's allows it, llguidance's compact one does not).
    ref = [a.text for a in CallLM(Path(merged), batch_size=cfg.batch_size, **kw).answer(chats, schemas, ["free"])["free"]]
    got = [b.text for b in CallLM(Path(gguf), parallel=cfg.parallel, **kw).answer(chats, schemas, ["free"])["free"]]
    rows_checked = CheckRows(
        label,
        [str(r["id"]) for r in rows],
        [row_score(r, t, False)["ast"] for r, t in zip(rows, ref, strict=True)],
        [row_score(r, t, False)["ast"] for r, t in zip(rows, got, strict=True)],
        [prefix_share(a, b) for a, b in zip(ref, got, strict=True)],
        ref,
        got,
    )
    fig = figures(rows_checked, samples, seed)
    check(rows_checked, GateRule(cfg.min_agreement, cfg.max_drop, "funccall.mlm"), fig)
    return {k: v for k, v in fig.items() if k != "n"}


def quantize_main(params_path: Path, merged: Path, test_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.core.stats import DIGITS
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
            result.update(gate_gguf(f"funccall-mlm-quantize: {gguf.name}", Path(merged), gguf, rows, cfg, p.funccall.bootstrap_samples, p.funccall.bootstrap_seed))
    write_json(Path(metrics), result)
    return result
