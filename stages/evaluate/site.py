"""The leaderboard as a static site: an overview page and one page per task, from `leaderboard.collect`.

    write_site(board, Path("site"))

The folder holds `index.html`, `<task>.html`, `leaderboard.json` (every table, as the pages show
it), `assets/` (web/leaderboard: the script and the style sheet) and `vendor/` (vega, vega-lite and
vega-embed with their package.json, fetched once from the npm registry by `bash .ci/vega.sh` into
<venv>/share/slmbench/vega; override with SLMBENCH_VEGA). Nothing is loaded from elsewhere: the
pages work from file:// and from any static server.

Every table is written in the HTML itself (a real <table>, column headers with scope, a caption),
so it reads without JavaScript; the script adds sorting (header buttons, so the keyboard works),
the filters, the breakdown rows and the charts. Every text that comes from a metrics file or a
submission is escaped here (html.escape) and, inside the pages' JSON, has its <, > and & written as
\\u escapes, so no submitted text can end a script block or become markup; the script only ever
sets textContent. A chart's points carry their row's id: clicking one shows that row.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_dir
from stages.evaluate.submission import task_titles
from stages.tasks import registry as task_registry

ASSETS = ("leaderboard.js", "leaderboard.css")
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega.package.json", "vega-lite.package.json", "vega-embed.package.json")
ASSETS_DIR = Path(__file__).resolve().parents[2] / "web" / "leaderboard"  # the repo's web/leaderboard (editable install)
LABELS = {
    "json_exact": "JSONExact", "field_f1": "field F1", "schema_valid": "schema valid", "json_parse": "JSON parse",
    "accuracy": "accuracy", "macro_f1": "macro F1", "in_scope_accuracy": "in-scope acc.", "oos_recall": "OOS recall",
    "ast_accuracy": "AST accuracy", "name_accuracy": "name acc.", "argument_f1": "argument F1", "irrelevance_accuracy": "irrelevance acc.",
    "parallel_accuracy": "parallel acc.",
}  # fmt: skip


def vendor_dir() -> Path:
    return Path(os.environ.get("SLMBENCH_VEGA", Path(sys.prefix) / "share" / "slmbench" / "vega"))


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page_json(obj: Any) -> str:
    """JSON safe inside a <script> block: no <, > or & survives as itself."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _metric_cell(fig: dict[str, Any] | None, row_n: Any = None, show_n: bool = False) -> str:
    """value [interval]; the figure's own n when asked, or when it is a share of fewer rows than the row's (e.g. the no-call rows)."""
    if not fig:
        return '<td class="num" data-value="">—</td>'
    lo, hi = fig["ci95"]
    n = f' <span class="ci">n={fig["n"]}</span>' if show_n or (row_n is not None and fig["n"] != row_n) else ""
    return f'<td class="num" data-value="{fig["value"]:.6f}">{fig["value"]:.3f} <span class="ci">[{lo:.3f}, {hi:.3f}]</span>{n}</td>'


def _num_cell(v: Any, digits: int = 1) -> str:
    if v is None:
        return '<td class="num" data-value="">—</td>'
    return f'<td class="num" data-value="{float(v):.6f}">{esc(fmt(float(v), digits))}</td>'


def _model_cell(row: dict[str, Any], depth: str) -> str:
    name = esc(row["model"])
    if row.get("card"):
        name = f'<a href="{esc(depth + row["card"])}">{name}</a>'
    extra = ""
    if row["source"] == "submission":
        bits = [f"base {row['base']}" if row.get("base") else "", f"licence {row['licence']}" if row.get("licence") else ""]
        extra = "".join(f'<span class="meta">{esc(b)}</span>' for b in bits if b)
    star = ' <span class="pareto" title="on the quality-size Pareto frontier">◆</span>' if row.get("pareto") else ""
    return f'<th scope="row" data-value="{esc(row["model"])}">{name}{star}{extra}</th>'


