"""EdgeFuncCall's section of the release report (metrics/report.md): per dataset, the MLM on its test
split and on BFCL's categories (metrics/funccall/<name>/mlm/eval.json), with its data, training and
quantize gate figures."""

from __future__ import annotations

from pathlib import Path

from stages.core.markdown import ci, fmt, load
from stages.core.params import Params
from stages.tasks.funccall.tables import FUNCCALL_FIGURES, funccall_rows


def report_lines(p: Params, root: Path) -> list[str]:
    """EdgeFuncCall: per dataset, the MLM on its test split and on BFCL's categories (metrics/funccall/<name>/mlm/eval.json)."""
    if not p.funccall.datasets:
        return []
    funccall_dir = Path(root) / "metrics" / "funccall"
    head = ["rows", "decoding", "n", *(h for h, _ in FUNCCALL_FIGURES), "tokens/s"]
    lines = [
        "## EdgeFuncCall",
        "",
        "Function calling: a request and the tools offered in, the calls to make (or none) out as JSON, scored by AST match with "
        "BFCL's rules (stages/tasks/funccall/scoring.py). The MLM is SmolLM2-135M with LoRA, its GGUF scored on the dataset's test split and on "
        "BFCL's simple (Python), multiple and irrelevance categories, the outside test, free and constrained by each row's tools. "
        "Each figure has its n and a 95% bootstrap interval over rows; `irrelevance` is over the rows where no offered tool fits, "
        "`parallel` over the rows with two calls. By default the MLM trains on `funccall.mlm.train_rows` rows and is scored on "
        "`funccall.mlm_scoring.bfcl_rows` rows of each BFCL category (n).",
        "",
    ]
    for name in p.funccall.datasets:
        d = funccall_dir / name
        ev, tr, qz = (load(d / "mlm" / f) for f in ("eval.json", "train.json", "quantize.json"))
        quality, split = load(d / "quality.json"), load(d / "split.json")
        lines += [
            f"### {name}",
            "",
            f"Data: {fmt(quality.get('rows_accepted'))} rows accepted of {fmt(quality.get('rows_in'))} (reject rate {fmt(quality.get('reject_rate'))}), "
            f"{fmt((split.get('train') or {}).get('rows'))} train and {fmt((split.get('test') or {}).get('rows'))} test; tool catalogue version "
            f"{fmt(quality.get('catalogue_version'))}, sha256 {str(quality.get('catalogue_sha256', 'n/a'))[:12]}. Model: {fmt(ev.get('size_mb'))} MB "
            f"({ev.get('runtime', 'n/a')}), peak RSS {fmt(ev.get('peak_rss_mb'))} MB, trained {fmt(tr.get('wall_s'))} s on {fmt(tr.get('train_rows'))} rows; "
            f"quantize gate on {fmt(qz.get('check_n'))} test rows: the GGUF reproduces {fmt(qz.get('agreement'))} of each merged answer from its start "
            f"(mean), AST accuracy {fmt(qz.get('score'))} against the merged model's {fmt(qz.get('score_merged'))} (paired difference "
            f"{fmt(qz.get('score_diff'))}, p {fmt(qz.get('score_diff_p'))}).",
            "",
            "| " + " | ".join(head) + " |",
            "|---" * len(head) + "|",
        ]
        for rows, decoding, m in funccall_rows(ev):
            cells = [rows, decoding, fmt(m.get("n")), *(ci(m, key) for _, key in FUNCCALL_FIGURES), fmt(m.get("tokens_per_s"))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines
