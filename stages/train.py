"""`slmbench train --model smollm2-135m-lora --train data/v3/train.jsonl ...`: LoRA with peft.

Each example goes through the tokenizer's chat template: a system message with the compact
schema skeleton, the user's prompt, then the JSON answer and EOS. Loss is on the answer tokens
only. The transformers Trainer runs the loop (batches padded to their own longest example,
lengths grouped), dvclive logs loss and learning rate per step.
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from stages.errors import SLMBenchError
from stages.models import answer_text, chat_messages, check_safetensors_dir
from stages.params import ModelParams
from stages.records import atomic_dir

IGNORE = -100  # label id the loss skips


def encode(rows: list[dict[str, Any]], catalog: dict[str, Any], tok: Any, max_length: int) -> tuple[list[dict[str, list[int]]], int]:
    """Token ids and labels per row; prompt tokens are masked out of the loss. Returns (examples, dropped)."""
    examples, dropped = [], 0
    eos = tok.eos_token_id
    for row in rows:
        entry = catalog.get(row["schema_id"])
        if entry is None:
            raise SLMBenchError(f"row {row.get('id')}: no schema {row['schema_id']!r} in the catalog")
        prompt_ids = tok.apply_chat_template(chat_messages(row["prompt"], row["schema_id"], entry.schema), add_generation_prompt=True, tokenize=True)
        if isinstance(prompt_ids, dict) or hasattr(prompt_ids, "input_ids"):
            prompt_ids = prompt_ids["input_ids"]
        answer_ids = tok(answer_text(row["expected_output"], entry.schema), add_special_tokens=False)["input_ids"] + [eos]
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


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(name: str, cfg: ModelParams, base_dir: Path, rows: list[dict[str, Any]], catalog: dict[str, Any], adapter_out: Path, merged_out: Path, live_dir: Path) -> dict[str, Any]:
    import torch
    from dvclive import Live
    from dvclive.huggingface import DVCLiveCallback
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments, set_seed

    check_safetensors_dir(base_dir)
    torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(base_dir)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, use_safetensors=True)
    lora = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    examples, dropped = encode(rows, catalog, tok, cfg.max_length)
    if not examples:
        raise SLMBenchError(f"train {name}: no example fits max_length {cfg.max_length}")
    counter = TokenCounter(DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=IGNORE, return_tensors="pt"))
    with tempfile.TemporaryDirectory(prefix="train-") as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=cfg.batch_size,
            gradient_accumulation_steps=cfg.grad_accum,
            learning_rate=cfg.lr,
            lr_scheduler_type=cfg.scheduler,
            warmup_steps=cfg.warmup_steps,
            num_train_epochs=cfg.epochs,
            max_steps=cfg.max_steps,
            bf16=cfg.precision == "bf16",
            use_cpu=not torch.cuda.is_available(),
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            seed=cfg.seed,
            data_seed=cfg.seed,
            train_sampling_strategy="group_by_length",
            dataloader_num_workers=0,
            remove_unused_columns=False,
            disable_tqdm=False,
        )
        shutil.rmtree(live_dir, ignore_errors=True)
        live = Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=False, report=None)
        trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=counter, callbacks=[step_curves(DVCLiveCallback)(live=live)])
        start = time.perf_counter()
        out = trainer.train()
        wall = time.perf_counter() - start
        live.end()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    _save_atomic(model, None, adapter_out)
    merged = model.merge_and_unload()
    _save_atomic(merged, tok, merged_out)
    return {
        "steps": int(out.global_step),
        "examples": len(examples),
        "examples_dropped": dropped,
        "tokens": counter.tokens,
        "tokens_per_s": round(counter.tokens / wall, 2),
        "final_loss": round(float(losses[-1]), 6) if losses else None,
        "mean_loss_last_5": round(sum(losses[-5:]) / len(losses[-5:]), 6) if losses else None,
        "train_loss": round(float(out.training_loss), 6),
        "wall_s": round(wall, 2),
        "peak_rss_mb": peak_rss_mb(),
        "trainable_params": int(trainable),
    }


def step_curves(base: type) -> type:
    """DVCLiveCallback that logs only the per-step curves; the Trainer's end-of-run summary goes to train.json."""

    class StepCurves(base):  # type: ignore[misc, valid-type]
        KEEP = ("loss", "learning_rate", "grad_norm")
        MACHINE_LOCAL = ("output_dir", "logging_dir")  # a temp folder: recording it would break byte-identity

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.live.log_params({k: v for k, v in args.to_dict().items() if k not in self.MACHINE_LOCAL})

        def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            logs = {k: v for k, v in (kwargs.get("logs") or {}).items() if k in self.KEEP}
            if logs:
                super().on_log(args, state, control, **{**kwargs, "logs": logs})

    return StepCurves


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


def main(name: str, params_path: Path, train_file: Path, base_dir: Path, adapter: Path, merged: Path, metrics: Path, live_dir: Path) -> dict[str, Any]:
    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json

    p = P.load(params_path)
    if name not in p.models:
        raise SLMBenchError(f"params.yaml: no model {name!r} under models; expected one of {', '.join(p.models)}")
    result = run(name, p.models[name], base_dir, read_rows(train_file), load_catalog(Path(p.schemas_dir)), adapter, merged, live_dir)
    write_json(metrics, result)
    return result