def _breakdown_table(row: dict[str, Any], table: dict[str, Any]) -> str:
    items = row["breakdown"]
    if items and "classes" in items[0]:  # per-class F1 averaged per group: no interval
        head = '<tr><th scope="col">group</th><th scope="col">classes</th><th scope="col">macro F1 (mean of per-class F1)</th></tr>'
        body = "".join(f'<tr><th scope="row">{esc(b["group"])}</th><td class="num">{b["classes"]}</td><td class="num">{b["macro_f1"]:.3f}</td></tr>' for b in items)
        return f'<table class="breakdown"><caption>{esc(table["breakdown"])}; no interval (per-class F1 has none)</caption><thead>{head}</thead><tbody>{body}</tbody></table>'
    metrics = [m for m in table["metrics"] if any(m in b["metrics"] for b in items)]
    head = '<tr><th scope="col">group</th>' + "".join(f'<th scope="col">{esc(LABELS.get(m, m))}</th>' for m in metrics) + '<th scope="col">n</th></tr>'
    body = ""
    for b in items:
        n = next((f["n"] for f in b["metrics"].values() if f), None)
        body += f'<tr><th scope="row">{esc(b["group"])}</th>' + "".join(_metric_cell(b["metrics"].get(m)) for m in metrics) + f'<td class="num">{esc(fmt(n))}</td></tr>'
    return f'<table class="breakdown"><caption>{esc(table["breakdown"])}, 95% intervals</caption><thead>{head}</thead><tbody>{body}</tbody></table>'


def table_html(table: dict[str, Any], depth: str = "../") -> str:
    metrics = table["metrics"]
    present = [m for m in metrics if any(m in r["metrics"] for r in table["rows"])] or metrics[:1]
    cols = ["model", "source", "variant", "decoding"] + present + ["size MB", "params (M)", "size class", "tokens/s", "p50 ms", "peak MB", "n", "version · commit", "breakdown"]
    labels = [LABELS.get(c, c) for c in cols]
    head = "".join(
        f'<th scope="col" aria-sort="none"><button type="button" class="sort" data-col="{i}">{esc(label)}</button></th>' if col != "breakdown" else f'<th scope="col">{esc(label)}</th>'
        for i, (col, label) in enumerate(zip(cols, labels))
    )
    bodies = []
    for row in table["rows"]:
        bd_id = f"bd-{row['id']}"
        cells = [
            _model_cell(row, depth),
            f'<td data-value="{esc(row["source"])}">{esc(row["source"])}</td>',
            f'<td data-value="{esc(row["variant"])}">{esc(row["variant"])}</td>',
            f'<td data-value="{esc(row["decoding"])}">{esc(row["decoding"])}</td>',
            *(_metric_cell(row["metrics"].get(m), row.get("n")) for m in present),
            _num_cell(row.get("size_mb"), 2),
            _num_cell(row["params"] / 1e6 if row.get("params") else None, 1),
            f'<td data-value="{esc(row["size_class"])}">{esc(row["size_class"])}</td>',
            _num_cell(row.get("tokens_per_s"), 1),
            _num_cell(row.get("latency_ms_p50"), 1),
            _num_cell(row.get("peak_rss_mb"), 0),
            _num_cell(row.get("n"), 0),
            f'<td data-value="{esc(table["dataset_version"])} {esc(row["commit"])}">{esc(table["dataset_version"])} · {esc(row["commit"])}</td>',
        ]
        if row["breakdown"]:
            cells.append(f'<td><button type="button" class="open" aria-expanded="false" aria-controls="{esc(bd_id)}">{esc(task_registry.get(table["task"], "table task").BREAKDOWN)}</button></td>')
            detail = f'<tr class="detail" id="{esc(bd_id)}" hidden><td colspan="{len(cols)}">{_breakdown_table(row, table)}</td></tr>'
        else:
            cells.append("<td>—</td>")
            detail = ""
        attrs = f'data-id="{esc(row["id"])}" data-runtime="{esc(row["runtime"])}" data-size-class="{esc(row["size_class"])}" data-decoding="{esc(row["decoding"])}" data-source="{esc(row["source"])}"'
        bodies.append(f'<tbody class="entry" {attrs}><tr id="{esc(row["id"])}">{"".join(cells)}</tr>{detail}</tbody>')
    caption = (
        f'{esc(table["title"])}: {len(table["rows"])} rows; quality figures with 95% bootstrap intervals; '
        f'test file <code>{esc(table["split_file"])}</code>, sha256 <code>{esc(table["split_sha256"][:16])}…</code>'
    )
    stale = ""
    if table["stale"]:
        items = "".join(f'<li><span class="name">{esc(r["model"])}</span> ({esc(r["decoding"])}): {esc(r["reason"])}</li>' for r in table["stale"])
        stale = f'<div class="stale"><h4>Not shown: {len(table["stale"])} stale or flagged submission(s)</h4><ul>{items}</ul></div>'
    return (
        f'<section class="board" id="{esc(table["id"])}"><h3>{esc(table["title"])}</h3>'
        f'<div class="chart" id="chart-{esc(table["id"])}" data-table="{esc(table["id"])}" role="img" aria-label="{esc(table["title"])}: {esc(LABELS.get(table["primary"], table["primary"]))} against size, Pareto frontier drawn"></div>'
        f'<div class="scroll"><table class="lb" data-table="{esc(table["id"])}"><caption>{caption}</caption><thead><tr>{head}</tr></thead>{"".join(bodies)}</table></div>'
        f"{stale}</section>"
    )


