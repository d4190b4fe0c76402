"""HF safetensors -> GGUF: llama.cpp's own convert_hf_to_gguf.py (fetched from the llama-cpp-python
sdist at setup time, never committed) to f16, then `llama_cpp.llama_model_quantize` to a type.
Shared by EdgeJSON's quantize stage (stages/tasks/edgejson/quantize.py), EdgeFuncCall's and the generic
quantize stage (stages/pipeline/quantize.py); no quantization math is written here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stages.core.errors import SLMBenchError

FTYPES = {t: f"LLAMA_FTYPE_MOSTLY_{t}" for t in ("Q8_0", "Q4_0", "Q4_1", "Q4_K_M", "Q4_K_S")}  # the llama_cpp constant of each type


def gguf_name(qtype: str) -> str:
    """The file name of one GGUF type in the output folder: model-q8_0.gguf, model-q4_k_m.gguf, ..."""
    return f"model-{qtype.lower()}.gguf"


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
