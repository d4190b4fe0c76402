"""python benchmarks/bench_train.py [--model smollm2-135m-lora] [--micro-batches 8] [--rounds 2] [--gemm-tokens 2048] [--levers ...]

How close LoRA training comes to the machine's peak, and what the training setups cost, side by
side in one run on the same micro-batches of the release train split (the train stage's own
length-grouped batches, `stages.train.train.micro_batches`):

  * **GEMM rates.** bf16 and fp32 matrix products of the model's own shapes (tokens x hidden
    times each projection: q/k/v/o, gate/up, down, the tied LM head), `--gemm-tokens` rows,
    timed after a warm-up. The model-shape rate of a dtype is total FLOPs over total seconds
    across the shapes, each shape weighted by how often the model runs it per token.
  * **Training steps.** Seconds per micro-batch (forward, backward and an AdamW step) of the
    train stage's LoRA setup under each precision (bf16 autocast only where the CPU has native
    bf16, as `precision: auto` chooses) and each LoRA dropout, 0.05 (the earlier default) and
    0 (today's), with transformers' loss over every position; then today's dropout with the
    stage's loss, whose LM head and log-softmax run on the answer positions only
    (`stages.train.train.answer_loss_module`, the `_answer_only_logits` setups). Each starts from the same LoRA initialisation and runs the same micro-batches;
    the setups alternate over `--rounds` rounds so none gains from running first or last, and
    the first micro-batch of each (allocation) is not timed. A profile of the longest
    micro-batch per setup gives the share of time spent drawing dropout masks.
  * **Levers** (`--levers`). Each is the stage's setup with one change, timed the same way:
    the frozen base in bf16 (cast once, so autocast has no weight casts to make; LoRA weights
    and AdamW state stay fp32), attention through matrix products (SDPA's math backend) instead
    of the CPU flash kernel, and `torch.compile` of the loss module (opt-in: its compilation is
    the first micro-batch's time, `first_micro_batch_seconds`, which a short run pays in full).
    `speedup_over_stage_setup` is each lever's ratio to the stage's setup in the same run.
    Two levers cut the FLOPs of a token rather than their rate: `top_layers_N`, LoRA on the top N
    of the model's layers only (the same modules and rank), so the backward pass stops at the
    lowest adapted layer; and `cached_top_N`, the same adapters with the frozen lower layers'
    output computed once per example (no gradient) and reused by every later epoch, so an epoch
    after the first runs only the top N layers, forward and backward. Its timed step is such a
    later epoch's; the one-off pass that fills the cache is timed apart (`cache_seconds`), and
    `epochs_to_amortize` is E in `tokens_per_s_over_epochs` (the cache pass shared by E epochs).
    `cached_loss_max_abs_diff` checks the split forward against the whole model's on the first
    micro-batch. These change what is trained, so equal quality is a task's test figures after
    the same examples, not the loss here; `loss_first_micro_batch` is recorded for each setup.

FLOPs per real (non-padding) token of one training step, stated so the ratio can be checked:
    4 x P (P: the model's parameters, 134.5M for SmolLM2-135M; forward 2 x P and the backward
    pass's activation gradients 2 x P; the frozen base needs no weight gradients, the LoRA
    weights' are under 4% and not counted)
  + 6 x n_layers x d_model x T (causal attention scores and values, forward 2 and backward 4,
    T the mean length of the token's micro-batch).
Padding tokens are computed but not counted, so the achieved rate is a lower bound.

`achieved_over_bf16_gemm` is the achieved GFLOP/s of the stage's setup (today's params) over the
bf16 model-shape GEMM rate measured in the same run. Writes benchmarks/results/bench_train.json
(--out) with the command, date, git commit and CPU. Needs models/base/<base> and
data/<release>/train.jsonl from `dvc repro`. Compare ratios, not absolute figures, across runs
or machines.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def gemm_rates(cfg: Any, tokens: int, repeats: int = 5, dtypes: tuple[str, ...] = ("bfloat16", "float32")) -> dict[str, Any]:
    """GFLOP/s of bf16 and fp32 products of the model's shapes: (tokens x in) @ (in x out)."""
    import torch

    d, ff, kv, vocab, layers = (
        cfg.hidden_size,
        cfg.intermediate_size,
        cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads),
        cfg.vocab_size,
        cfg.num_hidden_layers,
    )
    # (name, in, out, times per token): per layer q and o (d x d), k and v (d x kv), gate and up (d x ff), down (ff x d); the LM head once
    shapes = [("q_o", d, d, 2 * layers), ("k_v", d, kv, 2 * layers), ("gate_up", d, ff, 2 * layers), ("down", ff, d, layers), ("lm_head", d, vocab, 1)]
    out: dict[str, Any] = {"tokens": tokens, "repeats": repeats}
    for dtype in (getattr(torch, d) for d in dtypes):
        name = str(dtype).removeprefix("torch.")
        total_flops = total_s = 0.0
        per: dict[str, float] = {}
        for shape, n_in, n_out, times in shapes:
            a, b = torch.randn(tokens, n_in, dtype=dtype), torch.randn(n_in, n_out, dtype=dtype)
            a @ b  # warm-up: oneDNN picks and caches its kernel
            t0 = time.perf_counter()
            for _ in range(repeats):
                a @ b
            s = (time.perf_counter() - t0) / repeats
            flops = 2.0 * tokens * n_in * n_out
            per[shape] = round(flops / s / 1e9, 1)
            total_flops += flops * times
            total_s += s * times
        out[name] = {"model_shape_gflop_s": round(total_flops / total_s / 1e9, 1), "by_shape_gflop_s": per}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument("--micro-batches", type=int, default=8, help="timed micro-batches per setup and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--gemm-tokens", type=int, default=2048, help="rows of the GEMM operands (about one micro-batch's tokens)")
    ap.add_argument("--stage-only", action="store_true", help="time only the stage's setup in each precision and the levers, not the earlier setups")
    ap.add_argument(
        "--precisions",
        choices=["auto", "fp32"],
        default="auto",
        help="auto: bf16 and fp32 where the CPU has native bf16; fp32: as on a CPU without it (with ONEDNN_MAX_CPU_ISA=AVX2 "
        "and ATEN_CPU_CAPABILITY=avx2, an AVX2-only machine's kernels on this one)",
    )
    ap.add_argument(
        "--levers",
        default="bf16_weights,math_sdpa",
        help="changes to the stage's setup, each timed as a setup of its own: bf16_weights (the frozen base cast to bf16 once, LoRA "
        "weights and optimizer state in fp32), math_sdpa (attention through matrix products instead of the CPU flash kernel), "
        "compile (torch.compile of the loss module; its compile time is the first micro-batch's), comma-separated; '' for none",
    )
    ap.add_argument("--epochs", type=int, default=3, help="epochs over which the cached_top_N lever's cache pass is amortized")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_train.json")
    a = ap.parse_args()
    os.chdir(ROOT)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

    import torch
    from bench_model import provenance
    from edgejson_examples import encode
    from peft import get_peft_model
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.profiler import ProfilerActivity, profile
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from stages.core import params as P
    from stages.core.catalog import load_catalog, with_generated
    from stages.core.records import read_rows, write_json
    from stages.train.train import answer_loss_module, choose_precision, collator, cpu_capability, cpu_has_native_bf16, lora_config, micro_batches

    p = P.load(Path("params.yaml"))
    cfg = p.models[a.model]
    torch.set_num_threads(cfg.threads)
    base = Path(f"models/base/{cfg.base}")
    mcfg = AutoConfig.from_pretrained(base)
    tok = AutoTokenizer.from_pretrained(base)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    data = Path(f"data/{p.release.dataset}")
    catalog = with_generated(load_catalog(Path(p.schemas_dir)), data / "generated_schemas.json")  # train rows of generated schemas too
    examples, _ = encode(read_rows(data / "train.jsonl"), catalog, tok, cfg.max_length)
    collate = collator(tok)
    batches = [collate(b) for b in micro_batches(examples, cfg, a.micro_batches + 1)]
    native = cpu_has_native_bf16() and a.precisions != "fp32"
    stage_precision, _ = choose_precision(cfg.precision, cpu_capability(), native, "cpu", f"models.{a.model}.precision")
    precisions = ["bf16", "fp32"] if native else ["fp32"]
    # (precision, dropout, loss): transformers' loss over every position, as before, and the stage's
    # answer-only loss (`stages.train.train.answer_loss_module`)
    # (precision, dropout, loss, lever): the levers change the stage's own setup one at a time
    levers = [x for x in a.levers.split(",") if x]

    def top_of(lever: str) -> int:
        """N of a top_layers_N or cached_top_N lever (0 for the others)."""
        for prefix in ("top_layers_", "cached_top_"):
            if lever.startswith(prefix) and lever[len(prefix) :].isdigit() and 0 < int(lever[len(prefix) :]) <= mcfg.num_hidden_layers:
                return int(lever[len(prefix) :])
        return 0

    unknown = sorted(x for x in set(levers) - {"bf16_weights", "math_sdpa", "compile"} if not top_of(x))
    if unknown:
        sys.exit(f"--levers: unknown {', '.join(unknown)}; expected bf16_weights, math_sdpa, compile, top_layers_N or cached_top_N (N of 1..{mcfg.num_hidden_layers})")
    setups = [] if a.stage_only else [(prec, drop, "all", "") for prec in precisions for drop in dict.fromkeys((0.05, 0.0, cfg.dropout))]
    setups += [(prec, cfg.dropout, "answer", "") for prec in precisions]
    setups += [(stage_precision, cfg.dropout, "answer", lever) for lever in levers]
    name = {s: f"{s[0]}_dropout_{s[1]}" + ("_answer_only_logits" if s[2] == "answer" else "") + (f"_{s[3]}" if s[3] else "") for s in setups}
    stage_setup = name[(stage_precision, cfg.dropout, "answer", "")]

    print("GEMM rates of the model's shapes ...", flush=True)
    gemm = gemm_rates(mcfg, a.gemm_tokens, dtypes=("bfloat16", "float32") if native else ("float32",))  # emulated bf16 GEMMs take minutes
    print("  " + ", ".join(f"{d} {g['model_shape_gflop_s']} GFLOP/s" for d, g in gemm.items() if isinstance(g, dict)), flush=True)

    def lower_output(model: Any, batch: Any, prec: str, n_top: int) -> Any:
        """The hidden states entering the top `n_top` layers (no gradient): what cached_top_N keeps per example."""
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
            core = model.get_base_model()
            layers, norm = core.model.layers, core.model.norm
            core.model.layers = torch.nn.ModuleList(list(layers)[: mcfg.num_hidden_layers - n_top])
            core.model.norm = torch.nn.Identity()  # the residual stream as the next layer gets it, not normed
            try:
                return core.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            finally:
                core.model.layers, core.model.norm = layers, norm

    def upper_loss(model: Any, hidden: Any, batch: Any, n_top: int) -> Any:
        """The stage's answer-only loss from `hidden` (the lower layers' cached output) through the top `n_top` layers."""
        import torch.nn.functional as F

        core = model.get_base_model()
        layers = core.model.layers
        core.model.layers = torch.nn.ModuleList(list(layers)[-n_top:])
        try:
            out = core.model(inputs_embeds=hidden, attention_mask=batch["attention_mask"]).last_hidden_state
        finally:
            core.model.layers = layers
        target = batch["labels"][:, 1:]
        keep = target != -100
        logits = core.lm_head(out[:, :-1][keep]).float()
        return F.cross_entropy(logits, target[keep], reduction="sum") / int(keep.sum())

    def step(model: Any, opt: Any, batch: Any, prec: str, loss_kind: str = "all", net: Any = None, lever: str = "", hidden: Any = None) -> float:
        attention = sdpa_kernel(SDPBackend.MATH) if lever == "math_sdpa" else contextlib.nullcontext()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"), attention:
            if hidden is not None:
                loss = upper_loss(model, hidden, batch, top_of(lever))
            elif loss_kind == "answer":
                loss = (net or answer_loss_module(model))(**batch, num_items_in_batch=int((batch["labels"][:, 1:] != -100).sum()))
            else:
                loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    def fresh(drop: float, lever: str = "") -> tuple[Any, Any, Any]:
        torch.manual_seed(cfg.seed)
        core = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16 if lever == "bf16_weights" else torch.float32)
        lc = lora_config(dataclasses.replace(cfg, dropout=drop))
        if top_of(lever):  # the top N layers only: peft's layers_to_transform
            lc.layers_to_transform = list(range(mcfg.num_hidden_layers - top_of(lever), mcfg.num_hidden_layers))
        m = get_peft_model(core, lc)
        for q in m.parameters():
            if q.requires_grad:
                q.data = q.data.float()  # LoRA weights (and so AdamW's state) in fp32 whatever the base's dtype
        m.train()
        net = torch.compile(answer_loss_module(m), dynamic=True) if lever == "compile" else None
        return m, torch.optim.AdamW([q for q in m.parameters() if q.requires_grad], lr=cfg.lr), net

    timed = batches[1:]
    seconds: dict[str, list[float]] = {name[s]: [] for s in setups}
    first: dict[str, list[float]] = {name[s]: [] for s in setups}
    first_loss: dict[str, float] = {}
    cache_seconds: dict[str, list[float]] = {}
    cache_check: dict[str, float] = {}
    for r in range(a.rounds):
        for s in setups if r % 2 == 0 else setups[::-1]:
            prec, drop, loss_kind, lever = s
            model, opt, net = fresh(drop, lever)
            cached: list[Any] = [None] * len(batches)
            if lever.startswith("cached_top_"):  # the one-off pass that fills the cache: timed apart
                t0 = time.perf_counter()
                cached = [lower_output(model, b, prec, top_of(lever)) for b in batches]
                cache_seconds.setdefault(name[s], []).append(time.perf_counter() - t0)
                if name[s] not in cache_check:  # the split forward equals the whole model's
                    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
                        b0 = batches[0]
                        whole = answer_loss_module(model)(**b0, num_items_in_batch=int((b0["labels"][:, 1:] != -100).sum()))
                        split = upper_loss(model, cached[0], b0, top_of(lever))
                    cache_check[name[s]] = abs(float(whole) - float(split))
            t0 = time.perf_counter()
            loss0 = step(model, opt, batches[0], prec, loss_kind, net, lever, cached[0])  # allocation (and compilation), not timed
            first[name[s]].append(time.perf_counter() - t0)
            first_loss.setdefault(name[s], round(loss0, 4))
            for b, h in zip(timed, cached[1:], strict=True):
                t0 = time.perf_counter()
                step(model, opt, b, prec, loss_kind, net, lever, h)
                seconds[name[s]].append(time.perf_counter() - t0)
            print(f"round {r}: {name[s]}: {sum(seconds[name[s]][-len(timed) :]):.1f} s (first micro-batch {first[name[s]][-1]:.1f} s)", flush=True)

    shares: dict[str, float] = {}
    longest = max(timed, key=lambda b: b["input_ids"].shape[1])
    for s in setups:
        if s[3]:  # the levers draw no masks (dropout as the stage's); compile would compile again
            continue
        model, opt, _ = fresh(s[1])
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step(model, opt, longest, s[0], s[2])
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        shares[name[s]] = round(sum(e.self_cpu_time_total for e in events if e.key == "aten::bernoulli_") / total, 3)

    n_params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).parameters())
    real = [int(b["attention_mask"].sum()) for b in timed]
    widths = [int(b["input_ids"].shape[1]) for b in timed]
    flops_per_round = sum(t * (4 * n_params + 6 * mcfg.num_hidden_layers * mcfg.hidden_size * w) for t, w in zip(real, widths, strict=True))
    tokens = sum(real) * a.rounds
    result: dict[str, Any] = {
        **provenance("bench_train.py"),
        "model": a.model,
        "threads": cfg.threads,
        "parameters": n_params,
        "flops_formula": "per real token: 4 x parameters + 6 x n_layers x d_model x micro-batch length",
        "micro_batches_timed": len(timed) * a.rounds,
        "real_tokens_timed": tokens,
        "padded_tokens_timed": sum(len(b["input_ids"]) * w for b, w in zip(timed, widths, strict=True)) * a.rounds,
        "batch_shapes": [list(b["input_ids"].shape) for b in timed],
        "gemm": gemm,
        "stage_setup": stage_setup,
        "note": "every timing is in this one run; compare ratios, not absolute figures, across runs or machines",
        "setups": {},
    }
    ref = f"{precisions[0]}_dropout_0.05"
    for name, s in seconds.items():
        gflops = flops_per_round * a.rounds / sum(s) / 1e9
        # the FLOPs formula is the whole model's: a setup that skips work (top_layers_N, cached_top_N) gets no achieved rate
        whole = not any(x in name for x in ("_top_layers_", "_cached_top_"))
        result["setups"][name] = {
            "seconds": round(sum(s), 2),
            "seconds_per_micro_batch": round(sum(s) / len(s), 3),
            "tokens_per_s": round(tokens / sum(s), 1),
            **({"achieved_gflop_s": round(gflops, 1)} if whole else {}),
            **({"achieved_over_bf16_gemm": round(gflops / gemm["bfloat16"]["model_shape_gflop_s"], 3)} if "bfloat16" in gemm and whole else {}),
            **({"achieved_over_fp32_gemm": round(gflops / gemm["float32"]["model_shape_gflop_s"], 3)} if whole else {}),
            **({"speedup_over_" + ref: round(sum(seconds[ref]) / sum(s), 3)} if ref in seconds else {}),
            "first_micro_batch_seconds": round(max(first[name]), 2),
            "loss_first_micro_batch": first_loss[name],
        }
        if name in cache_seconds:  # the cache pass covers all micro-batches, timed and not: count the timed ones' share
            per_round = sum(cache_seconds[name]) / len(cache_seconds[name]) * len(timed) / len(batches)
            epoch_s = sum(s) / a.rounds
            result["setups"][name].update(
                cache_seconds=round(per_round, 2),
                epochs_to_amortize=a.epochs,
                tokens_per_s_over_epochs=round(tokens / a.rounds * a.epochs / (per_round + a.epochs * epoch_s), 1),
                cached_loss_max_abs_diff=round(cache_check[name], 6),
            )
        if name in shares:
            result["setups"][name]["mask_draw_share_of_profiled_step"] = shares[name]
        if name != stage_setup and name.startswith(stage_setup):
            result["setups"][name]["speedup_over_stage_setup"] = round(sum(seconds[stage_setup]) / sum(s), 3)
    over = "achieved_over_bf16_gemm" if "bfloat16" in gemm else "achieved_over_fp32_gemm"
    result["stage_" + over] = result["setups"][stage_setup][over]
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(a.out, result)
    print(f"{stage_setup}: {result['setups'][stage_setup]['tokens_per_s']} tok/s, {result['stage_' + over]:.1%} ({over})")
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
