"""`slmbench quantize --model smollm2-135m-lora --merged models/<m>/merged --out models/<m>/gguf ...`.

merged safetensors -> GGUF f16 (llama.cpp's own convert_hf_to_gguf.py, fetched from the
llama-cpp-python sdist at setup time, never committed) -> Q8_0 and a 4-bit type through
`llama_cpp.llama_model_quantize`. No quantization math is written here.

The 4-bit default is Q4_0: every tensor is really 4-bit. Q4_K_M is not, for this model: its
576-wide tensors are not multiples of 256, so llama.cpp falls back to q5_0 for them.

In-stage check: on `check_rows` test rows each GGUF's greedy answer (first `check_tokens`
tokens, as text) is compared with the merged model's. The f16 file must reproduce every answer
exactly; each quantized file must reproduce, on average, at least `min_agreement` of each
answer from its start (they may branch at near-ties); otherwise the stage fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from stages.errors import SLMBenchError
from stages.params import QuantizeParams
from stages.records import atomic_dir

FTYPES = {"Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "Q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "Q4_1": "LLAMA_FTYPE_MOSTLY_Q4_1", "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M", "Q4_K_S": "LLAMA_FTYPE_MOSTLY_Q4_K_S"}


def converter() -> Path:
    """llama.cpp's HF -> GGUF converter, installed by the README's setup under the venv."""
    path = Path(os.environ.get("SLMBENCH_LLAMA_CPP", Path(sys.prefix) / "share" / "slmbench" / "llama.cpp")) / "convert_hf_to_gguf.py"
    if not path.is_file():
        raise SLMBenchError(f"{path}: llama.cpp's convert_hf_to_gguf.py is missing; run the README's setup (.ci/setup.sh)")
    return path


def to_f16(merged: Path, out: Path) -> None:
    proc = subprocess.run([sys.executable, str(converter()), str(merged), "--outfile", str(out), "--outtype", "f16"], capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SLMBenchError(f"{merged}: HF -> GGUF conversion failed: {last[:200]}")


def quantize_file(src: Path, dst: Path, qtype: str, threads: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[qtype])
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not dst.is_file():
        raise SLMBenchError(f"{src}: llama_model_quantize to {qtype} failed (code {rc})")


def greedy_check(merged: Path, ggufs: dict[str, Path], rows: list[dict[str, Any]], catalog: dict[str, Any], cfg: QuantizeParams) -> dict[str, float]:
    from stages.runtime import GGUFRunner, HFRunner, render_prompts

    hf = HFRunner(merged, cfg.threads)
    prompts = render_prompts(hf.tok, rows, catalog)
    ref = [g.text for g in hf.generate(prompts, cfg.check_tokens, batch_size=1)]
    del hf
    agreement: dict[str, float] = {}
    for name, path in ggufs.items():
        runner = GGUFRunner(path, cfg.threads, n_ctx=2048)
        got = [runner.generate_one(p, cfg.check_tokens).text for p in prompts]
        exact = sum(a.strip() == b.strip() for a, b in zip(ref, got)) / len(ref)
        prefix = sum(_prefix_share(a, b) for a, b in zip(ref, got)) / len(ref)
        agreement[f"exact_{name}"], agreement[f"prefix_{name}"] = round(exact, 4), round(prefix, 4)
        # f16 must reproduce every answer exactly. A quantized file may pick another branch at a
        # near-tie (seen here: key order after ~60 characters), so it must share at least
        # `min_agreement` of each answer's characters from the start, on average; a broken
        # conversion (wrong tokenizer, template or weights) shares almost nothing.
        ok = exact == 1.0 if name == "f16" else prefix >= cfg.min_agreement
        if not ok:
            i = next(k for k, (a, b) in enumerate(zip(ref, got)) if a.strip() != b.strip())
            need = "every answer exactly" if name == "f16" else f"a mean common prefix of {cfg.min_agreement:.0%}"
            raise SLMBenchError(
                f"{path}: greedy answers drift from the merged model's (exact {exact:.0%}, common prefix {prefix:.0%}; need {need}); "
                f"first difference on {rows[i]['id']}: {got[i][:60]!r} vs {ref[i][:60]!r}"
            )
    return agreement


def _prefix_share(ref: str, got: str) -> float:
    """Share of the reference answer's characters that the other answer reproduces from the start."""
    ref, got = ref.strip(), got.strip()
    if not ref:
        return float(not got)
    n = next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b), min(len(ref), len(got)))
    return n / len(ref)


def run(merged: Path, out_dir: Path, rows: list[dict[str, Any]], catalog: dict[str, Any], cfg: QuantizeParams) -> dict[str, Any]:
    qtype = cfg.q4_type.upper()
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as staging, tempfile.TemporaryDirectory(prefix="gguf-", dir=staging.parent) as tmp:
        f16 = Path(tmp) / "model-f16.gguf"
        to_f16(Path(merged), f16)
        files = {"q8_0": staging / "model-q8_0.gguf", "q4": staging / f"model-{qtype.lower()}.gguf"}
        quantize_file(f16, files["q8_0"], "Q8_0", cfg.threads)
        quantize_file(f16, files["q4"], qtype, cfg.threads)
        f16_mb = f16.stat().st_size / 1e6
        check = greedy_check(Path(merged), {"f16": f16, **files}, rows[: cfg.check_rows], catalog, cfg) if cfg.check_rows else {}
    return {
        "f16_size_mb": round(f16_mb, 2),
        "q8_0_size_mb": round((out_dir / files["q8_0"].name).stat().st_size / 1e6, 2),
        "q4_size_mb": round((out_dir / files["q4"].name).stat().st_size / 1e6, 2),
        "check_rows": min(cfg.check_rows, len(rows)),
        **{f"greedy_{k}": v for k, v in check.items()},
    }


def main(model: str, params_path: Path, merged: Path, test_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json
    from stages.models import check_safetensors_dir

    p = P.load(params_path)
    if model not in p.models:
        raise SLMBenchError(f"params.yaml: no model {model!r} under models")
    check_safetensors_dir(Path(merged))
    result = run(Path(merged), out_dir, read_rows(test_file), load_catalog(Path(p.schemas_dir)), p.quantize)
    write_json(metrics, result)
    return result
