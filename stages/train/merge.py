"""A trained LoRA adapter merged into its base (peft's merge_and_unload, fp32): the merged
safetensors folder the quantize stage converts to GGUF and the evaluations load with transformers.

The train stage keeps the adapter only, the weights a release keeps in the DVC remote; this step
rebuilds the merged model from it in seconds, in the quantize stage. The tokenizer is the base's,
with its pad token set as the train stage sets it (EOS where the base has none)."""

from __future__ import annotations

from pathlib import Path

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir
from stages.inference.prompt import check_safetensors_dir, load_tokenizer

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def check_adapter_dir(adapter: Path) -> None:
    """One line when `adapter` is not a peft adapter folder saved as safetensors."""
    adapter = Path(adapter)
    if not adapter.is_dir():
        raise SLMBenchError(f"--adapter {adapter}: no such folder (the train stage's adapter output)")
    missing = [f for f in ADAPTER_FILES if not (adapter / f).is_file()]
    if missing:
        raise SLMBenchError(f"--adapter {adapter}: expected a LoRA adapter saved as safetensors; missing {', '.join(missing)}")


def merge(base_dir: Path, adapter: Path, out: Path) -> None:
    """Write base + adapter, merged, to `out` (atomically)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    check_safetensors_dir(Path(base_dir))
    check_adapter_dir(Path(adapter))
    tok = load_tokenizer(Path(base_dir))
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, use_safetensors=True)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    with atomic_dir(Path(out)) as staging:
        merged.save_pretrained(staging, safe_serialization=True)
        tok.save_pretrained(staging)
