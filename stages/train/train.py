"""The LoRA training loop (peft) every task's model trains through, called by the generic train
stage (stages/pipeline/train.py: EdgeJSON's, EdgeIntent's and EdgeFuncCall's MLMs, and any
pipeline task's).

Each example is a task's training chat: its prompt messages through the tokenizer's chat
template (EdgeJSON's: a system message with the compact schema skeleton, then the user's text),
then the answer and EOS. Loss is on the answer tokens only. A plain torch loop trains (`train_loop`): it does what the transformers Trainer does with
these settings (AdamW, scheduler with warmup, accumulation, clipping, bf16 autocast, batches
length-grouped and padded to their own longest example) and was 1.15-1.27x faster here
(benchmarks/bench_model.py). dvclive logs loss, learning rate and gradient norm per step.

`precision: auto` trains under bf16 autocast where the device has native bf16 and in fp32
elsewhere (`choose_precision`); an explicit bf16 or fp32 wins. train.json records the choice as
numbers (`bf16`, `native_bf16`, `precision_auto`), train_live/params.yaml in words
(`precision_reason`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import random
import resource
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import ModelParams
from stages.core.records import atomic_dir
from stages.inference.prompt import check_safetensors_dir, load_tokenizer

IGNORE = -100  # label id the loss skips


Chat = tuple[list[dict[str, str]], str]  # (the messages of a prompt, the answer the model learns)


def encode_chats(chats: list[Chat], tok: Any, max_length: int) -> tuple[list[dict[str, list[int]]], int]:
    """Token ids and labels per chat, any task's; prompt tokens are masked out of the loss. Returns (examples, dropped)."""
    examples, dropped = [], 0
    eos = tok.eos_token_id
    for messages, answer in chats:
        prompt_ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(prompt_ids, dict) or hasattr(prompt_ids, "input_ids"):
            prompt_ids = prompt_ids["input_ids"]
        answer_ids = tok(answer, add_special_tokens=False)["input_ids"] + [eos]
        ids = list(prompt_ids) + answer_ids
        if len(ids) > max_length:
            dropped += 1
            continue
        examples.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [IGNORE] * len(prompt_ids) + answer_ids})
    return examples, dropped


class TokenCounter:
    """Collator wrapper: pads each batch to its longest example and counts the real tokens."""

    def __init__(self, collate: Any):
        self.collate, self.tokens = collate, 0

    def __call__(self, features: list[dict[str, Any]]) -> Any:
        self.tokens += sum(len(f["input_ids"]) for f in features)
        return self.collate(features)


def lora_config(cfg: ModelParams, n_layers: int = 0) -> Any:
    """The peft LoRA config of a model's params (the stage's and the benchmarks'); with `top_layers`,
    adapters on the top `top_layers` of the base's `n_layers` decoder layers only."""
    from peft import LoraConfig

    config = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
    if cfg.top_layers:
        config.layers_to_transform = list(range(n_layers - cfg.top_layers, n_layers))
    return config


