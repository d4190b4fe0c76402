"""The plain training loop: its batching, its step plan, and accumulation that matches one big batch."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from stages.train.train import length_grouped_batches, micro_batches, plan


def _padded(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(max(lengths[i] for i in b) * len(b) for b in batches)


def test_length_grouped_batches_cover_each_example_once_and_pad_less() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(50, 900) for _ in range(1000)]
    batches = length_grouped_batches(lengths, 4, seed=42, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(1 <= len(b) <= 4 for b in batches)
    assert batches == length_grouped_batches(lengths, 4, seed=42, epoch=0), "same seed and epoch, same batches"
    assert batches != length_grouped_batches(lengths, 4, seed=42, epoch=1), "each epoch reshuffles"
    plain = [list(range(i, min(i + 4, 1000))) for i in range(0, 1000, 4)]
    assert _padded(lengths, batches) < 0.8 * _padded(lengths, plain), "grouping by length must cut padding"
    firsts = [lengths[b[0]] for b in batches[:50]]
    assert firsts != sorted(firsts, reverse=True), "batch order is shuffled, not a length curriculum"


def test_plan_counts_steps_and_micro_batches(real_params) -> None:
    cfg = real_params.models["smollm2-135m-lora"]
    assert plan(650, dataclasses.replace(cfg, max_steps=50, grad_accum=2)) == (50, 100)
    # 650 examples / batch 4 = 163 micro-batches per epoch; 3 epochs = 489, rounded up to whole steps
    assert plan(650, dataclasses.replace(cfg, max_steps=-1, epochs=3, batch_size=4, grad_accum=2)) == (245, 490)
    assert plan(650, dataclasses.replace(cfg, max_steps=-1, epochs=3, batch_size=4, grad_accum=2), world=2) == (123, 492)
    assert plan(650, dataclasses.replace(cfg, max_steps=50, grad_accum=2), world=4) == (50, 400)
    examples = [{"input_ids": [0] * (i + 1)} for i in range(10)]
    got = list(micro_batches(examples, dataclasses.replace(cfg, batch_size=4, seed=1), 7))
    assert len(got) == 7 and sum(len(b) for b in got[:3]) == 10, "epoch 0 covers every example before epoch 1 starts"


@pytest.mark.slow
def test_accumulated_micro_batches_match_one_batch(tiny_model_dir: Path, repo_root: Path, real_params) -> None:
    """batch 2 x accumulation 2 and batch 4 x 1 see the same 4 examples in one step: same loss,
    same LoRA weights after the step (the loss is the mean over all answer tokens of the step)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq

    from stages.core.catalog import load_catalog
    from stages.tasks.edgejson.generate import run as generate
    from stages.tasks.edgejson.model import answer, prompt, with_schemas
    from stages.train.train import IGNORE, encode_chats, train_loop

    catalog = load_catalog(repo_root / "schemas")
    rows = generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False)[:4]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    examples, _ = encode_chats([(prompt(r), answer(r)) for r in with_schemas(rows, catalog)], tok, 4096)
    collate = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=IGNORE, return_tensors="pt")
    tiny = dict(r=4, alpha=8, dropout=0.0, max_steps=1, warmup_steps=0, scheduler="constant", precision="fp32", lr=0.01)
    base = dataclasses.replace(real_params.models["smollm2-135m-lora"], **tiny)

    def one_step(batch_size: int, grad_accum: int) -> tuple[float, dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32), lora)
        (loss,) = train_loop(model, examples, dataclasses.replace(base, batch_size=batch_size, grad_accum=grad_accum), collate, progress=False)
        return loss, {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}

    loss_one, w_one = one_step(4, 1)
    loss_acc, w_acc = one_step(2, 2)
    assert loss_acc == pytest.approx(loss_one, rel=1e-5)
    for k in w_one:
        assert torch.allclose(w_one[k], w_acc[k], atol=1e-6), k
    loss_wrong = one_step(2, 1)[0]  # half the examples: a different loss, so the check above can fail
    assert loss_wrong != pytest.approx(loss_one, rel=1e-5)


