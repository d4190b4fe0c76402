"""The EdgeFuncCall tables the report and the model card share: which row sets and figures, in
which order, and a figure with its interval as a cell."""

from __future__ import annotations

from typing import Any


def ci(m: dict[str, Any], key: str) -> str:
    """`0.912 [0.899, 0.924]`, or a dash when the figure is absent."""
    if m.get(key) is None:
        return "-"
    lo, hi = m.get(f"{key}_ci95") or (None, None)
    return f"{m[key]:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{m[key]:.3f}"


FUNCCALL_SETS = ("edgefunccall", "bfcl_simple_python", "bfcl_multiple", "bfcl_irrelevance")  # the order of the EdgeFuncCall table
FUNCCALL_FIGURES = (
    ("AST accuracy", "ast_accuracy"),
    ("name accuracy", "name_accuracy"),
    ("argument F1", "argument_f1"),
    ("irrelevance", "irrelevance_accuracy"),
    ("parallel", "parallel_accuracy"),
    ("JSON parse", "json_parse"),
    ("schema valid", "schema_valid"),
)


def funccall_rows(ev: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(row set, decoding, figures) of a funccall eval.json, our split first, then BFCL's categories."""
    sets = [s for s in FUNCCALL_SETS if s in ev] + sorted(k for k, v in ev.items() if k not in FUNCCALL_SETS and isinstance(v, dict) and ("constrained" in v or "free" in v))
    return [(s, d, ev[s][d]) for s in sets for d in ("free", "constrained") if isinstance(ev.get(s), dict) and d in ev[s]]
