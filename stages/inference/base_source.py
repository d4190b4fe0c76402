"""Base checkpoints as transformers objects, and their conversion to a safetensors directory.

A base is `embedded:<name>` (a GGUF shipped in a package, see stages.inference.prompt.EMBEDDED), a local
directory with safetensors weights, or a Hugging Face hub id. Shared by the base_model stage and
the vLLM teacher, which converts an embedded base for its engine; it reads no params.
`trust_remote_code` is never set, and only safetensors weights are loaded.
"""

from __future__ import annotations

from pathlib import Path

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir
from stages.inference.prompt import check_safetensors_dir, embedded_gguf


def load_source(source: str) -> tuple[object, object]:
    """(model, tokenizer) for a base spec: `embedded:<name>`, a local directory, or a hub id."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if source.startswith("embedded:"):
        gguf = embedded_gguf(source.split(":", 1)[1])
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # A GGUF-loaded model refuses save_pretrained until its quantizer is cleared.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        return model, tok
    local = Path(source)
    if local.exists() or source.startswith((".", "/", "~")):
        check_safetensors_dir(local.expanduser())
        tok = AutoTokenizer.from_pretrained(local.expanduser())
        model = AutoModelForCausalLM.from_pretrained(local.expanduser(), dtype=torch.float32, use_safetensors=True)
        return model, tok

    def unavailable(exc: BaseException) -> SLMBenchError:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return SLMBenchError(
            f"base {source!r}: not a local directory, and the Hugging Face hub could not provide it "
            f"(offline or unknown id: {first}); use embedded:smollm2-135m-instruct or a local directory"
        )

    def hub(local_files_only: bool) -> tuple[object, object]:
        tok = AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, use_safetensors=True, local_files_only=local_files_only)
        return model, tok

    try:
        return hub(local_files_only=True)  # already in the Hugging Face cache: no network
    except OSError:
        pass
    from huggingface_hub import HfApi, constants

    if not constants.HF_HUB_OFFLINE:
        # One request first: downloads retry a dead connection for about 25 s per file before giving up.
        try:
            HfApi().model_info(source, timeout=15)
        except Exception as exc:  # connection errors and unknown or gated repos alike
            raise unavailable(exc) from None
    try:
        return hub(local_files_only=False)
    except OSError as exc:
        raise unavailable(exc) from None


def convert(source: str, out: Path) -> Path:
    """Write the base `source` to `out` as an fp32 safetensors checkpoint with its tokenizer (atomically)."""
    model, tok = load_source(source)
    out = Path(out)
    with atomic_dir(out) as staging:
        model.save_pretrained(staging, safe_serialization=True)  # type: ignore[attr-defined]
        tok.save_pretrained(staging)  # type: ignore[attr-defined]
    return out