def collator(tok: Any) -> TokenCounter:
    """Pads each batch to its own longest example (labels with IGNORE) and counts real tokens."""
    from transformers import DataCollatorForSeq2Seq

    return TokenCounter(DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=IGNORE, return_tensors="pt"))


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """One epoch of micro-batches: a seeded shuffle, each run of 50 batches sorted by length so a
    batch pads little, then the batches shuffled so training sees no length curriculum.
    The same (seed, epoch) gives the same batches."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * 50
    out: list[list[int]] = []
    for i in range(0, len(order), mega):
        chunk = sorted(order[i : i + mega], key=lambda j: (-lengths[j], j))
        out += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def plan(n_examples: int, cfg: ModelParams, world: int = 1) -> tuple[int, int]:
    """(optimizer steps, micro-batches) of a run over `world` processes: `max_steps` when > 0, else
    `epochs` passes, rounded up to whole steps of `grad_accum` micro-batches per process."""
    per_step = cfg.grad_accum * world
    if cfg.max_steps > 0:
        return cfg.max_steps, cfg.max_steps * per_step
    steps = math.ceil(max(1, math.ceil(cfg.epochs * math.ceil(n_examples / cfg.batch_size))) / per_step)
    return steps, steps * per_step


def distributed() -> tuple[int, int]:
    """(rank, world size): joins the process group when launched by torchrun (WORLD_SIZE > 1)."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        # gloo connects on the interface of the hostname's address unless told otherwise; a CI run hung
        # at the first collective with that default. All processes on this host: loopback.
        if backend == "gloo" and os.environ.get("LOCAL_WORLD_SIZE") == str(world) and "lo" in {n for _, n in socket.if_nameindex()}:
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=10))
    return (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively: AVX512-BF16 or AMX on x86 (torch's cpuinfo flags),
    elsewhere oneDNN's own bf16 check (an Arm CPU with the BF16 extension). oneDNN's check alone
    says yes on any AVX512 CPU, where bf16 matmuls are emulated; hence the x86 flags first."""
    import torch

    cpu = torch.cpu
    if platform.machine().lower() in ("x86_64", "amd64") and hasattr(cpu, "_is_avx512_bf16_supported") and hasattr(cpu, "_is_amx_tile_supported"):
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_capability() -> str:
    """torch's name for the vector instructions its CPU kernels use (AVX512, AVX2, DEFAULT, ...); "" where torch reports none."""
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability() or "")
    except (AttributeError, RuntimeError):
        return ""


def choose_precision(explicit: str, capability: str, native_bf16: bool, device: str, key: str) -> tuple[str, str]:
    """(precision, reason) for `models.<m>.precision` = `explicit` ("auto", "bf16" or "fp32") on `device`
    ("cpu" or "cuda"). An explicit setting wins. `auto` takes bf16 where the device has native bf16
    (`native_bf16`: AVX512-BF16 or AMX on a CPU, `torch.cuda.is_bf16_supported()` on a GPU), fp32
    elsewhere, where bf16 autocast is emulated and tens of times slower than fp32. On a CPU,
    `capability` is torch's report of it; `auto` refuses to guess when that is empty. `key` names
    the setting in errors."""
    if explicit in ("bf16", "fp32"):
        return explicit, f"{key} is {explicit}"
    if explicit != "auto":
        raise SLMBenchError(f"params.yaml: {key}: expected auto, bf16 or fp32, got {explicit!r}")
    if device == "cuda":
        return ("bf16", "auto: the GPU supports bf16") if native_bf16 else ("fp32", "auto: the GPU does not support bf16")
    if not capability:
        raise SLMBenchError(f"params.yaml: {key}: auto needs the CPU's capability, and torch.backends.cpu.get_cpu_capability() reports none; set bf16 or fp32")
    if native_bf16:
        return "bf16", f"auto: the CPU ({capability}) has native bf16 (AVX512-BF16 or AMX)"
    return "fp32", f"auto: the CPU ({capability}) has no native bf16 (no AVX512-BF16 or AMX), so bf16 autocast would be emulated"


# transformers schedules the loop can drive: each needs only warmup and total steps
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt")


def check_scheduler(name: str, key: str) -> None:
    """One line for a `scheduler` transformers does not know, or one that needs more than warmup
    and total steps (a metric, a minimum lr), listing the ones that work."""
    from transformers import SchedulerType

    known = [s.value for s in SchedulerType]
    if name not in known:
        raise SLMBenchError(
            f"params.yaml: {key}: unknown learning-rate schedule {name!r}; transformers knows {', '.join(known)}; this loop runs {', '.join(SCHEDULERS)}"
        )
    if name not in SCHEDULERS:
        raise SLMBenchError(f"params.yaml: {key}: the schedule {name!r} needs settings beyond warmup and total steps; expected one of {', '.join(SCHEDULERS)}")


def micro_batch_indices(lengths: list[int], cfg: ModelParams, count: int) -> Iterator[list[int]]:
    """The example indices of `count` micro-batches, epoch after epoch, each epoch length-grouped with its own seed."""
    epoch = 0
    while True:
        for batch in length_grouped_batches(lengths, cfg.batch_size, cfg.seed, epoch):
            if count <= 0:
                return
            count -= 1
            yield batch
        epoch += 1


def micro_batches(examples: list[dict[str, Any]], cfg: ModelParams, count: int) -> Iterator[list[dict[str, Any]]]:
    """`count` micro-batches of `examples` (`micro_batch_indices`)."""
    for batch in micro_batch_indices([len(e["input_ids"]) for e in examples], cfg, count):
        yield [examples[i] for i in batch]


@contextlib.contextmanager
def decoder_layers(core: Any, part: slice, norm: bool = True) -> Iterator[None]:
    """Run `core.model` (a transformers decoder) through `part` of its layers only, and without its
    final norm when `norm` is False: the residual stream as the next layer would get it."""
    import torch

    layers, final = core.model.layers, core.model.norm
    core.model.layers = torch.nn.ModuleList(list(layers)[part])
    if not norm:
        core.model.norm = torch.nn.Identity()
    try:
        yield
    finally:
        core.model.layers, core.model.norm = layers, final


class LowerCache:
    """`cache_lower`: each example's output of the frozen lower layers (no LoRA below the top
    `top_layers`), kept from the first micro-batch that holds it and reused whenever it comes back,
    so every epoch after the first runs the top layers only. Padding is on the right, so a real
    token's hidden state does not depend on its batch's width; positions are the same."""

    def __init__(self, core: Any, n_lower: int):
        self.core, self.n_lower, self.kept = core, n_lower, {}

    def hidden(self, idx: list[int], batch: dict[str, Any], autocast: Any) -> Any:
        """The lower layers' output of `batch` (examples `idx`): from the kept states when every
        example has one, else computed (no gradient) and kept for the examples that had none."""
        import torch

        mask = batch["attention_mask"].bool()
        if all(i in self.kept for i in idx):
            out = torch.zeros((*mask.shape, self.kept[idx[0]].shape[-1]), dtype=self.kept[idx[0]].dtype, device=mask.device)
            out[mask] = torch.cat([self.kept[i] for i in idx])
            return out
        with torch.no_grad(), autocast, decoder_layers(self.core, slice(0, self.n_lower), norm=False):
            out = self.core.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).last_hidden_state
        for j, i in enumerate(idx):
            self.kept.setdefault(i, out[j][mask[j]].clone())
        return out


