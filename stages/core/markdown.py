"""What every task's report section and model card share to write a figure as Markdown: a metrics
file read leniently (`load`: {} when it is not there yet), a number (`fmt`) and a figure with its
95% interval (`ci`). Each task's own tables are in its folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and abs(v) < 10:
        return f"{v:.3f}"
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def ci(m: dict[str, Any], key: str) -> str:
    """`0.912 [0.899, 0.924]`, or a dash when the figure is absent."""
    if m.get(key) is None:
        return "-"
    lo, hi = m.get(f"{key}_ci95") or (None, None)
    return f"{m[key]:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{m[key]:.3f}"


def interval(m: dict[str, Any], key: str) -> str:
    """`0.912 [0.899, 0.924] (n=601)`: a figure in the one metrics layout (`m`, `m_ci95`, `m_n`)."""
    lo, hi = m[f"{key}_ci95"]
    return f"{m[key]:.3f} [{lo:.3f}, {hi:.3f}] (n={m[f'{key}_n']})"


def lora_card(title: str, name: str, cfg: Any, label: str, metrics: tuple[str, ...], primary: str, ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any]) -> list[str]:
    """The common frame of a LoRA language model's card, for a task that keeps its card simple: what
    the model is and how it trained, its figures from eval.json (`models.mlm`), and its quantize gate.
    `label`: the model's display name (stages.core.board.lora_label). Nothing is measured here."""
    m = ev["models"]["mlm"]
    lines = [
        f"# {title} {name}: {label}",
        "",
        f"A LoRA fine-tune of `{cfg.base}` for {title} ({name}), served as a {cfg.qtype.upper()} GGUF file of {qz['size_mb']} MB with llama.cpp, "
        f"answering under the task's decoding constraint. Trained {tr.get('wall_s')} s on {tr.get('train_rows')} of {tr.get('train_rows_available')} training rows "
        f"(LoRA r={cfg.r}, alpha={cfg.alpha}, lr={cfg.lr}, {tr.get('steps')} steps, {'bf16' if tr.get('bf16') else 'fp32'}).",
        "",
        "| metric | value [95% interval] (n) |",
        "|---|---|",
        *(f"| {k} | {interval(m, k)} |" for k in metrics if k in m),
        "",
    ]
    if qz.get("check_n"):
        lines += [
            f"Quantize gate on {qz['check_n']} test rows: the GGUF agrees with the merged model on {interval(qz, 'agreement')}; "
            f"{primary} {interval(qz, 'score')} against the merged model's {interval(qz, 'score_merged')} "
            f"(paired difference {qz['score_diff']:+.3f}, p {qz['score_diff_p']}).",
            "",
        ]
    return lines
