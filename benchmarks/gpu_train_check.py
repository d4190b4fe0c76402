"""The train stage's loop (`stages.train.train.train_loop`) on a CUDA GPU, with the `full` recipe's batch.

The train stage picks `cuda` when torch sees a GPU; this runs the same encode -> LoRA -> loop on
the GPU and checks that it trains: the loss falls, two runs with the same seed give the same loss
curve, and it prints tokens/s and peak GPU memory. With `--base DIR` it trains that checkpoint;
with `--config DIR` it builds the model from DIR's config.json with random weights (same
architecture and speed, for a machine that has no copy of the weights).

    python benchmarks/gpu_train_check.py --config models/base/smollm2-135m-instruct --train data/v3/train.jsonl
    python benchmarks/gpu_train_check.py --base models/base/smollm2-135m-instruct --train data/v3/train.jsonl --steps 40

Exit code 0 when every check passes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from edgejson_examples import encode  # noqa: E402

from stages.core.params import ModelParams  # noqa: E402
from stages.core.records import read_rows  # noqa: E402
from stages.train.train import collator, lora_config, train_loop  # noqa: E402


def schema_entries(schemas_dir: Path) -> dict[str, SimpleNamespace]:
    """schema_id -> an object with `.schema`, all `encode` reads (no jsonschema needed here)."""
    return {p.stem: SimpleNamespace(schema=json.loads(p.read_text())) for p in sorted(schemas_dir.glob("*/*.json"))}


def main() -> int:
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--base", type=Path, help="checkpoint directory (safetensors, tokenizer)")
    src.add_argument("--config", type=Path, help="directory with config.json and the tokenizer: random weights")
    ap.add_argument("--train", type=Path, required=True)
    ap.add_argument("--model", default="smollm2-135m-lora", help="a key of `models` in params.yaml (LoRA settings)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8, help="the full recipe's batch")
    ap.add_argument("--grad-accum", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--device", default="cuda", help="cuda, or cpu to try the script itself with a few steps")
    args = ap.parse_args()

    import torch
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, set_seed

    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        print("gpu_train_check: torch sees no CUDA device", file=sys.stderr)
        return 2
    # params.yaml read directly: the full loader's checks import the data stack (jsonschema, GX)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    cfg = dataclasses.replace(ModelParams(**raw["models"][args.model]), max_steps=args.steps, batch_size=args.batch_size, grad_accum=args.grad_accum, lr=args.lr, warmup_steps=min(20, args.steps // 5))
    src = args.base or args.config
    tok = AutoTokenizer.from_pretrained(src)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    examples, dropped = encode(read_rows(args.train), schema_entries(ROOT / raw["schemas_dir"]), tok, cfg.max_length)
    device = torch.device("cuda:0" if cuda else "cpu")
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    print(f"device {name}, torch {torch.__version__}; {len(examples)} examples ({dropped} dropped); "
          f"{cfg.max_steps} steps of {cfg.batch_size} x {cfg.grad_accum}, {cfg.precision}, lr {cfg.lr}")

    def one_run() -> tuple[list[float], float, int, float]:
        set_seed(cfg.seed)
        if args.base:
            model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32, use_safetensors=True)
        else:
            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(args.config), dtype=torch.float32)
        model = get_peft_model(model.to(device), lora_config(cfg))
        counter = collator(tok)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
        start = time.perf_counter()
        losses = train_loop(model, examples, cfg, counter, progress=False)
        if cuda:
            torch.cuda.synchronize()
        wall = time.perf_counter() - start
        return losses, wall, counter.tokens, torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0

    runs = [one_run() for _ in range(2)]
    for i, (losses, wall, tokens, mem) in enumerate(runs, 1):
        print(f"run {i}: {len(losses)} steps, {tokens} tokens in {wall:.1f} s = {tokens / wall:.0f} tokens/s; "
              f"loss {losses[0]:.4f} -> {losses[-1]:.4f} (mean of last 5 {sum(losses[-5:]) / len(losses[-5:]):.4f})" + (f"; peak GPU memory {mem:.2f} GiB" if cuda else ""))
    a, b = runs[0][0], runs[1][0]
    worst = max(abs(x - y) for x, y in zip(a, b))
    checks = {
        "loss falls (mean of last 5 < first step)": sum(a[-5:]) / len(a[-5:]) < a[0],
        f"same seed, same loss curve (max step difference {worst:.2e} <= 1e-3)": worst <= 1e-3,
        "every loss finite": all(x == x and abs(x) != float("inf") for x in a + b),
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