def test_top_layers_with_the_lower_layers_kept_train_as_without(tiny_model_dir: Path, repo_root: Path, real_params) -> None:
    """`top_layers: 1` puts adapters on the top layer only; `cache_lower` keeps each example's output
    of the frozen lower layer from its first pass: the first epoch's losses are those of the same
    run without it, and later epochs (which skip the lower layer) stay within rounding of it. The
    lower layers' output is the residual stream before the final norm, so dropping the cache into
    the upper layers without that distinction would change the loss (checked)."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq

    from stages.core.catalog import load_catalog
    from stages.tasks.edgejson.generate import run as generate
    from stages.tasks.edgejson.model import answer, prompt, with_schemas
    from stages.train.train import IGNORE, LowerCache, decoder_layers, encode_chats, lora_config, train_loop

    catalog = load_catalog(repo_root / "schemas")
    rows = generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False)[:6]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    examples, _ = encode_chats([(prompt(r), answer(r)) for r in with_schemas(rows, catalog)], tok, 4096)
    collate = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=IGNORE, return_tensors="pt")
    tiny = dict(r=4, alpha=8, dropout=0.0, max_steps=-1, epochs=3, batch_size=2, grad_accum=1, warmup_steps=0, scheduler="constant", precision="fp32", lr=0.01, top_layers=1)
    cfg = dataclasses.replace(real_params.models["smollm2-135m-lora"], **tiny)

    def fresh() -> Any:
        torch.manual_seed(0)
        core = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
        return get_peft_model(core, lora_config(cfg, core.config.num_hidden_layers))

    def trained(cache: bool) -> tuple[list[float], dict[str, torch.Tensor]]:
        model = fresh()
        losses = train_loop(model, examples, dataclasses.replace(cfg, cache_lower=cache), collate, progress=False)
        return losses, {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}

    plain, w_plain = trained(False)
    kept, w_kept = trained(True)
    assert w_plain and all(".layers.1." in k for k in w_plain), "adapters on the top layer only"
    assert len(plain) == len(kept) == 9
    assert kept[:3] == pytest.approx(plain[:3], rel=1e-6), "the first epoch computes what the plain run does"
    assert kept == pytest.approx(plain, rel=1e-4)
    for k in w_plain:
        assert torch.allclose(w_plain[k], w_kept[k], atol=1e-5), k
    # the kept states are the residual stream, not normed: normed, the upper layer would see other inputs
    model = fresh()
    batch = collate(examples[:2])
    cache = LowerCache(model.get_base_model(), 1)
    lower = cache.hidden([0, 1], batch, torch.autocast("cpu", enabled=False))
    with torch.no_grad(), decoder_layers(model.get_base_model(), slice(0, 1)):
        normed = model.get_base_model().model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).last_hidden_state
    assert not torch.allclose(lower, normed, atol=1e-3)
    again = cache.hidden([1, 0], collate([examples[1], examples[0]]), torch.autocast("cpu", enabled=False))
    assert torch.equal(again[0][batch["attention_mask"][1].bool()], lower[1][batch["attention_mask"][1].bool()])


def _stage_inputs(repo_root: Path, real_params: Any, tmp_path: Path, n: int) -> tuple[Path, dict[str, Any]]:
    """A train file of `n` generated v3 rows for the train stage's command, and params.yaml's content to edit."""
    import yaml

    from stages.core.catalog import load_catalog
    from stages.core.records import write_rows
    from stages.tasks.edgejson.generate import run as generate

    catalog = load_catalog(repo_root / "schemas")
    rows = generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False)[:n]
    train = tmp_path / "train.jsonl"
    write_rows(train, rows)
    raw = yaml.safe_load((repo_root / "params.yaml").read_text())
    raw["schemas_dir"] = str(repo_root / "schemas")
    return train, raw


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process_with_accumulation(tiny_model_dir: Path, repo_root: Path, real_params, tmp_path: Path) -> None:
    """`torchrun --nproc-per-node 2` (gloo on CPU) with accumulation 1 covers the same micro-batches per
    step as one process with accumulation 2: the same loss curve and the same adapter."""
    import json
    import os
    import subprocess
    import sys

    import yaml
    from safetensors.torch import load_file

    train, raw = _stage_inputs(repo_root, real_params, tmp_path, 8)
    model = dict(raw["models"]["smollm2-135m-lora"], r=4, alpha=8, dropout=0.0, max_steps=2, batch_size=2, warmup_steps=0, precision="fp32", threads=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def train_with(tag: str, grad_accum: int, launcher: list[str]) -> tuple[dict, dict]:
        raw["models"]["smollm2-135m-lora"] = dict(model, grad_accum=grad_accum)
        params = tmp_path / f"params-{tag}.yaml"
        params.write_text(yaml.safe_dump(raw))
        out = tmp_path / tag
        cmd = [*launcher, "-m", "stages.cli", "train", "--task", "edgejson", "--name", "smollm2-135m-lora", "--train", str(train), "--base", str(tiny_model_dir)]
        cmd += ["--adapter", str(out / "adapter"), "--checkpoint", str(out / "checkpoint"), "--metrics", str(out / "train.json"), "--live", str(out / "live")]
        cmd += ["--params", str(params)]
        try:
            res = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"{tag}: no result in 240 s; stderr ends: {(e.stderr or b'')[-1500:]!r}")
        assert res.returncode == 0, res.stderr[-2000:]
        return json.loads((out / "train.json").read_text()), load_file(str(out / "adapter" / "adapter_model.safetensors"))

    one, w_one = train_with("one", 2, [sys.executable])
    two, w_two = train_with("two", 1, [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"])
    assert two["processes"] == 2 and one["processes"] == 1
    assert two["tokens"] == one["tokens"], "the two processes together see every token of the single run"
    assert two["final_loss"] == pytest.approx(one["final_loss"], rel=1e-4) and two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-4)
    for k in w_one:
        assert (w_one[k] - w_two[k]).abs().max() < 1e-5, k


def test_answer_only_loss_is_the_transformers_loss(tiny_model_dir: Path, repo_root: Path, real_params) -> None:
    """The loop's loss runs the LM head on the answer positions only; its value and its LoRA
    gradients are those of transformers' own loss over every position, and a label changed
    inside the answer changes it (so the comparison can fail)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq

    from stages.core.catalog import load_catalog
    from stages.tasks.edgejson.generate import run as generate
    from stages.tasks.edgejson.model import answer, prompt, with_schemas
    from stages.train.train import IGNORE, answer_loss_module, encode_chats

    catalog = load_catalog(repo_root / "schemas")
    rows = generate("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=1), catalog, progress=False)[:3]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    examples, _ = encode_chats([(prompt(r), answer(r)) for r in with_schemas(rows, catalog)], tok, 4096)
    batch = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=IGNORE, return_tensors="pt")(examples)
    items = int((batch["labels"][:, 1:] != IGNORE).sum())
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32), lora)

    def loss_and_grads(fn: Any) -> tuple[float, dict[str, torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        loss = fn()
        loss.backward()
        return float(loss), {k: v.grad.clone() for k, v in model.named_parameters() if v.requires_grad}

    ref, ref_grads = loss_and_grads(lambda: model(**batch, num_items_in_batch=items).loss)
    ours, our_grads = loss_and_grads(lambda: answer_loss_module(model)(**batch, num_items_in_batch=items))
    assert ours == pytest.approx(ref, rel=1e-5)
    for k in ref_grads:
        assert torch.allclose(our_grads[k], ref_grads[k], rtol=1e-4, atol=1e-7), k
    changed = dict(batch, labels=batch["labels"].clone())
    row, col = (changed["labels"][:, 1:] != IGNORE).nonzero()[0].tolist()
    changed["labels"][row, col + 1] = (changed["labels"][row, col + 1] + 1) % tok.vocab_size
    assert float(answer_loss_module(model)(**changed, num_items_in_batch=items)) != pytest.approx(ref, rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("lever", [{}, {"top_layers": 1, "cache_lower": True}], ids=["every_layer", "top_layer_kept_lower"])
def test_a_killed_training_resumes_from_its_checkpoint_to_the_same_adapter(tiny_model_dir: Path, repo_root: Path, real_params, tmp_path: Path, lever: dict) -> None:
    """The train stage killed (SIGKILL) after a checkpoint, then rerun, resumes there and ends with
    the adapter, loss curve and step count of an uninterrupted run (LoRA dropout on, so the RNG
    state must be restored too; with `cache_lower`, the lower layers' kept outputs are rebuilt from
    the micro-batches already seen). A checkpoint from another recipe is not resumed: one line says why."""
    import json
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    import yaml

    train, raw = _stage_inputs(repo_root, real_params, tmp_path, 16)
    model = dict(raw["models"]["smollm2-135m-lora"], r=4, alpha=8, dropout=0.1, max_steps=16, batch_size=2, grad_accum=1, warmup_steps=2, precision="fp32", threads=1, checkpoint_steps=2, **lever)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def command(tag: str, settings: dict) -> list[str]:
        raw["models"]["smollm2-135m-lora"] = settings
        params = tmp_path / f"params-{tag}.yaml"
        params.write_text(yaml.safe_dump(raw))
        out = tmp_path / "run"  # one output place: a rerun sees the killed run's checkpoint
        cmd = [sys.executable, "-m", "stages.commands.task_train", "--task", "edgejson", "--name", "smollm2-135m-lora", "--train", str(train), "--base", str(tiny_model_dir)]
        return [*cmd, "--adapter", str(out / "adapter"), "--checkpoint", str(out / "checkpoint"), "--metrics", str(out / "train.json"), "--live", str(out / "live"), "--params", str(params)]

    def finish(cmd: list[str]) -> tuple[str, dict, bytes, str]:
        res = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        out = tmp_path / "run"
        curve = (out / "live" / "plots" / "metrics" / "loss.tsv").read_text()
        return res.stderr, json.loads((out / "train.json").read_text()), (out / "adapter" / "adapter_model.safetensors").read_bytes(), curve

    _, whole, whole_adapter, whole_curve = finish(command("whole", model))
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["complete"] and state["step"] == 16 and sorted(p.name for p in (tmp_path / "run" / "checkpoint").iterdir()) == ["state.json"]
    assert whole["resumed_at_step"] == 0 and whole["steps"] == 16
    shutil.rmtree(tmp_path / "run" / "adapter")

    proc = subprocess.Popen(command("whole", model), cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state_file = tmp_path / "run" / "checkpoint" / "state.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if state_file.is_file() and not json.loads(state_file.read_text()).get("complete"):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the run ended ({proc.returncode}) before a checkpoint could be killed: {proc.stderr.read()[-1500:]}"
    killed_at = json.loads(state_file.read_text())["step"]
    assert 2 <= killed_at < 16 and not (tmp_path / "run" / "adapter").exists()
    saved = tmp_path / "saved-checkpoint"
    shutil.copytree(tmp_path / "run" / "checkpoint", saved)

    log, resumed, resumed_adapter, resumed_curve = finish(command("whole", model))
    assert f"resuming from the checkpoint in {tmp_path / 'run' / 'checkpoint'} at step {killed_at} of 16" in log
    assert resumed["resumed_at_step"] == killed_at
    assert resumed_adapter == whole_adapter, "a resumed run ends with the uninterrupted run's adapter"
    assert resumed_curve == whole_curve and resumed["final_loss"] == whole["final_loss"] and resumed["tokens"] == whole["tokens"]

    shutil.rmtree(tmp_path / "run" / "checkpoint")
    shutil.copytree(saved, tmp_path / "run" / "checkpoint")
    log, other, _, _ = finish(command("other-lr", dict(model, lr=model["lr"] / 2)))
    assert "is from another recipe (its params, base or training rows differ); training starts over" in log
    assert other["resumed_at_step"] == 0 and other["steps"] == 16