def answer_loss_module(model: Any) -> Any:
    """`model` (a peft causal LM) wrapped so that its forward returns the step's loss: the sum of
    the answer tokens' cross-entropy over `num_items_in_batch`, the loss transformers computes
    (its ForCausalLMLoss, in fp32). The LM head and the log-softmax run on the answer positions
    only, not on every position of the batch: prompt tokens carry no loss, and the full
    [batch x length x 49,152] logits, their fp32 copy and their log-softmax were the largest
    memory-bound work of a step (benchmarks/bench_train.py measures both ways)."""
    import torch
    import torch.nn.functional as F

    class AnswerLoss(torch.nn.Module):
        def __init__(self, lm: Any):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids: Any, attention_mask: Any, labels: Any, num_items_in_batch: Any, lower: Any = None) -> Any:
            """`lower`: the output of the model's first `n_lower` layers (LowerCache), which then run no more."""
            core = self.lm.get_base_model()  # the transformers model, with the LoRA layers in it
            if lower is None:
                hidden = core.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            else:
                with decoder_layers(core, slice(lower[0], None)):
                    hidden = core.model(inputs_embeds=lower[1], attention_mask=attention_mask, use_cache=False).last_hidden_state
            target = labels[:, 1:]
            keep = target != IGNORE
            logits = core.lm_head(hidden[:, :-1][keep]).float()
            return F.cross_entropy(logits, target[keep], reduction="sum") / num_items_in_batch

    return AnswerLoss(model)


