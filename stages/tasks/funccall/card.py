"""EdgeFuncCall's card parts (stages/tasks/registry.py: PIPELINE_PARTS), for the generic card stage
(stages/pipeline/card.py, whose TASK_MODULE is `card`): the funccall_card stage gives its MLM its
model card (`models/funccall/<dataset>/README.md`, a Hugging Face model card in git) and the data of
its score plot (`metrics/funccall/<dataset>/mlm/scores.json`: AST accuracy with its interval per
row set and decoding, for `dvc plots`), from its eval, train and quantize figures and the quality
figures of its data. Every figure is copied from those files, none typed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.markdown import ci, fmt
from stages.core.params import FuncCallData, Params
from stages.tasks.funccall.tables import FUNCCALL_FIGURES, funccall_rows

NAME = "funccall"
TITLE = "EdgeFuncCall"


def score_rows(ev: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per row set and decoding: the plot's bars, each figure as `m`, `m_ci95`, `m_n` (the one metrics layout)."""
    return [
        {
            "rows": f"{name} / {decoding}",
            "ast_accuracy": m["ast_accuracy"],
            "ast_accuracy_ci95": list(m["ast_accuracy_ci95"]),
            "ast_accuracy_n": m.get("ast_accuracy_n", m["n"]),
            "n": m["n"],
        }
        for name, decoding, m in funccall_rows(ev)
        if "ast_accuracy" in m
    ]


def card_text(base: str, ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any], quality: dict[str, Any]) -> str:
    head = ["rows", "decoding", "n", *(h for h, _ in FUNCCALL_FIGURES)]
    table = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, decoding, m in funccall_rows(ev):
        table.append("| " + " | ".join([name, decoding, fmt(m.get("n")), *(ci(m, key) for _, key in FUNCCALL_FIGURES)]) + " |")
    return "\n".join(
        [
            "---",
            "license: apache-2.0",
            f"base_model: {base}",
            "library_name: peft",
            "tags: [edgefunccall, function-calling, lora, gguf, slmbench]",
            "---",
            "",
            "# EdgeFuncCall MLM",
            "",
            f"LoRA fine-tune of `{base}` for EdgeFuncCall: a request and the tools offered in, the calls to make (or none) out as "
            '`{"calls": [{"name": ..., "arguments": {...}}]}`. The answer format and the prompt are in docs/funccall.md; '
            "a constrained decoder builds its grammar from the row's tools (stages/inference/tool_calls.py).",
            "",
            f"Trained on {fmt(tr.get('train_rows'))} of {fmt(tr.get('train_rows_available'))} generated training rows "
            f"(tool catalogue version {fmt(quality.get('catalogue_version'))}, sha256 {str(quality.get('catalogue_sha256', 'n/a'))[:12]}), "
            f"{fmt(tr.get('steps'))} optimizer steps in {fmt(tr.get('wall_s'))} s. Never trained on BFCL: the train stage fails when a "
            "BFCL question is a training request.",
            "",
            f"File: {ev.get('runtime', 'llama.cpp')} GGUF, {fmt(ev.get('size_mb'))} MB. Quantize gate on {fmt(qz.get('check_n'))} test rows: "
            f"the GGUF reproduces {fmt(qz.get('agreement'))} of each merged answer from its start (mean), AST accuracy {fmt(qz.get('score'))} "
            f"against the merged model's {fmt(qz.get('score_merged'))} (paired difference {fmt(qz.get('score_diff'))}, p {fmt(qz.get('score_diff_p'))}).",
            "",
            "AST match with BFCL's rules, 95% bootstrap intervals over rows (n rows each):",
            "",
            *table,
            "",
            "Score your own model on the same rows: `slmbench evaluate --task funccall --model MODEL --data data/funccall/<dataset>/test.jsonl "
            "--constrained --out out.json`, or on any BFCL single-call file with `--answers`.",
            "",
        ]
    )


def recipe(p: Params, name: str) -> FuncCallData:
    return P.funccall_data(p, name)


def card(p: Params, name: str, r: FuncCallData, ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any], quality: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The MLM's card (one MLM setting for every dataset: `funccall.mlm`), and the rows of its score plot."""
    cfg = P.funccall_mlm(p)
    return card_text(p.bases[cfg.base], ev, tr, qz, quality), score_rows(ev)
