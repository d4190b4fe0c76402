"""python benchmarks/bench_model.py [--model smollm2-135m-lora] [--rows 25] [--parallel 4,8,16] [--hf-batch 8,16,32] [--threads N] [--train-steps 6]

Side by side, in one run, on the same rows (a stratified sample of the release test split, one
row per schema first), each alternative timed in this process:
  * llama.cpp generation of a GGUF Q8_0 file, greedy, free and constrained: one request at a
    time (`GGUFRunner.generate_one`, llama-cpp-python's `create_completion`, as the evaluate
    stage ran before), against several sequences per decode step (`stages/inference/gguf_parallel.py`) at
    each --parallel, as the evaluate stage runs them now: a row's free and constrained decodings
    share its prompt and one sequence until their tokens part (timed also with a sequence per
    decoding from the first token on, `_unshared`, the decoder's way before), rows of a schema share their system prompt's KV cache, and the grammar
    judges the greedy token before the whole vocabulary. The answers that differ from
    one-at-a-time decoding are counted;
  * HF generate (fp32), greedy, left-padded batches at each --hf-batch, free and constrained,
    answers compared with the first batch size;
  * LoRA training tokens/s: transformers Trainer vs the train stage's plain loop (same batches),
    with --train-steps > 0.
Writes benchmarks/results/bench_model.json (--out) with the command, date, git commit and CPU,
wall and CPU seconds. Speeds compare only within one run. With --threads 1, CPU seconds are what
each alternative takes on an idle core, even on a busy machine (llama.cpp's threads spin at
their barriers, so on a busy machine two threads' timings mean little).
Paths default to a finished `dvc repro` (models/base, models/<model>/merged and gguf,
data/<release>/test.jsonl); without a GGUF, --hf is converted to Q8_0 in a temporary directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def train_speeds(base: Path, rows: list, catalog: dict, cfg: Any, steps: int) -> dict[str, float]:
    """Tokens/s of the transformers Trainer and of the stage's own loop (`stages.train.train.train_loop`)
    on the same examples, batch, precision, AdamW, lr schedule and gradient clipping (1.0).
    Both group the examples by length over the whole set (one megabatch), so they train on the same
    batches, in their own order. The first optimizer step of each (allocation, Trainer setup) is
    excluded, and the two alternate order over two rounds, so neither gains from running second."""

    import torch
    from edgejson_examples import encode
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    from stages.train.train import TokenCounter, collator, lora_config, train_loop

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
            args = TrainingArguments(
                output_dir=tmp, per_device_train_batch_size=cfg.batch_size, max_steps=steps, learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler,
                warmup_steps=cfg.warmup_steps, bf16=cfg.precision == "bf16", use_cpu=True, report_to=[], save_strategy="no", disable_tqdm=True, seed=cfg.seed,
                logging_steps=10**6, train_sampling_strategy="group_by_length",
            )  # fmt: skip
            Trainer(model=fresh(), args=args, train_dataset=examples, data_collator=c, callbacks=[marks]).train()
        (t0, k0), (t1, k1) = marks.marks[0], marks.marks[-1]
        return (k1 - k0) / (t1 - t0)

    def loop_run() -> float:
        c, marks = counter(), []
        train_loop(fresh(), examples, run_cfg, c, on_step=lambda *_: marks.append((time.perf_counter(), c.tokens)), progress=False)
        (t0, k0), (t1, k1) = marks[0], marks[-1]
        return (k1 - k0) / (t1 - t0)

    runs: dict[str, list[float]] = {"trainer": [], "loop": []}
    for order in (("trainer", "loop"), ("loop", "trainer")):
        for name in order:
            runs[name].append(trainer_run() if name == "trainer" else loop_run())
    t, lp = sum(runs["trainer"]) / 2, sum(runs["loop"]) / 2
    return {"steps": steps, "trainer_tok_s": round(t, 1), "plain_loop_tok_s": round(lp, 1), "ratio_loop_over_trainer": round(lp / t, 3)}


def _summary(gens: dict[tuple[int, int], Any], seconds: float, cpu: float, ref: dict[tuple[int, int], Any] | None) -> dict[str, Any]:
    """Wall and CPU seconds of one alternative. With one thread, CPU time is what the run would
    take on an idle core: it does not count time the process waited for a busy machine."""
    tokens = sum(g.tokens for g in gens.values())
    out: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "generated_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2),
        "answers": len(gens),
    }
    if ref is not None:
        differ = sorted(k for k in gens if gens[k].text.strip() != ref[k].text.strip())
        out["answers_differing_from_reference"] = len(differ)
        out["differing"] = [list(k) for k in differ]
    return out


def gguf_speeds(path: Path, prompts: list[str], schemas: list[dict], max_new: int, threads: int, n_ctx: int, parallels: list[int]) -> dict[str, Any]:
    """One request at a time (the reference), then the parallel decoder at each setting; both decodings."""
    from stages.inference.gguf import GGUFRunner

    runner = GGUFRunner(path, threads, n_ctx)
    runner.generate_one(prompts[0], 8, None)  # load and warm up
    res: dict[str, Any] = {"file": path.name, "size_mb": round(runner.size_mb, 1)}
    t0, c0 = time.perf_counter(), time.process_time()
    single = {(i, k): runner.generate_one(p, max_new, s if k else None) for i, (p, s) in enumerate(zip(prompts, schemas, strict=True)) for k in (0, 1)}
    res["one_at_a_time"] = _summary(single, time.perf_counter() - t0, time.process_time() - c0, None)
    for par in parallels:
        for share in (False, True):  # separate sequences per decoding, then one shared until the decodings part
            t0, c0 = time.perf_counter(), time.process_time()
            got = {(i, k): g for i, k, g in runner.generate_parallel(prompts, [[None, s] for s in schemas], max_new, par, share)}
            r = _summary(got, time.perf_counter() - t0, time.process_time() - c0, single)
            r["speedup_over_one_at_a_time"] = round(res["one_at_a_time"]["seconds"] / r["seconds"], 2)
            r["cpu_speedup_over_one_at_a_time"] = round(res["one_at_a_time"]["cpu_seconds"] / r["cpu_seconds"], 2)
            r["decode_seconds"], r["sampling_seconds"] = round(runner._decoder.decode_seconds, 2), round(runner._decoder.sample_seconds, 2)
            r["shared_tokens"], r["sequence_moves"] = runner._decoder.shared_tokens, runner._decoder.moves
            name = f"parallel_{par}" + ("" if share else "_unshared")
            if share:
                unshared = res[f"parallel_{par}_unshared"]
                r["speedup_over_unshared"] = round(unshared["seconds"] / r["seconds"], 2)
                r["answers_differing_from_unshared"] = sum(got[k].text.strip() != g for k, g in unshared.pop("_texts").items())
            res[name] = r
            if not share:
                r["_texts"] = {k: g.text.strip() for k, g in got.items()}
            print(
                f"  llama.cpp parallel {par}{'' if share else ' unshared'}: {r['seconds']} s, {r['speedup_over_one_at_a_time']}x, "
                f"{r['answers_differing_from_reference']} answers differ",
                flush=True,
            )
    return res


def hf_speeds(path: Path, prompts: list[str], schemas: list[dict], max_new: int, threads: int, batches: list[int]) -> dict[str, Any]:
    from stages.inference.hf import HFRunner
    from stages.tasks.edgejson.evaluation import length_order

    runner = HFRunner(path, threads)
    runner.generate(prompts[:1], 4, 1)  # load and warm up
    order = length_order(prompts)
    res: dict[str, Any] = {"dir": path.name}
    ref = None
    for bs in batches:
        t0, c0 = time.perf_counter(), time.process_time()
        got = {}
        for k in (0, 1):
            gens = runner.generate([prompts[i] for i in order], max_new, bs, [schemas[i] if k else None for i in order])
            got.update({(i, k): g for i, g in zip(order, gens, strict=True)})
        r = _summary(got, time.perf_counter() - t0, time.process_time() - c0, ref)
        if ref is None:
            ref, base, base_cpu = got, r["seconds"], r["cpu_seconds"]
        r["speedup_over_first"] = round(base / r["seconds"], 2)
        r["cpu_speedup_over_first"] = round(base_cpu / r["cpu_seconds"], 2)
        res[f"batch_{bs}"] = r
        print(f"  HF batch {bs}: {r['seconds']} s, {r['speedup_over_first']}x", flush=True)
    return res


def cpu_info() -> dict[str, Any]:
    import llama_cpp
    import torch

    flags = ""
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                flags = line.split(":", 1)[1].strip()
                break
    return {
        "model": flags or platform.processor(),
        "cores": os.cpu_count(),
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "llama_cpp": llama_cpp.llama_print_system_info().decode().strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def provenance(script: str) -> dict[str, Any]:
    """What every benchmark result file starts with: its command, date, git commit and CPU."""
    return {
        "command": f"python benchmarks/{script} " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None,
        "git_dirty": bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()),
        "cpu": cpu_info(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument(
        "--gguf", type=Path, help="GGUF file (default models/<model>/gguf/model-q8_0.gguf, or else --hf converted to Q8_0 in a temporary directory)"
    )
    ap.add_argument("--hf", type=Path, help="HF directory (default models/<model>/merged)")
    ap.add_argument("--base", type=Path, help="base checkpoint for the training comparison (default models/base/<base>)")
    ap.add_argument("--data", type=Path, help="test JSONL (default data/<release>/test.jsonl)")
    ap.add_argument("--rows", type=int, default=25, help="rows, a stratified sample (one per schema first)")
    ap.add_argument("--parallel", default="4,8,16", help="llama.cpp sequences per step to try, comma-separated")
    ap.add_argument("--hf-batch", default="8,16,32", help="HF batch sizes to try, comma-separated; the first is the reference")
    ap.add_argument("--threads", type=int, help="CPU threads for generation (default evaluate.threads); 1 keeps a busy machine's timings sane")
    ap.add_argument("--max-new-tokens", type=int, help="answer cap, tokens (default evaluate.max_new_tokens)")
    ap.add_argument("--train-steps", type=int, default=6, help="optimizer steps per training run (0: skip the training comparison)")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: gguf, hf, train")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_model.json")
    a = ap.parse_args()

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from stages.core import params as P
    from stages.core.catalog import load_catalog, with_generated
    from stages.core.records import read_rows, write_json
    from stages.inference.gguf import render_prompts_gguf
    from stages.inference.hf import render_prompts
    from stages.tasks.edgejson.evaluation import constraint_schema, select_rows

    p = P.load(Path("params.yaml"))
    cfg = p.models[a.model]
    ev = p.evaluate
    catalog = load_catalog(Path(p.schemas_dir))
    skip = set(filter(None, a.skip.split(",")))
    data = a.data or Path(f"data/{p.release.dataset}/test.jsonl")
    rows = select_rows(read_rows(data), 0, a.rows)
    threads, max_new = a.threads or ev.threads, a.max_new_tokens or ev.max_new_tokens
    result: dict[str, Any] = {
        **provenance("bench_model.py"),
        "threads": threads,
        "max_new_tokens": max_new,
        "rows": len(rows),
        "data": data.name,
        "note": "every timing is in this one run; compare ratios, not absolute figures, across runs or machines",
    }
    hf = a.hf or Path(f"models/{a.model}/merged")
    if "gguf" not in skip:
        gguf = a.gguf or Path(f"models/{a.model}/gguf/model-q8_0.gguf")
        with tempfile.TemporaryDirectory(prefix="bench-gguf-") as tmp:
            if a.gguf is None and not gguf.is_file():  # no pipeline GGUF: convert --hf as the quantize stage does
                from stages.tasks.edgejson.quantize import quantize_file, to_f16

                print(f"converting {hf} to GGUF Q8_0 in a temporary directory", flush=True)
                to_f16(hf, Path(tmp) / "model-f16.gguf")
                gguf = Path(tmp) / "model-q8_0.gguf"
                quantize_file(Path(tmp) / "model-f16.gguf", gguf, "Q8_0", threads)
                result["gguf_source"] = f"{hf.name} converted to Q8_0 (stages.tasks.edgejson.quantize.to_f16, quantize_file)"
            print(f"llama.cpp on {gguf.name}, {len(rows)} rows x 2 decodings", flush=True)
            prompts = render_prompts_gguf(gguf, rows, catalog)
            schemas = [constraint_schema("gguf", catalog[r["schema_id"]].schema, ev.enforce_formats) for r in rows]
            result["llama_cpp"] = gguf_speeds(gguf, prompts, schemas, max_new, threads, ev.n_ctx, [int(x) for x in a.parallel.split(",") if x])
    if "hf" not in skip:
        from transformers import AutoTokenizer

        print(f"HF generate on {hf}, {len(rows)} rows x 2 decodings", flush=True)
        prompts = render_prompts(AutoTokenizer.from_pretrained(hf), rows, catalog)
        schemas = [constraint_schema("hf", catalog[r["schema_id"]].schema, ev.enforce_formats) for r in rows]
        result["hf_fp32"] = hf_speeds(hf, prompts, schemas, max_new, threads, [int(x) for x in a.hf_batch.split(",") if x])
    if "train" not in skip and a.train_steps > 0:
        base = a.base or Path(f"models/base/{cfg.base}")
        from stages.train.train import choose_precision, cpu_capability, cpu_has_native_bf16

        # `precision: auto` resolved as the train stage resolves it, so both runs train in the stage's precision
        prec, _ = choose_precision(cfg.precision, cpu_capability(), cpu_has_native_bf16(), "cpu", f"models.{a.model}.precision")
        print(f"training on {base}, {a.train_steps} steps, {prec}", flush=True)
        train_rows = read_rows(Path(f"data/{p.release.dataset}/train.jsonl"))
        train_catalog = with_generated(catalog, Path(f"data/{p.release.dataset}/generated_schemas.json"))  # train rows of generated schemas too
        result["training"] = train_speeds(base, train_rows, train_catalog, dataclasses.replace(cfg, precision=prec), a.train_steps)
        result["training"]["precision"] = prec
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(a.out, result)
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
