"""Figures from the pipeline's metrics files, formatted for Markdown: shared by `card` (stages/evaluate/card.py)
and `report` (stages/evaluate/report.py), which read params; this module reads none.

A quality figure that eval.json or quantize.json gives with its 95% interval
(`<key>_ci_low`, `<key>_ci_high`) is shown as `0.413 [0.333, 0.493]`, next to the `n` it was
measured on; a key that is absent shows as n/a, and an older metrics file without intervals
shows the bare figure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stages.core.catalog import TIERS
from stages.core.params import VARIANTS

QUALITY = ("json_exact", "field_f1", "schema_valid", "json_parse")
SPEED = ("tokens_per_s", "latency_ms_p50", "latency_ms_p95", "peak_rss_mb", "size_mb")
# quantize.json's greedy-check figures per GGUF type, under the key of each layout it has had:
# `<type>.<figure>` (with `<type>.n`), and the flat `greedy_exact_<type>` of older files.
CHECK_FIGURES = (
    ("exact_agreement", "{t}.exact_agreement", "greedy_exact_{t}"),
    ("prefix_agreement", "{t}.prefix_agreement", "greedy_prefix_{t}"),
    ("json_exact", "{t}.json_exact", "check_json_exact_{t}"),
)


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


def figure(d: dict[str, Any], key: str) -> str:
    """`0.413 [0.333, 0.493]` when `d` has the interval, else the bare figure (or n/a)."""
    v, low, high = d.get(key), d.get(f"{key}_ci_low"), d.get(f"{key}_ci_high")
    if v is None:
        return "n/a"
    if low is None or high is None:
        return fmt(v)
    return f"{fmt(v)} [{fmt(low)}, {fmt(high)}]"


def with_n(d: dict[str, Any], key: str, n_key: str) -> str:
    """`0.413 [0.333, 0.493], n=150`: a figure with its interval and the rows it was measured on."""
    text = figure(d, key)
    return text if text == "n/a" or d.get(n_key) is None else f"{text}, n={fmt(d[n_key])}"


def scored(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """The (variant, decoding) pairs eval.json scored, in report order: params.VARIANTS, free first."""
    heads = {tuple(k.split(".")[:2]) for k in ev if k.count(".") == 2 and k.endswith(".n")}
    order = {v: i for i, v in enumerate(VARIANTS)}
    return sorted(((v, d) for v, d in heads), key=lambda vd: (order.get(vd[0], len(order)), vd[0], vd[1] != "free", vd[1]))


def table(model: str, ev: dict[str, Any]) -> list[str]:
    """One row per scored variant and decoding: n, the quality figures with intervals, speed and size."""
    cols = ("n", *QUALITY, *SPEED)
    lines = ["| model | variant | decoding | " + " | ".join(cols) + " |", "|---" * (3 + len(cols)) + "|"]
    for variant, decoding in scored(ev):
        head = f"{variant}.{decoding}"
        cells = [fmt(ev.get(f"{head}.n"))] + [figure(ev, f"{head}.{k}") for k in QUALITY] + [fmt(ev.get(f"{head}.{k}")) for k in SPEED]
        lines.append(f"| {model} | {variant} | {decoding} | " + " | ".join(cells) + " |")
    return lines


def unseen_scored(ev: dict[str, Any]) -> list[tuple[str, str]]:
    """The (variant, decoding) pairs scored on test_unseen (`test_unseen.<variant>.<decoding>.n`)."""
    heads = {tuple(k.split(".")[1:3]) for k in ev if k.startswith("test_unseen.") and k.count(".") == 3 and k.endswith(".n")}
    return sorted(heads, key=lambda vd: (vd[0], vd[1] != "free", vd[1]))


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
        for split, head in (("test_unseen", f"test_unseen.{variant}.{decoding}"), ("test_seen", f"{variant}.{decoding}")):
            cells = [fmt(ev.get(f"{head}.n"))] + [figure(ev, f"{head}.{k}") for k in QUALITY]
            lines.append(f"| {model} | {variant} | {decoding} | {split} | " + " | ".join(cells) + " |")
    return lines


def tier_table(ev: dict[str, Any]) -> list[str]:
    lines = ["| variant | decoding | " + " | ".join(TIERS) + " |", "|---" * (2 + len(TIERS)) + "|"]
    for variant, decoding in scored(ev):
        head = f"{variant}.{decoding}"
        cells = [with_n(ev, f"{head}.tier_{t}.json_exact", f"{head}.tier_{t}.n") for t in TIERS]
        if any(c != "n/a" for c in cells):
            lines.append(f"| {variant} | {decoding} | " + " | ".join(cells) + " |")
    return lines


def check_types(qz: dict[str, Any]) -> list[str]:
    """The GGUF types (and `merged`) quantize.json reports greedy-check figures for: merged, f16, then by name."""
    found: dict[str, None] = {}
    for k in qz:
        for _, new, old in CHECK_FIGURES:
            for pattern in (new, old):
                head, _, tail = pattern.partition("{t}")
                if k.startswith(head) and k.endswith(tail) and not k.endswith(("_ci_low", "_ci_high")):
                    name = k[len(head) : len(k) - len(tail)]
                    if name and "." not in name:
                        found[name] = None
    return sorted(found, key=lambda t: (t != "merged", t != "f16", t))


def check_table(qz: dict[str, Any]) -> list[str]:
    """The quantization check: per type, agreement with the merged model's greedy answers and json_exact."""
    types = check_types(qz)
    if not types:
        return ["No greedy check figures in quantize.json."]
    lines = ["| file | n | " + " | ".join(name for name, _, _ in CHECK_FIGURES) + " | size_mb |", "|---" * (3 + len(CHECK_FIGURES)) + "|"]
    for t in types:
        cells = []
        for _, new, old in CHECK_FIGURES:
            key = next((k for k in (new.format(t=t), old.format(t=t)) if k in qz), new.format(t=t))
            cells.append(figure(qz, key))
        n = qz.get(f"{t}.n", qz.get("check_rows"))
        size = qz.get(f"{t}.size_mb", qz.get(f"{t}_size_mb"))
        lines.append(f"| {t} | {fmt(n)} | " + " | ".join(cells) + f" | {fmt(size)} |")
    return lines


def sizes(qz: dict[str, Any]) -> str:
    found = {k.removesuffix(".size_mb"): v for k, v in qz.items() if k.endswith(".size_mb")}
    found = found or {k.removesuffix("_size_mb").replace("q4", "4-bit"): v for k, v in qz.items() if k.endswith("_size_mb")}
    return ", ".join(f"{name} {fmt(mb)} MB" for name, mb in sorted(found.items())) or "n/a"
