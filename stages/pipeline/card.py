"""The card stage, for every pipeline task: the model card (README.md beside the model) from what
the train, quantize and evaluate stages wrote, with the task's own section (`card_lines`).
Nothing is measured here; every figure is quoted with its n and 95% interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.board import lora_label, read_json
from stages.core.records import atomic_open
from stages.pipeline.common import task_recipe

PARTS = ("TITLE", "METRICS", "PRIMARY", "mlm", "card_lines")


def _figure(m: dict[str, Any], key: str) -> str:
    lo, hi = m[f"{key}_ci95"]
    return f"{m[key]:.3f} [{lo:.3f}, {hi:.3f}] (n={m[f'{key}_n']})"


def main(task: str, name: str, params_path: Path, eval_file: Path, train_file: Path, quantize_file: Path, out: Path) -> str:
    t, p, recipe = task_recipe(task, name, params_path, PARTS)
    cfg = t.mlm(p, name)
    ev, tr, qz = read_json(Path(eval_file)), read_json(Path(train_file)), read_json(Path(quantize_file))
    m = ev["models"]["mlm"]
    lines = [
        f"# {t.TITLE} {name}: {lora_label(cfg.base, 'MLM')}",
        "",
        f"A LoRA fine-tune of `{cfg.base}` for {t.TITLE} ({name}), served as a {cfg.qtype.upper()} GGUF file of {qz['size_mb']} MB with llama.cpp, "
        f"answering under the task's decoding constraint. Trained {tr.get('wall_s')} s on {tr.get('train_rows')} of {tr.get('train_rows_available')} training rows "
        f"(LoRA r={cfg.r}, alpha={cfg.alpha}, lr={cfg.lr}, {tr.get('steps')} steps, {'bf16' if tr.get('bf16') else 'fp32'}).",
        "",
        "| metric | value [95% interval] (n) |",
        "|---|---|",
        *(f"| {k} | {_figure(m, k)} |" for k in t.METRICS if k in m),
        "",
    ]
    if qz.get("check_n"):
        lines += [
            f"Quantize gate on {qz['check_n']} test rows: the GGUF agrees with the merged model on {_figure(qz, 'agreement')}; "
            f"{t.PRIMARY} {_figure(qz, 'score')} against the merged model's {_figure(qz, 'score_merged')} "
            f"(paired difference {qz['score_diff']:+.3f}, p {qz['score_diff_p']}).",
            "",
        ]
    lines += t.card_lines(recipe)
    text = "\n".join(lines).rstrip("\n") + "\n"
    with atomic_open(Path(out)) as fh:
        fh.write(text)
    return text
