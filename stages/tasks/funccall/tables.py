"""The EdgeFuncCall tables its report section and its model card share: which row sets and figures,
in which order (a figure with its interval as a cell: stages.core.markdown.ci)."""

from __future__ import annotations

from typing import Any

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
