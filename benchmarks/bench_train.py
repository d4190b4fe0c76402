"""python benchmarks/bench_train_step.py [--model smollm2-135m-lora] [--micro-batches 8] [--rounds 2]

Side by side, in one run, on the same micro-batches of the release train split (the train
stage's own length-grouped batches, `stages.train.micro_batches`), the seconds per micro-batch
(forward, backward and an AdamW step) of the train stage's LoRA setup under each of:

  * precision: bf16 autocast and fp32 (bf16 only where the CPU has native bf16, as `precision:
    auto` would choose; on an AVX2-only CPU bf16 is emulated and only fp32 runs);
  * LoRA dropout: 0.05 (the earlier default) and 0 (today's): with dropout, peft draws a mask for
    the input of every adapted projection (7 per layer) at every step.

Each alternative starts from the same LoRA initialisation and runs the same micro-batches; the
alternatives alternate over `--rounds` rounds so none gains from running first or last, and the
first micro-batch of each (allocation) is not timed. A profile of one micro-batch per
alternative gives the share of the time spent drawing dropout masks (`aten::bernoulli_`).

Writes benchmarks/results/bench_train_step.json (--out) with the command, date, git commit and
CPU. Needs models/base/<base> and data/<release>/train.jsonl from `dvc repro`. Compare ratios,
not absolute figures, across runs or machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument("--micro-batches", type=int, default=8, help="timed micro-batches per alternative and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_train_step.json")
    a = ap.parse_args()
    os.chdir(ROOT)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

    import torch
    from bench_model import cpu_info
    from peft import get_peft_model
    from torch.profiler import ProfilerActivity, profile
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json
    from stages.train import collator, cpu_has_native_bf16, encode, lora_config, micro_batches

    p = P.load(Path("params.yaml"))
    cfg = p.models[a.model]
    torch.set_num_threads(cfg.threads)
    base = Path(f"models/base/{cfg.base}")
    tok = AutoTokenizer.from_pretrained(base)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    examples, _ = encode(read_rows(Path(f"data/{p.release.dataset}/train.jsonl")), load_catalog(Path(p.schemas_dir)), tok, cfg.max_length)
    collate = collator(tok)
    batches = [collate(b) for b in micro_batches(examples, cfg, a.micro_batches + 1)]
    precisions = ["bf16", "fp32"] if cpu_has_native_bf16() else ["fp32"]
    alternatives = [(prec, drop) for prec in precisions for drop in (0.05, 0.0)]

    def step(model: Any, opt: Any, batch: Any, prec: str) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
            loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    def fresh(drop: float) -> tuple[Any, Any]:
        torch.manual_seed(cfg.seed)
        m = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), lora_config(dataclasses.replace(cfg, dropout=drop)))
        m.train()
        return m, torch.optim.AdamW([q for q in m.parameters() if q.requires_grad], lr=cfg.lr)

    seconds: dict[str, list[float]] = {f"{prec}_dropout_{drop}": [] for prec, drop in alternatives}
    for r in range(a.rounds):
        for prec, drop in alternatives if r % 2 == 0 else alternatives[::-1]:
            model, opt = fresh(drop)
            step(model, opt, batches[0], prec)  # allocation, not timed
            for b in batches[1:]:
                t0 = time.perf_counter()
                step(model, opt, b, prec)
                seconds[f"{prec}_dropout_{drop}"].append(time.perf_counter() - t0)
            print(f"round {r}: {prec} dropout {drop}: {sum(seconds[f'{prec}_dropout_{drop}'][-a.micro_batches :]):.1f} s", flush=True)

    shares: dict[str, float] = {}
    longest = max(batches[1:], key=lambda b: b["input_ids"].shape[1])
    for prec, drop in alternatives:
        model, opt = fresh(drop)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step(model, opt, longest, prec)
        total = sum(e.self_cpu_time_total for e in prof.key_averages())
        masks = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key == "aten::bernoulli_")
        shares[f"{prec}_dropout_{drop}"] = round(masks / total, 3)

    tokens = sum(int(b["attention_mask"].sum()) for b in batches[1:]) * a.rounds
    result: dict[str, Any] = {
        "command": "python benchmarks/bench_train_step.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None,
        "git_dirty": bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()),
        "cpu": cpu_info(),
        "model": a.model,
        "threads": cfg.threads,
        "micro_batches_timed": a.micro_batches * a.rounds,
        "batch_shapes": [list(b["input_ids"].shape) for b in batches[1:]],
        "note": "every timing is in this one run; compare ratios, not absolute figures, across runs or machines",
        "alternatives": {},
    }
    ref = f"{precisions[0]}_dropout_0.05"
    for name, s in seconds.items():
        result["alternatives"][name] = {
            "seconds": round(sum(s), 2),
            "seconds_per_micro_batch": round(sum(s) / len(s), 3),
            "tokens_per_s": round(tokens / sum(s), 1),
            "speedup_over_" + ref: round(sum(seconds[ref]) / sum(s), 3),
            "mask_draw_share_of_profiled_step": shares[name],
        }
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(a.out, result)
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