def train_loop(
    model: Any,
    examples: list[dict[str, Any]],
    cfg: ModelParams,
    collate: Any,
    on_step: Any = None,
    progress: bool = True,
    resume: dict[str, Any] | None = None,
    on_checkpoint: Any = None,
) -> list[float]:
    """LoRA training of `model` (a peft causal LM): AdamW, the `cfg.scheduler` schedule with warmup,
    gradient accumulation, clipping at 1.0 and bf16 autocast, as the transformers Trainer does it.
    The loss of each optimizer step is the mean over the answer tokens of all its micro-batches (the
    Trainer's `num_items_in_batch`), computed on the answer positions only (`answer_loss_module`).
    Under torchrun the loss module is wrapped in DistributedDataParallel: every process builds the
    same micro-batches and takes every world-th one, so a step covers `grad_accum x world`
    micro-batches. Calls `on_step(step, loss, lr, grad_norm)` after each step; returns the per-step losses.

    `resume` (a checkpoint's `load_checkpoint`) restarts at its step: the optimizer, scheduler and
    RNG states and the trainable weights are already restored, and the micro-batches it consumed
    are skipped, so the run goes on as the uninterrupted one would. Every `cfg.checkpoint_steps`
    optimizer steps (and not after the last), `on_checkpoint(step, opt, sched)` saves one."""
    import torch
    import torch.distributed as dist
    from tqdm.auto import tqdm
    from transformers import get_scheduler

    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)
    steps, n_micro = plan(len(examples), cfg, world)
    device = next(model.parameters()).device
    net = answer_loss_module(model)
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    sched = get_scheduler(cfg.scheduler, opt, num_warmup_steps=cfg.warmup_steps, num_training_steps=steps)
    batches = micro_batch_indices([len(e["input_ids"]) for e in examples], cfg, n_micro)
    core = model.get_base_model()
    cache = LowerCache(core, core.config.num_hidden_layers - cfg.top_layers) if cfg.cache_lower else None

    def autocast() -> Any:
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")

    def lower(idx: list[int], batch: dict[str, Any]) -> dict[str, Any]:
        return {} if cache is None else {"lower": (cache.n_lower, cache.hidden(idx, batch, autocast()))}

    start = 0
    if resume is not None:
        start = int(resume["step"])
        opt.load_state_dict(resume["optimizer"])
        sched.load_state_dict(resume["scheduler"])
        for _ in range(start * cfg.grad_accum * world):  # the micro-batches the checkpointed steps consumed
            idx = next(batches)
            if cache is not None:  # kept again as the uninterrupted run kept them: from the same micro-batches
                cache.hidden(idx, {k: v.to(device) for k, v in getattr(collate, "collate", collate)([examples[i] for i in idx]).items()}, autocast())
        torch.set_rng_state(resume["rng"])
    losses: list[float] = []
    model.train()
    bar = tqdm(range(start, steps), desc="train", unit="step", disable=not progress or rank != 0, initial=start, total=steps)
    for step in bar:
        window = [b for _, b in zip(range(cfg.grad_accum * world), batches, strict=False)]
        items = sum(sum(1 for lab in examples[j]["labels"][1:] if lab != IGNORE) for b in window for j in b)
        mine = window[rank::world]
        total = torch.zeros((), device=device)
        for i, idx in enumerate(mine):
            batch = {k: v.to(device) for k, v in collate([examples[j] for j in idx]).items()}
            # DDP all-reduces only after the last micro-batch of the step, and averages over processes:
            # scale by world so the step's gradient stays the token mean over the whole window.
            with net.no_sync() if world > 1 and i < len(mine) - 1 else contextlib.nullcontext():
                kept = lower(idx, batch)
                with autocast():
                    loss = net(**batch, num_items_in_batch=items, **kept)
                (loss * world).backward()
            total += loss.detach()
        if world > 1:
            dist.all_reduce(total)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
        lr = sched.get_last_lr()[0]
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(total))
        bar.set_postfix(loss=f"{losses[-1]:.4f}", lr=f"{lr:.2e}")
        if on_step is not None:
            on_step(step, losses[-1], lr, grad_norm)
        if on_checkpoint is not None and cfg.checkpoint_steps > 0 and (step + 1) % cfg.checkpoint_steps == 0 and step + 1 < steps:
            on_checkpoint(step + 1, opt, sched)
    return losses