def chart_spec(table: dict[str, Any]) -> dict[str, Any]:
    """A vega-lite spec: the primary metric against size (log scale), one point per table row, the frontier as a line."""
    m = table["primary"]
    points = [
        {"id": r["id"], "model": r["model"], "variant": r["variant"], "decoding": r["decoding"], "source": r["source"],
         "size_mb": r["size_mb"], "value": r["metrics"][m]["value"], "pareto": bool(r.get("pareto"))}
        for r in table["rows"] if r.get("size_mb") and m in r["metrics"]
    ]  # fmt: skip
    frontier = sorted((p for p in points if p["pareto"]), key=lambda p: p["size_mb"])
    label = LABELS.get(m, m)
    x = {"field": "size_mb", "type": "quantitative", "scale": {"type": "log"}, "title": "size (MB, log scale)"}
    y = {"field": "value", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": label}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 520,
        "height": 260,
        "title": f"{label} against size",
        "layer": [
            {"data": {"values": frontier}, "mark": {"type": "line", "color": "#888", "strokeDash": [4, 3]}, "encoding": {"x": x, "y": y}},
            {
                "data": {"values": points},
                "mark": {"type": "point", "filled": True, "size": 90, "cursor": "pointer"},
                "encoding": {
                    "x": x, "y": y,
                    "color": {"field": "source", "type": "nominal", "title": "source"},
                    "shape": {"field": "decoding", "type": "nominal", "title": "decoding"},
                    "tooltip": [{"field": "model"}, {"field": "variant"}, {"field": "decoding"}, {"field": "value", "title": label, "format": ".3f"}, {"field": "size_mb", "title": "MB", "format": ".2f"}],
                },  # fmt: skip
            },
        ],
    }


def _page(title: str, body: str, data: dict[str, Any], nav: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="stylesheet" href="assets/leaderboard.css">\n'
        '<script src="vendor/vega.min.js"></script>\n<script src="vendor/vega-lite.min.js"></script>\n<script src="vendor/vega-embed.min.js"></script>\n'
        "</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1><nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n"
        f'<script type="application/json" id="board-data">{page_json(data)}</script>\n'
        '<script src="assets/leaderboard.js"></script>\n</body>\n</html>\n'
    )


def _nav(board: dict[str, Any], here: str) -> str:
    links = [("index.html", "Overview")] + [(f"{t['task']}.html", t["title"]) for t in board["tasks"]]
    current = ' aria-current="page"'
    return " ".join(f'<a href="{esc(h)}"{current if h == here else ""}>{esc(label)}</a>' for h, label in links)


def _filters(tables: list[dict[str, Any]]) -> str:
    def options(key: str) -> list[str]:
        return sorted({str(r[key]) for t in tables for r in t["rows"]})

    out = []
    for key, label in (("runtime", "runtime"), ("size_class", "size class"), ("decoding", "decoding")):
        opts = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in options(key))
        out.append(f'<label>{esc(label)} <select class="filter" data-key="{esc(key.replace("_", "-"))}"><option value="">all</option>{opts}</select></label>')
    return f'<form class="filters" aria-label="filter the rows">{"".join(out)}</form>'


