"""python benchmarks/bench_model.py [--model smollm2-135m-lora] [--steps 6] [--rows 8]

Side by side, in one run, on the same config and rows:
  * LoRA training tokens/s: transformers Trainer vs the train stage's plain loop (same batches, bf16 autocast);
  * generation tokens/s: GGUF Q8_0 in llama.cpp vs HF generate on the merged model, batched as in
    the evaluate stage and one request at a time (target >= 5x);
  * quality from the pipeline's metrics/<model>/eval.json: base vs tuned, free vs constrained.
Needs a finished `dvc repro` (models/base, models/<model>/merged and gguf).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def train_speeds(base: Path, rows: list, catalog: dict, cfg, steps: int) -> dict[str, float]:
    """Tokens/s of the transformers Trainer and of the stage's own loop (`stages.train.train_loop`)
    on the same examples, batch, precision, AdamW, lr schedule and gradient clipping (1.0).
    Both group the examples by length over the whole set (one megabatch), so they train on the same
    batches, in their own order. The first optimizer step of each (allocation, Trainer setup) is
    excluded, and the two alternate order over two rounds, so neither gains from running second."""
    import dataclasses

    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    from stages.train import TokenCounter, collator, encode, lora_config, train_loop

    torch.set_num_threads(cfg.threads)
    tok = AutoTokenizer.from_pretrained(base)
    examples, _ = encode(rows, catalog, tok, cfg.max_length)
    examples = examples[: steps * cfg.batch_size]
    run_cfg = dataclasses.replace(cfg, max_steps=steps, grad_accum=1)

    def fresh():
        torch.manual_seed(cfg.seed)
        m = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        return get_peft_model(m, lora_config(cfg))

    def counter() -> TokenCounter:
        return collator(tok)

    class Marks(TrainerCallback):
        def __init__(self, counter):
            self.counter, self.marks = counter, []

        def on_step_end(self, args, state, control, **kw):
            self.marks.append((time.perf_counter(), self.counter.tokens))

    def trainer_run() -> float:
        c = counter()
        marks = Marks(c)
        with tempfile.TemporaryDirectory() as tmp:
            args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.batch_size, max_steps=steps, learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler, warmup_steps=cfg.warmup_steps, bf16=cfg.precision == "bf16", use_cpu=True, report_to=[], save_strategy="no", disable_tqdm=True, seed=cfg.seed, logging_steps=10**6, train_sampling_strategy="group_by_length")
            Trainer(model=fresh(), args=args, train_dataset=examples, data_collator=c, callbacks=[marks]).train()
        (t0, k0), (t1, k1) = marks.marks[0], marks.marks[-1]
        return (k1 - k0) / (t1 - t0)

    def loop_run() -> float:
        c, marks = counter(), []
        train_loop(fresh(), examples, run_cfg, c, on_step=lambda *_: marks.append((time.perf_counter(), c.tokens)), progress=False)
        (t0, k0), (t1, k1) = marks[0], marks[-1]
        return (k1 - k0) / (t1 - t0)

    runs = {"trainer": [], "loop": []}
    for order in (("trainer", "loop"), ("loop", "trainer")):
        for name in order:
            runs[name].append(trainer_run() if name == "trainer" else loop_run())
    return {"trainer_tok_s": sum(runs["trainer"]) / 2, "plain_loop_tok_s": sum(runs["loop"]) / 2}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rows", type=int, default=8)
    a = ap.parse_args()

    from stages import params as P
    from stages.catalog import load_catalog
    from stages.evaluate import evaluate_model, select_rows
    from stages.records import read_rows

    p = P.load(Path("params.yaml"))
    cfg = p.models[a.model]
    catalog = load_catalog(Path(p.schemas_dir))
    ds = p.release.dataset
    base, merged, gguf = Path(f"models/base/{cfg.base}"), Path(f"models/{a.model}/merged"), Path(f"models/{a.model}/gguf/model-q8_0.gguf")

    tr = train_speeds(base, read_rows(Path(f"data/{ds}/train.jsonl")), catalog, cfg, a.steps)
    rows = select_rows(read_rows(Path(f"data/{ds}/test.jsonl")), 1)[: a.rows]
    hf, _ = evaluate_model(merged, rows, catalog, False, p.evaluate.max_new_tokens, cfg.threads, p.evaluate.n_ctx, p.evaluate.hf_batch_size, False)
    hf1, _ = evaluate_model(merged, rows, catalog, False, p.evaluate.max_new_tokens, cfg.threads, p.evaluate.n_ctx, 1, False)
    gg, _ = evaluate_model(gguf, rows, catalog, False, p.evaluate.max_new_tokens, cfg.threads, p.evaluate.n_ctx, p.evaluate.hf_batch_size, False)

    print(f"training ({cfg.precision}, batch {cfg.batch_size}, {a.steps} steps, same examples, first step excluded, mean of 2 alternating rounds)")
    print(f"  Trainer     {tr['trainer_tok_s']:8.1f} tok/s")
    print(f"  stage loop  {tr['plain_loop_tok_s']:8.1f} tok/s   ratio loop/Trainer {tr['plain_loop_tok_s'] / tr['trainer_tok_s']:.2f}")
    print(f"generation ({len(rows)} test rows, greedy, free)")
    print(f"  HF generate, batch {p.evaluate.hf_batch_size:<3d}  {hf['tokens_per_s']:8.1f} tok/s")
    print(f"  HF generate, batch 1    {hf1['tokens_per_s']:8.1f} tok/s   (one request at a time, as on a device)")
    print(f"  GGUF Q8_0 llama.cpp     {gg['tokens_per_s']:8.1f} tok/s   (one request at a time)")
    for name, ref in ((f"batch {p.evaluate.hf_batch_size}", hf), ("batch 1", hf1)):
        print(f"  ratio GGUF Q8_0 / HF {name}: {gg['tokens_per_s'] / max(ref['tokens_per_s'], 1e-9):.1f}x (target >= 5x)")
    ev_path = Path(f"metrics/{a.model}/eval.json")
    ev = json.loads(ev_path.read_text()) if ev_path.exists() else {}
    print(f"quality on the pipeline's test rows ({ev_path})")
    print(f"  {'variant/decoding':28s} json_exact field_f1 schema_valid")
    for v, d in ((v, d) for v in ("hf_base", "hf_tuned", "gguf_q8_0", "gguf_q4") for d in ("free", "constrained")):
        k = f"{v}.{d}"
        if f"{k}.json_exact" in ev:
            print(f"  {k:28s} {ev[k + '.json_exact']:10.3f} {ev[k + '.field_f1']:8.3f} {ev[k + '.schema_valid']:12.3f}")


if __name__ == "__main__":
    main()
