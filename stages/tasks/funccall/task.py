"""EdgeFuncCall's task interface (stages/tasks/registry.py): a request and tools in, the calls out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.board import figure, folder_params, lora_label, new_row, new_table, read_json
from stages.core.params import Params
from stages.tasks.funccall.report import report_lines  # noqa: F401 (the interface's report section)
from stages.tasks.funccall.rows import read_call_rows as read_rows  # noqa: F401 (the interface's row reader)
from stages.tasks.funccall.rows import write_call_rows as write_rows  # noqa: F401 (the interface's row writer)

NAME = "funccall"
TITLE = "EdgeFuncCall"
ORDER = 3
METRICS = ("ast_accuracy", "name_accuracy", "argument_f1", "irrelevance_accuracy", "parallel_accuracy", "json_parse", "schema_valid")
BREAKDOWN = "domains"
EVALUATOR = "stages.tasks.funccall.evaluation:main_any"
DECODINGS = ("constrained", "free")


def metric_versions() -> dict[str, int]:
    from stages.tasks.funccall.metrics import versions

    return versions()


def test_splits(p: Params) -> dict[str, Path]:
    out = {}
    for f in sorted(p.funccall.datasets):
        out[f] = Path(f"data/funccall/{f}/test.jsonl")
        out.update({f"bfcl_{c}": Path(f"data/funccall/{f}/bfcl/bfcl_{c}.jsonl") for c in p.funccall.bfcl})
    return out


def evaluator_args(o: Any) -> tuple[Any, ...]:
    return (o.model, o.data, o.answers, o.constrained, o.out, o.threads, max(o.parallel, 1), min(o.max_new_tokens, 384), o.bootstrap_samples, o.bootstrap_seed, o.limit, 4, 2048, o.predictions)


def decoding_of(result: dict[str, Any], o: Any) -> str:
    return "constrained" if o.constrained else "free"


def headline(r: dict[str, Any]) -> str:
    keys = [k for k in ("ast_accuracy", "irrelevance_accuracy", "parallel_accuracy", "argument_f1") if k in r]
    figures = " ".join(f"{k}={r[k]:.3f} [{r[k + '_ci95'][0]:.3f}, {r[k + '_ci95'][1]:.3f}]" for k in keys)
    return f"evaluate: n={r['n']} {r['decoding']} {figures} (95% bootstrap intervals)"


def _row(section: dict[str, Any], decoding: str, top: dict[str, Any], params: int | None, card: str, display: str, quant: str) -> dict[str, Any]:
    r = section[decoding]
    metrics = {m: figure(r.get(m), *(r.get(f"{m}_ci95") or (None, None)), r.get(f"{m}_n")) for m in METRICS}
    breakdown = [
        {"group": d, "metrics": {"ast_accuracy": figure(v.get("ast_accuracy"), *v["ast_accuracy_ci95"], v.get("ast_accuracy_n"))}}
        for d, v in sorted(r.get("by_domain", {}).items())
    ]
    return new_row(
        display, "pipeline", str(top.get("runtime", "llama.cpp")), quant, decoding, metrics, card,
        size_mb=top.get("size_mb"), params=params, tokens_per_s=r.get("tokens_per_s"), peak_rss_mb=section.get("peak_rss_mb", top.get("peak_rss_mb")),
        n=r.get("n"), breakdown=breakdown,
    )  # fmt: skip


def leaderboard_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    """Per dataset of `funccall.datasets` (metrics/funccall/<f>/mlm/eval.json): its test split and
    each BFCL category scored beside it, one row per decoding, with the per-domain breakdown."""
    tables: list[dict[str, Any]] = []
    if not p.funccall.datasets:
        return tables  # no dataset: no table, and the MLM's settings are not read
    mlm = P.funccall_mlm(p)
    display, quant = lora_label(mlm.base, "funccall"), mlm.qtype.upper()
    for name in sorted(p.funccall.datasets):
        ev = read_json(root / f"metrics/funccall/{name}/mlm/eval.json")
        params = folder_params(root / f"models/base/{mlm.base}")
        card = f"models/funccall/{name}/README.md"
        sets = [(name, f"{TITLE} {name}, test split", Path(f"data/funccall/{name}/test.jsonl"), "per domain")]
        sets += [(f"bfcl_{c}", f"BFCL v4 {c} (outside test, first rows)", Path(f"data/funccall/{name}/bfcl/bfcl_{c}.jsonl"), "per category") for c in p.funccall.bfcl]
        for key, title, split, breakdown in sets:
            if key not in ev:
                continue
            table = new_table(NAME, key, title, split, root, name, METRICS, breakdown)
            for decoding in DECODINGS:
                if decoding in ev[key]:
                    table["rows"].append(_row(ev[key], decoding, ev, params, card, display, quant))
            tables.append(table)
    return tables
