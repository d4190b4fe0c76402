"""python benchmarks/bench_train_memory.py [--model smollm2-135m-lora] [--attn sdpa eager]

Peak RSS of one LoRA forward and backward pass (bf16 autocast, as the train stage runs it) on the
longest micro-batch of the train split, once per attention implementation, each in a process of
its own so the peaks do not mix. Needs a finished `dvc repro` (models/base and the train split).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(model: str, attn: str) -> None:
    import resource
    import time

    import torch
    from edgejson_examples import encode
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from stages.core import params as P
    from stages.core.catalog import load_catalog, with_generated
    from stages.core.records import read_rows
    from stages.train.train import collator, lora_config

    p = P.load(ROOT / "params.yaml")
    cfg = p.models[model]
    base = ROOT / "models" / "base" / cfg.base
    torch.set_num_threads(cfg.threads)
    tok = AutoTokenizer.from_pretrained(base)
    data = ROOT / "data" / p.release.dataset
    catalog = with_generated(load_catalog(ROOT / p.schemas_dir), data / "generated_schemas.json")  # train rows of generated schemas too
    examples, _ = encode(read_rows(data / "train.jsonl"), catalog, tok, cfg.max_length)
    examples.sort(key=lambda e: -len(e["input_ids"]))
    batch = collator(tok)(examples[: cfg.batch_size])
    m = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32, use_safetensors=True, attn_implementation=attn)
    m = get_peft_model(m, lora_config(cfg))
    m.train()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
        loss = m(**batch).loss
    loss.backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shape = "x".join(map(str, batch["input_ids"].shape))
    print(f"  {attn:6s} batch {shape}: RSS {before:7.0f} MB loaded, {peak:7.0f} MB peak after forward+backward ({time.perf_counter() - start:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument("--attn", nargs="+", default=["sdpa", "eager"])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        sys.path.insert(0, str(ROOT))
        one(args.model, args.one)
        return
    print(f"LoRA train step memory, {args.model}, longest micro-batch of the train split")
    for attn in args.attn:
        subprocess.run([sys.executable, __file__, "--model", args.model, "--one", attn], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
