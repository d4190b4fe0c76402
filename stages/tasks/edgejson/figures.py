"""EdgeJSON's figures from its metrics files, formatted for Markdown: shared by its model card
(stages/evaluate/card.py) and its report section (report_lines in task.py); this module reads no params.

The metrics files are nested objects (the one metrics layout, docs/design.md): eval.json is
`{<variant>: {<decoding>: figures}}` (and the same under `test_unseen`), quantize.json
`{<type>: figures}`. A quality figure `m` with its 95% interval (`m_ci95: [lo, hi]`) is shown as
`0.413 [0.333, 0.493]`, next to the `n` it was measured on (`m_n`); a key that is absent shows
as n/a, and a figure without an interval shows bare.
"""

from __future__ import annotations

from typing import Any

from stages.core.catalog import TIERS
from stages.core.markdown import fmt, load  # noqa: F401 (the card's and the report's, too)
from stages.core.params import VARIANTS

QUALITY = ("json_exact", "field_f1", "schema_valid", "json_parse")
SPEED = ("tokens_per_s", "latency_ms_p50", "latency_ms_p95", "peak_rss_mb", "size_mb")
# quantize.json's greedy-check figures, in each type's object
CHECK_FIGURES = ("exact_agreement", "prefix_agreement", "json_exact")
UNSEEN = "test_unseen"  # eval.json's object of the figures on test_unseen


def figure(d: dict[str, Any], key: str) -> str:
    """`0.413 [0.333, 0.493]` when `d` has the interval `<key>_ci95`, else the bare figure (or n/a)."""
    v, ci = d.get(key), d.get(f"{key}_ci95")
    if v is None:
        return "n/a"
    if not isinstance(ci, list) or len(ci) != 2:
        return fmt(v)
    return f"{fmt(v)} [{fmt(ci[0])}, {fmt(ci[1])}]"


def with_n(d: dict[str, Any], key: str) -> str:
    """`0.413 [0.333, 0.493], n=150`: a figure with its interval and the rows it was measured on (`<key>_n`)."""
    text = figure(d, key)
    n = d.get(f"{key}_n", d.get("n"))
    return text if text == "n/a" or n is None else f"{text}, n={fmt(n)}"


def group(ev: dict[str, Any], *path: str) -> dict[str, Any]:
    """The object at `path` (e.g. variant, decoding) of a nested metrics file, or {} when absent."""
    d: Any = ev
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d if isinstance(d, dict) else {}


def _pairs(ev: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v, d) for v, ds in ev.items() if v != UNSEEN and isinstance(ds, dict) for d, g in ds.items() if isinstance(g, dict) and "n" in g}


def scored(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """The (variant, decoding) pairs eval.json scored on test_seen, in report order: params.VARIANTS, free first."""
    order = {v: i for i, v in enumerate(VARIANTS)}
    return sorted(_pairs(ev), key=lambda vd: (order.get(vd[0], len(order)), vd[0], vd[1] != "free", vd[1]))


def table(model: str, ev: dict[str, Any]) -> list[str]:
    """One row per scored variant and decoding: n, the quality figures with intervals, speed and size."""
    cols = ("n", *QUALITY, *SPEED)
    lines = ["| model | variant | decoding | " + " | ".join(cols) + " |", "|---" * (3 + len(cols)) + "|"]
    for variant, decoding in scored(ev):
        g = group(ev, variant, decoding)
        cells = [fmt(g.get("n"))] + [figure(g, k) for k in QUALITY] + [fmt(g.get(k)) for k in SPEED]
        lines.append(f"| {model} | {variant} | {decoding} | " + " | ".join(cells) + " |")
    return lines


def unseen_scored(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """The (variant, decoding) pairs scored on test_unseen (eval.json's `test_unseen` object)."""
    return sorted(_pairs(group(ev, UNSEEN)), key=lambda vd: (vd[0], vd[1] != "free", vd[1]))


def split_table(model: str, ev: dict[str, Any]) -> list[str]:
    """The figure that says whether a model reads the schema: each variant scored on test_unseen
    (schemas held out of training), next to the same variant on test_seen. Empty when eval.json
    has no test_unseen figures."""
    pairs = unseen_scored(ev)
    if not pairs:
        return []
    cols = ("n", *QUALITY)
    lines = ["| model | variant | decoding | split | " + " | ".join(cols) + " |", "|---" * (4 + len(cols)) + "|"]
    for variant, decoding in pairs:
        for split, g in ((UNSEEN, group(ev, UNSEEN, variant, decoding)), ("test_seen", group(ev, variant, decoding))):
            cells = [fmt(g.get("n"))] + [figure(g, k) for k in QUALITY]
            lines.append(f"| {model} | {variant} | {decoding} | {split} | " + " | ".join(cells) + " |")
    return lines


def tier_table(ev: dict[str, Any]) -> list[str]:
    lines = ["| variant | decoding | " + " | ".join(TIERS) + " |", "|---" * (2 + len(TIERS)) + "|"]
    for variant, decoding in scored(ev):
        cells = [with_n(group(ev, variant, decoding, f"tier_{t}"), "json_exact") for t in TIERS]
        if any(c != "n/a" for c in cells):
            lines.append(f"| {variant} | {decoding} | " + " | ".join(cells) + " |")
    return lines


def check_types(qz: dict[str, Any]) -> list[str]:
    """The GGUF types (and `merged`) quantize.json reports greedy-check figures for: merged, f16, then by name."""
    found = [t for t, g in qz.items() if isinstance(g, dict) and any(k in g for k in CHECK_FIGURES)]
    return sorted(found, key=lambda t: (t != "merged", t != "f16", t))


def check_table(qz: dict[str, Any]) -> list[str]:
    """The quantization check: per type, agreement with the merged model's greedy answers and json_exact."""
    types = check_types(qz)
    if not types:
        return ["No greedy check figures in quantize.json."]
    lines = ["| file | n | " + " | ".join(CHECK_FIGURES) + " | size_mb |", "|---" * (3 + len(CHECK_FIGURES)) + "|"]
    for t in types:
        g = qz[t]
        cells = [figure(g, k) for k in CHECK_FIGURES]
        lines.append(f"| {t} | {fmt(g.get('n'))} | " + " | ".join(cells) + f" | {fmt(g.get('size_mb'))} |")
    return lines


def sizes(qz: dict[str, Any]) -> str:
    found = {name: g["size_mb"] for name, g in qz.items() if isinstance(g, dict) and "size_mb" in g}
    return ", ".join(f"{name} {fmt(mb)} MB" for name, mb in sorted(found.items())) or "n/a"
