"""The quantize stage, for every pipeline task: the trained adapter merged into its base
(stages/train/merge.py, written as the stage's `merged` output) -> GGUF f16 (llama.cpp's
convert_hf_to_gguf.py) -> the task MLM's `qtype` with `llama_model_quantize`
(stages/inference/gguf_convert.py), and, for a label-set task, the label set beside it as labels.json
(so `slmbench evaluate --task T --model .../model-q8_0.gguf` knows it). Then the quantize gate every
task shares (stages/core/gate.py): on `check_rows` test rows, drawn with the MLM's `seed` (a seeded
sample, in id order), the merged model (transformers) and the GGUF (llama.cpp) both answer greedily
with the task's `GATE_DECODING` (a label set: constrained; EdgeFuncCall: free, because the two
runtimes' JSON grammars differ in the whitespace they allow, which a constrained comparison would
count against the file); each row's agreement is `AGREEMENT` ("exact": the same answer, 1 or 0;
"prefix": the share of the merged answer the GGUF reproduces from its start). The file fails when
its mean agreement is below `min_agreement` (a broken file), or when its primary metric
(`PRIMARY`, scored by `score_row`) is below the merged model's by more than `max_drop` and a
paired test (McNemar) calls the drop significant. A failed gate keeps no GGUF. quantize.json has the gate's figures in
the one metrics layout and the file's size.

A task whose conversion does not fit that one file provides its own `quantize` part (TASK_MODULE:
stages/tasks/<task>/quantize.py), on the same shared gate: EdgeJSON writes several GGUF types and its
base's Q8_0 (`--base`), and gates each type on per-schema check rows."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from stages.core.records import atomic_dir, write_json
from stages.pipeline.common import task_recipe
from stages.pipeline.runner import LABELS, answer, constraint_of

TASK_MODULE = "quantize"  # a task's own conversion: stages/tasks/<task>/quantize.py where it has one, else its pipeline.py
PARTS = ("PRIMARY", "GATE_DECODING", "AGREEMENT", "bootstrap", "read_rows", "resolve", "mlm", "mlm_key", "prompt", "constraint", "score_row")
AGREEMENTS = ("exact", "prefix")
LABELS_FILE = "labels.json"


def check_sample(rows: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """The gate's rows: `n` drawn with `seed` (all when fewer), in id order."""
    return sorted(random.Random(seed).sample(rows, min(n, len(rows))), key=lambda r: r["id"])


def gate_gguf(t: Any, name: str, label: str, merged: Path, gguf: Path, rows: list[dict[str, Any]], c: dict[str, Any], cfg: Any, samples: int, seed: int) -> dict[str, Any]:
    """Answer `rows` with the merged model and the GGUF under the task's gate decoding, and apply the
    quantize gate (stages/core/gate.py) on the task's primary metric; the gate's figures (less `n`)."""
    from stages.core.errors import SLMBenchError
    from stages.core.gate import CheckRows, GateRule, check, figures, prefix_share

    if t.AGREEMENT not in AGREEMENTS:
        raise SLMBenchError(f"stages/tasks/{t.NAME}: AGREEMENT is {t.AGREEMENT!r}; expected one of {', '.join(AGREEMENTS)}")
    agree = prefix_share if t.AGREEMENT == "prefix" else (lambda a, b: float(a == b))
    ref = answer(t, Path(merged), rows, c, cfg, t.GATE_DECODING)
    got = answer(t, Path(gguf), rows, c, cfg, t.GATE_DECODING)
    checked = CheckRows(
        label,
        [str(r["id"]) for r in rows],
        [float(t.score_row(r, a)[t.PRIMARY]) for r, a in zip(rows, ref, strict=True)],
        [float(t.score_row(r, b)[t.PRIMARY]) for r, b in zip(rows, got, strict=True)],
        [agree(a, b) for a, b in zip(ref, got, strict=True)],
        ref,
        got,
    )
    fig = figures(checked, samples, seed)
    check(checked, GateRule(cfg.min_agreement, cfg.max_drop, f"{t.mlm_key(name)}_scoring"), fig)  # the gate's bounds are in the scoring section
    return {k: v for k, v in fig.items() if k != "n"}


def main(
    task: str,
    name: str,
    params_path: Path,
    adapter: Path,
    base: Path,
    merged: Path,
    test_file: Path,
    out_dir: Path,
    metrics: Path,
    constraint: Path | None = None,
) -> dict[str, Any]:
    """quantize.json's figures, after the adapter is merged into `base` (written to `merged`) and the
    GGUF files are written to `out_dir` and gated. A task's own `quantize` gets `base` too, for
    converting it (EdgeJSON's gguf_base)."""
    from stages.core.errors import SLMBenchError
    from stages.core.stats import DIGITS
    from stages.inference.gguf_convert import gguf_name, quantize_file, to_f16
    from stages.train.merge import merge

    t, _, _ = task_recipe(task, name, params_path, (), TASK_MODULE)
    own = hasattr(t, "quantize")
    if own and constraint is not None:
        raise SLMBenchError(f"--constraint: the task {task!r} reads its decoding constraint from its rows; give no --constraint")
    merge(Path(base), Path(adapter), Path(merged))  # one line first when `adapter` or `base` is not a model folder
    if own:
        return dict(t.quantize(name, Path(params_path), Path(merged), Path(test_file), Path(out_dir), Path(metrics), Path(base)))
    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    cfg = t.mlm(p, name)
    samples, seed = t.bootstrap(p)
    c = constraint_of(t, recipe, constraint)
    rows = check_sample(t.resolve(t.read_rows(Path(test_file)), p, constraint), cfg.check_rows, cfg.seed)
    result: dict[str, Any] = {}
    with atomic_dir(Path(out_dir)) as staging:
        gguf = staging / gguf_name(cfg.qtype)
        with tempfile.TemporaryDirectory(dir=staging.parent) as tmp:
            f16 = Path(tmp) / "model-f16.gguf"
            to_f16(Path(merged), f16)
            quantize_file(f16, gguf, cfg.qtype.upper(), cfg.threads)
        if LABELS in c:
            (staging / LABELS_FILE).write_text(json.dumps(c[LABELS], indent=1) + "\n", encoding="utf-8")
        size = gguf.stat().st_size
        result = {"qtype_" + cfg.qtype.lower(): 1, "size_bytes": size, "size_mb": round(size / 1e6, DIGITS), "check_n": len(rows)}
        if rows:
            result.update(gate_gguf(t, name, f"{task}-quantize {name}: {gguf.name}", Path(merged), gguf, rows, c, cfg, samples, seed))
    write_json(Path(metrics), result)
    return result