def overview(board: dict[str, Any]) -> str:
    rows = []
    for t in board["tables"]:
        best = max(t["rows"], key=lambda r: (r["metrics"].get(t["primary"]) or {}).get("value", -1.0), default=None)
        fig = best["metrics"].get(t["primary"]) if best else None
        task_title = task_titles()[t["task"]]
        rows.append(
            f'<tr><th scope="row"><a href="{esc(t["task"])}.html#{esc(t["id"])}">{esc(task_title)}: {esc(t["title"])}</a></th>'
            f'<td>{esc(LABELS.get(t["primary"], t["primary"]))}</td>'
            f'<td>{esc(best["model"]) if best else "—"} {("(" + esc(best["variant"]) + ", " + esc(best["decoding"]) + ")") if best else ""}</td>'
            f"{_metric_cell(fig, show_n=True)}"
            f'<td class="num">{len(t["rows"])}</td><td class="num">{sum(1 for r in t["rows"] if r["source"] == "submission")}</td><td class="num">{len(t["stale"])}</td></tr>'
        )
    head = "".join(f'<th scope="col">{h}</th>' for h in ("test set", "primary metric", "best row", "its figure [95% interval], n", "rows", "submissions", "stale or flagged"))
    orphans = ""
    if board["orphans"]:
        items = "".join(f'<li><span class="name">{esc(r["model"])}</span>: {esc(r["reason"])}</li>' for r in board["orphans"])
        orphans = f'<div class="stale"><h2>Submissions matching no table</h2><ul>{items}</ul></div>'
    return (
        "<p>Every model SLMBench builds, its baselines and the submitted models, on every task's test sets, with 95% "
        "bootstrap intervals, size and speed. Each figure is read from the pipeline's metrics files and the "
        "submission files when the site is built.</p>"
        f'<table class="lb overview"><caption>Best row of each test set by its primary metric</caption><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{orphans}"
    )


def write_site(board: dict[str, Any], out: Path, assets: Path | None = None, vendor: Path | None = None) -> Path:
    """Write every page into `out`, replaced atomically: a failure leaves the previous site whole."""
    assets = Path(assets) if assets is not None else ASSETS_DIR
    vendor = Path(vendor) if vendor is not None else vendor_dir()
    missing = [f for f in ASSETS if not (assets / f).is_file()]
    if missing:
        raise SLMBenchError(f"{assets}: the leaderboard's {', '.join(missing)} not found; expected the repo's web/leaderboard folder")
    missing = [f for f in VENDOR if not (vendor / f).is_file()]
    if missing:
        raise SLMBenchError(f"{vendor}: {', '.join(missing)} not found; run `bash .ci/vega.sh` (fetches vega from the npm registry once)")
    pages = {"index.html": _page("SLMBench leaderboard", overview(board), {"tables": [], "specs": {}}, _nav(board, "index.html"))}
    for task in board["tasks"]:
        tables = [t for t in board["tables"] if t["task"] == task["task"]]
        body = _filters(tables) + "".join(table_html(t) for t in tables)
        data = {"tables": [t["id"] for t in tables], "specs": {t["id"]: chart_spec(t) for t in tables}}
        here = f"{task['task']}.html"
        pages[here] = _page(f"SLMBench leaderboard: {task['title']}", body, data, _nav(board, here))
    with atomic_dir(Path(out)) as staging:
        (staging / "assets").mkdir()
        (staging / "vendor").mkdir()
        for f in ASSETS:
            shutil.copyfile(assets / f, staging / "assets" / f)
        for f in VENDOR:
            shutil.copyfile(vendor / f, staging / "vendor" / f)
        for name, text in pages.items():
            (staging / name).write_text(text, encoding="utf-8")
        (staging / "leaderboard.json").write_text(json.dumps(board, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return Path(out)


def main(params_path: Path, submissions: Path, out: Path) -> str:
    """`slmbench leaderboard`: collect every table (submissions checked first), then write the site."""
    from stages.core import params as P
    from stages.evaluate.leaderboard import collect

    board = collect(P.load(params_path), Path("."), Path(submissions))
    write_site(board, Path(out))
    n_rows = sum(len(t["rows"]) for t in board["tables"])
    n_stale = sum(len(t["stale"]) for t in board["tables"]) + len(board["orphans"])
    return f"leaderboard: {len(board['tables'])} tables, {n_rows} rows, {n_stale} stale or flagged submission(s) in {out}/index.html"