CHECKPOINT_STATE = "state.json"  # a checkpoint's step, recipe and log, and the folder of its step (`dir`)
CHECKPOINT_WEIGHTS = "adapter.safetensors"  # in that folder: the trainable weights
CHECKPOINT_OPTIMIZER = "optimizer.pt"  # and the optimizer, scheduler and torch RNG states, read back with torch.load(weights_only=True)


def recipe_hash(cfg: ModelParams, base_dir: Path, examples: list[dict[str, Any]], world: int) -> str:
    """What a checkpoint must match to be resumed: every training setting but `checkpoint_steps`,
    the base checkpoint's files, the encoded examples and the number of processes."""
    import hashlib

    h = hashlib.sha256()
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "checkpoint_steps"}
    h.update(json.dumps({"settings": settings, "world": world}, sort_keys=True).encode())
    for f in sorted(Path(base_dir).rglob("*")):
        if f.is_file():
            h.update(f.relative_to(base_dir).as_posix().encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    h.update(block)
    h.update(json.dumps([[e["input_ids"], e["labels"]] for e in examples]).encode())
    return h.hexdigest()


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    tmp = folder / (CHECKPOINT_STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / CHECKPOINT_STATE)


def _drop_all_but(folder: Path, keep: set[str]) -> None:
    for f in folder.iterdir():
        if f.name not in keep:
            shutil.rmtree(f) if f.is_dir() else f.unlink()


def save_checkpoint(folder: Path, model: Any, opt: Any, sched: Any, state: dict[str, Any]) -> None:
    """Write a checkpoint: the trainable weights (safetensors) and the optimizer, scheduler and torch
    RNG states into a folder of its step, then `state` (step, recipe, tokens, wall time, the per-step
    log), naming that folder, by an atomic rename, then drop the older step. A kill at any point
    leaves state.json naming a complete step folder, or no state.json."""
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step-{int(state['step']):06d}"
    with atomic_dir(folder / name) as staging:
        weights = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
        save_file(weights, str(staging / CHECKPOINT_WEIGHTS))
        torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": torch.get_rng_state()}, staging / CHECKPOINT_OPTIMIZER)
    _write_state(folder, {**state, "dir": name})
    _drop_all_but(folder, {CHECKPOINT_STATE, name})


def finish_checkpoint(folder: Path, state: dict[str, Any]) -> None:
    """After a finished run the checkpoint folder keeps its state only (`complete`: the run it
    records ended; the adapter is the stage's output), small enough to keep in the DVC remote."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_state(folder, {**state, "complete": True})
    _drop_all_but(folder, {CHECKPOINT_STATE})


def load_checkpoint(folder: Path, recipe: str, name: str, model: Any) -> dict[str, Any] | None:
    """The checkpoint in `folder` to resume, its trainable weights loaded into `model`; None, with one
    line saying why, when there is none to resume: no folder, a finished run, or another recipe."""
    import torch
    from safetensors.torch import load_file

    state_file = Path(folder) / CHECKPOINT_STATE
    if not state_file.is_file():
        return None
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"train {name}: {state_file} is unreadable ({e}); training starts over", file=sys.stderr, flush=True)
        return None
    if state.get("complete"):
        print(f"train {name}: {folder} records a finished run; training starts over", file=sys.stderr, flush=True)
        return None
    if state.get("recipe") != recipe:
        print(f"train {name}: the checkpoint in {folder} is from another recipe (its params, base or training rows differ); training starts over", file=sys.stderr, flush=True)
        return None
    step_dir = Path(folder) / str(state.get("dir", ""))
    if not state.get("dir") or not (step_dir / CHECKPOINT_WEIGHTS).is_file() or not (step_dir / CHECKPOINT_OPTIMIZER).is_file():
        print(f"train {name}: {state_file} names no complete step folder; training starts over", file=sys.stderr, flush=True)
        return None
    weights = load_file(str(step_dir / CHECKPOINT_WEIGHTS))
    params = dict(model.named_parameters())
    if set(weights) != {n for n, p in params.items() if p.requires_grad}:
        print(f"train {name}: the checkpoint in {folder} holds other trainable weights; training starts over", file=sys.stderr, flush=True)
        return None
    with torch.no_grad():
        for n, w in weights.items():
            params[n].copy_(w)
    extra = torch.load(step_dir / CHECKPOINT_OPTIMIZER, weights_only=True)
    print(f"train {name}: resuming from the checkpoint in {folder} at step {state['step']} of {state['steps']}", file=sys.stderr, flush=True)
    return {**state, **extra}


def run(
    name: str,
    cfg: ModelParams,
    base_dir: Path,
    chats: list[Chat],
    adapter_out: Path,
    checkpoint_dir: Path,
    live_dir: Path,
    key: str = "models",
) -> dict[str, Any]:
    """Train on `chats` (any task's training chats, from stages/pipeline/train.py), then save the
    adapter; merging it into the base is the quantize stage's (stages/train/merge.py). Every
    `checkpoint_steps` optimizer steps a checkpoint goes to `checkpoint_dir`; a rerun after a kill
    resumes from it when its recipe matches (`recipe_hash`). Under torchrun every process trains
    its share and process 0 logs and saves; the others return {}, and no checkpoint is written.
    `key` is the params section that names the model, for errors."""
    import torch
    import torch.distributed as dist
    from dvclive import Live
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, set_seed

    check_safetensors_dir(base_dir)
    check_scheduler(cfg.scheduler, f"{key}.{name}.scheduler")
    rank, world = distributed()
    torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)  # every process: the same LoRA init
    tok = load_tokenizer(Path(base_dir))
    device = torch.device(f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu")
    setting = cfg.precision
    native = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_has_native_bf16()
    precision, reason = choose_precision(setting, cpu_capability() if device.type == "cpu" else "", native, device.type, f"{key}.{name}.precision")
    if rank == 0:
        print(f"train {name}: precision {precision} ({reason})", file=sys.stderr, flush=True)
    if device.type == "cpu" and precision == "bf16" and rank == 0 and not native:
        # Measured on an AVX2-only CPU: the first bf16 step of the default recipe took 599 s (about 10 s with AVX512-BF16).
        print(
            f"train {name}: warning: this CPU has no native bf16 ({cpu_capability() or 'capability unknown'}); bf16 autocast runs "
            f"emulated, tens of times slower; set {key}.{name}.precision: auto or fp32",
            file=sys.stderr,
            flush=True,
        )
    cfg = dataclasses.replace(cfg, precision=precision)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, use_safetensors=True).to(device)
    n_layers = model.config.num_hidden_layers
    if cfg.top_layers > n_layers:
        raise SLMBenchError(f"params.yaml: {key}.{name}.top_layers: {cfg.top_layers}, but the base {base_dir} has {n_layers} decoder layers")
    if cfg.cache_lower and world > 1:
        raise SLMBenchError(f"params.yaml: {key}.{name}.cache_lower: not supported with {world} processes (torchrun); set it false")
    model = get_peft_model(model, lora_config(cfg, n_layers))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    examples, dropped = encode_chats(chats, tok, cfg.max_length)
    if not examples:
        raise SLMBenchError(f"train {name}: no example fits max_length {cfg.max_length}")
    steps, _ = plan(len(examples), cfg, world)
    recipe = recipe_hash(cfg, Path(base_dir), examples, world) if rank == 0 else ""
    resume = load_checkpoint(Path(checkpoint_dir), recipe, name, model) if world == 1 else None
    counter = collator(tok)
    log: list[list[float]] = [list(x) for x in resume["log"]] if resume else []
    counter.tokens = int(resume["tokens"]) if resume else 0
    wall_before = float(resume["wall_s"]) if resume else 0.0
    live = None
    if rank == 0:
        shutil.rmtree(live_dir, ignore_errors=True)
        live = Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=False, report=None)
        # The words of the precision choice live here, beside train.json's numbers.
        live.log_params({"model": name, "processes": world, **dataclasses.asdict(cfg), "precision_setting": setting, "precision_reason": reason})
    def to_live(loss: float, lr: float, grad_norm: float) -> None:
        if live is not None:
            for key, value in (("loss", loss), ("learning_rate", lr), ("grad_norm", grad_norm)):
                live.log_metric(key, value)
            live.next_step()

    for row in log:  # a resumed run's curve starts with the checkpointed steps
        to_live(*row)

    def log_step(step: int, loss: float, lr: float, grad_norm: float) -> None:
        log.append([loss, lr, grad_norm])
        to_live(loss, lr, grad_norm)

    def state(step: int) -> dict[str, Any]:
        return {"step": step, "steps": steps, "recipe": recipe, "tokens": counter.tokens, "wall_s": round(wall_before + time.perf_counter() - start, 3), "log": log}

    def checkpoint(step: int, opt: Any, sched: Any) -> None:
        save_checkpoint(Path(checkpoint_dir), model, opt, sched, state(step))

    start = time.perf_counter()
    train_loop(model, examples, cfg, counter, on_step=log_step, resume=resume, on_checkpoint=checkpoint if world == 1 else None)
    wall = wall_before + time.perf_counter() - start
    tokens = torch.tensor(counter.tokens, device=device)
    if world > 1:
        dist.all_reduce(tokens)
        dist.destroy_process_group()
    if live is None:
        return {}
    live.end()
    _save_atomic(model, None, adapter_out)
    final = state(steps)
    final.pop("log")
    finish_checkpoint(Path(checkpoint_dir), {**final, "wall_s": round(wall, 3), "resumed_at": int(resume["step"]) if resume else 0})
    all_losses = [x[0] for x in log]
    return {
        "steps": len(all_losses),
        "processes": world,
        "examples": len(examples),
        "examples_dropped": dropped,
        "tokens": int(tokens),
        "tokens_per_s": round(int(tokens) / wall, 2),
        "final_loss": round(all_losses[-1], 6),
        "mean_loss_last_5": round(sum(all_losses[-5:]) / len(all_losses[-5:]), 6),
        "train_loss": round(sum(all_losses) / len(all_losses), 6),
        "wall_s": round(wall, 2),
        "resumed_at_step": int(resume["step"]) if resume else 0,
        "peak_rss_mb": peak_rss_mb(),
        "trainable_params": int(trainable),
        # Numbers only (a DVC metrics file): 1 when training ran under bf16 autocast, 1 when the
        # device has native bf16, 1 when `precision: auto` made the choice; the reason in words
        # is in train_live/params.yaml (precision_reason).
        "bf16": int(precision == "bf16"),
        "native_bf16": int(native),
        "precision_auto": int(setting == "auto"),
    }


def _save_atomic(model: Any, tok: Any, out: Path) -> None:
    with atomic_dir(out) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        if tok is not None:
            tok.save_pretrained(staging)
        _sort_target_modules(Path(staging) / "adapter_config.json")


def _sort_target_modules(config: Path) -> None:
    """peft writes `target_modules` from a set, so its order changes between runs; sort it so the
    same params give a byte-identical adapter_config.json."""
    if not config.is_file():
        return
    cfg = json.loads(config.read_text())
    if isinstance(cfg.get("target_modules"), list):
        cfg["target_modules"] = sorted(cfg["target_modules"])
        config.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
