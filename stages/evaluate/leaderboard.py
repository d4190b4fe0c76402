"""The leaderboard's tables: every scored model on every task, read from the metrics files.

    board = collect(params, Path("."), Path("leaderboard/submissions"))
    board["tables"][0]["rows"][0]["metrics"]["json_exact"]  # {"value": 0.61, "ci95": [0.52, 0.70], "n": 120}

One table per task and test set:
- EdgeJSON: the release dataset's test split, each model of `models` (metrics/models/<m>/eval.json),
  one row per variant (runtime and quantization) and decoding, with its per-tier breakdown;
- EdgeIntent: each dataset of `intent.datasets` (metrics/intent/<d>/eval.json): the NLM and the
  MLM, and the baselines (majority class, TF-IDF + logistic regression), with F1 per class group
  (CLINC150's domains, from per_class.json) as the breakdown;
- EdgeFuncCall: each dataset of `funccall.datasets` (metrics/funccall/<f>/mlm/eval.json) and the
  BFCL categories scored beside it, one row per decoding, with the per-domain breakdown.

Every figure is read from those files, never typed in: a quality figure keeps its interval and n,
size, tokens/s, p50 latency and peak memory are copied where the file has them (absent: None).
Each table also carries the sha256 of its test file (what a submission must have been scored on),
and each fine-tuned model's row the parameter count of its base (models/base/<base>, from the
safetensors headers: LoRA merged into the base keeps its count).

Submissions (stages/evaluate/submission.py) are checked, then placed: a submission on the table's
current test split hash, with the registry's metric versions, is a row like the pipeline's; one on
another hash is listed as stale, and one scored with another metric version is flagged; both with
the reason. Nothing is mixed in that was not scored on the same rows by the same definitions.

Size classes: NLM (under 10 MB), MLM (10M to 250M parameters), larger (above 250M) and unknown (at
least 10 MB with no parameter count). The Pareto frontier of each table (quality of its primary
metric against size) is marked on its rows: no other current row is as small and as good, with
one of the two strictly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.evaluate.submission import TASKS, as_row, folder_params, load_submissions, registry, sha256_file

NLM_MAX_MB = 10.0
MLM_PARAMS = (10_000_000, 250_000_000)

# the quality metrics shown per task, the first one primary (the chart's y axis, the default sort)
TASK_METRICS = {
    "edgejson": ("json_exact", "field_f1", "schema_valid", "json_parse"),
    "intent": ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall"),
    "funccall": ("ast_accuracy", "name_accuracy", "argument_f1", "irrelevance_accuracy", "parallel_accuracy", "json_parse", "schema_valid"),
}
INTENT_MODELS = {  # eval.json's model key -> (display name, source, runtime, quantization, decoding)
    "mlm": ("SmolLM2-135M LoRA (MLM)", "pipeline", "llama.cpp", "Q8_0", "label-constrained"),
    "nlm": ("NLM (hashed n-grams)", "pipeline", "onnxruntime", "int8", "argmax"),
    "tfidf_lr": ("TF-IDF + logistic regression", "baseline", "scikit-learn", "none", "argmax"),
    "majority": ("majority class", "baseline", "none", "none", "constant"),
}


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found; run `dvc repro` first") from None
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None


def size_class(size_mb: float | None, params: int | None) -> str:
    if size_mb is not None and size_mb < NLM_MAX_MB:
        return "NLM"
    if params is None:
        return "unknown"
    if params > MLM_PARAMS[1]:
        return "larger"
    return "MLM"


def figure(value: Any, lo: Any, hi: Any, n: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": float(value), "ci95": [float(lo), float(hi)], "n": int(n)}


def _table(task: str, dataset: str, title: str, split: Path, root: Path, version: str, metrics: tuple[str, ...], breakdown: str) -> dict[str, Any]:
    return {
        "id": f"{task}-{dataset}",
        "task": task,
        "dataset": dataset,
        "title": title,
        "dataset_version": version,
        "split_file": str(split),
        "split_sha256": sha256_file(root / split),
        "metrics": list(metrics),
        "primary": metrics[0],
        "breakdown": breakdown,
        "rows": [],
        "stale": [],
    }


def _row(model: str, source: str, runtime: str, quant: str, decoding: str, metrics: dict[str, Any], card: str | None, **extra: Any) -> dict[str, Any]:
    row = {
        "model": model,
        "source": source,
        "variant": f"{runtime} {quant}" if quant not in ("", "none") else runtime,
        "runtime": runtime,
        "quantization": quant,
        "decoding": decoding,
        "metrics": {k: v for k, v in metrics.items() if v is not None},
        "card": card,
        "size_mb": None,
        "params": None,
        "tokens_per_s": None,
        "latency_ms_p50": None,
        "peak_rss_mb": None,
        "n": None,
        "commit": "this build",
        "breakdown": [],
    }
    row.update(extra)
    return row


def edgejson_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    version = p.release.dataset
    table = _table("edgejson", version, f"EdgeJSON {version}, test split", Path(f"data/{version}/test.jsonl"), root, version, TASK_METRICS["edgejson"], "per tier")
    for name in sorted(p.models):
        flat = read_json(root / f"metrics/models/{name}/eval.json")
        # "<variant>.<decoding>.<figure>" keys; the unprefixed copy of the release variant and test_unseen are left out
        prefixes = {".".join(k.split(".")[:2]) for k in flat if k.count(".") >= 2 and k.split(".")[1] in ("free", "constrained")}
        for prefix in sorted(prefixes - {p_ for p_ in prefixes if p_.startswith("test_unseen.")}):
            variant, decoding = prefix.split(".")
            runtime, quant = ("llama.cpp", variant.removeprefix("gguf_").upper()) if variant.startswith("gguf_") else ("transformers", variant)

            def get(key: str, pre: str = prefix, f: dict[str, Any] = flat) -> Any:
                return f.get(f"{pre}.{key}")

            metrics = {m: figure(get(m), get(f"{m}_ci_low"), get(f"{m}_ci_high"), get("n")) for m in TASK_METRICS["edgejson"]}
            tiers = sorted({k.split(".")[2].removeprefix("tier_") for k in flat if k.startswith(prefix + ".tier_")})
            breakdown = [
                {"group": t, "metrics": {m: figure(get(f"tier_{t}.{m}"), get(f"tier_{t}.{m}_ci_low"), get(f"tier_{t}.{m}_ci_high"), get(f"tier_{t}.n")) for m in TASK_METRICS["edgejson"] if get(f"tier_{t}.{m}") is not None}}
                for t in ("simple", "medium", "complex")
                if t in tiers
            ]
            table["rows"].append(
                _row(
                    name, "pipeline", runtime, quant, decoding, metrics, f"models/{name}/README.md",
                    size_mb=get("size_mb"), params=folder_params(root / f"models/base/{p.models[name].base}"), tokens_per_s=get("tokens_per_s"),
                    latency_ms_p50=get("latency_ms_p50"), peak_rss_mb=get("peak_rss_mb"), n=get("n"), breakdown=breakdown,
                )  # fmt: skip
            )
    return [table]


def _intent_groups(root: Path, recipe_format: str, name: str) -> dict[str, list[str]] | None:
    """CLINC150's domains (domain -> intents) from its source folder; None for a dataset without groups."""
    domains = root / f"data/sources/{name}/domains.json"
    if recipe_format != "clinc150" or not domains.is_file():
        return None
    data = read_json(domains)
    return {str(d): [str(i) for i in intents] for d, intents in sorted(data.items())}


def intent_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    tables = []
    for name in sorted(p.intent.datasets):
        recipe = p.intent.datasets[name]
        table = _table("intent", name, f"EdgeIntent {name}, test split", Path(f"data/intent/{name}/test.jsonl"), root, name, TASK_METRICS["intent"], "macro F1 per class group")
        ev = read_json(root / f"metrics/intent/{name}/eval.json")
        per_class = read_json(root / f"metrics/intent/{name}/per_class.json")
        groups = _intent_groups(root, recipe.format, name)
        card = f"models/intent/{name}/README.md"
        for key in sorted(ev.get("models", {})):
            r = ev["models"][key]
            display, source, runtime, quant, decoding = INTENT_MODELS.get(key, (key, "pipeline", str(r.get("runtime", "unknown")), "unknown", "unknown"))
            runtime = str(r.get("runtime", runtime))
            metrics = {m: figure(r.get(m), *(r.get(f"{m}_ci95") or (None, None)), r.get("n")) for m in TASK_METRICS["intent"]}
            f1 = per_class.get(key, {})
            if groups is None:
                groups_here = {c: [c] for c in sorted(f1)}
            else:
                groups_here = {g: [c for c in cs if c in f1] for g, cs in groups.items()}
                rest = sorted(set(f1) - {c for cs in groups_here.values() for c in cs})
                groups_here.update({c: [c] for c in rest})  # oos, or a class outside every domain
            breakdown = [{"group": g, "classes": len(cs), "macro_f1": round(sum(f1[c] for c in cs) / len(cs), 6)} for g, cs in groups_here.items() if cs]
            base = folder_params(root / f"models/base/{P.intent_mlm(p).base}") if key == "mlm" else None
            table["rows"].append(
                _row(
                    display, source, runtime, quant, decoding, metrics, card if source == "pipeline" else None,
                    size_mb=r.get("size_mb"), params=base, latency_ms_p50=r.get("latency_ms_p50"),
                    peak_rss_mb=r.get("peak_rss_mb"), n=r.get("n"), breakdown=breakdown,
                )  # fmt: skip
            )
        tables.append(table)
    return tables


def _funccall_row(section: dict[str, Any], decoding: str, top: dict[str, Any], params: int | None, card: str) -> dict[str, Any]:
    r = section[decoding]
    metrics = {m: figure(r.get(m), *(r.get(f"{m}_ci95") or (None, None)), r.get(f"{m}_n")) for m in TASK_METRICS["funccall"]}
    breakdown = [
        {"group": d, "metrics": {"ast_accuracy": figure(v.get("ast_accuracy"), *v["ast_accuracy_ci95"], v.get("ast_accuracy_n"))}}
        for d, v in sorted(r.get("by_domain", {}).items())
    ]
    return _row(
        "SmolLM2-135M LoRA (funccall)", "pipeline", str(top.get("runtime", "llama.cpp")), "Q8_0", decoding, metrics, card,
        size_mb=top.get("size_mb"), params=params, tokens_per_s=r.get("tokens_per_s"), peak_rss_mb=section.get("peak_rss_mb", top.get("peak_rss_mb")),
        n=r.get("n"), breakdown=breakdown,
    )  # fmt: skip


def funccall_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    tables = []
    for name in sorted(p.funccall.datasets):
        ev = read_json(root / f"metrics/funccall/{name}/mlm/eval.json")
        params = folder_params(root / f"models/base/{P.funccall_mlm(p).base}")
        card = f"models/funccall/{name}/README.md"
        sets = [(name, f"EdgeFuncCall {name}, test split", Path(f"data/funccall/{name}/test.jsonl"), "per domain")]
        sets += [(f"bfcl_{c}", f"BFCL v4 {c} (outside test, first rows)", Path(f"data/funccall/{name}/bfcl/bfcl_{c}.jsonl"), "per category") for c in p.funccall.bfcl]
        for key, title, split, breakdown in sets:
            if key not in ev:
                continue
            table = _table("funccall", key, title, split, root, name, TASK_METRICS["funccall"], breakdown)
            for decoding in ("constrained", "free"):
                if decoding in ev[key]:
                    table["rows"].append(_funccall_row(ev[key], decoding, ev, params, card))
            tables.append(table)
    return tables


def pareto(rows: list[dict[str, Any]], metric: str) -> None:
    """Mark `pareto` on each row: True when no other row is at most as large and at least as good, one strictly."""
    points = [(r.get("size_mb"), (r["metrics"].get(metric) or {}).get("value")) for r in rows]
    for i, row in enumerate(rows):
        s, q = points[i]
        if s is None or q is None:
            row["pareto"] = False
            continue
        row["pareto"] = not any(
            j != i and s2 is not None and q2 is not None and s2 <= s and q2 >= q and (s2 < s or q2 > q) for j, (s2, q2) in enumerate(points)
        )


def place_submissions(tables: list[dict[str, Any]], submissions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put each checked submission in its table, as a row or in the table's `stale` list; returns
    the submissions that match no table (also stale, with the reason)."""
    by_key = {(t["task"], t["dataset"]): t for t in tables}
    orphans = []
    for sub in submissions:
        table = by_key.get((sub["task"], sub["dataset"]))
        row = as_row(sub)
        if table is None:
            row["reason"] = f"no {TASKS.get(sub['task'], sub['task'])} table for dataset {sub['dataset']!r} in this build"
            orphans.append(row)
            continue
        current = registry(sub["task"])
        changed = [f"{m} v{v} (now v{current[m]})" for m, v in sorted(sub["metric_versions"].items()) if current.get(m) != v]
        if sub["split_sha256"] != table["split_sha256"]:
            row["reason"] = f"scored on test split {sub['split_sha256'][:12]}; the current split is {table['split_sha256'][:12]}"
            table["stale"].append(row)
        elif changed:
            row["reason"] = "scored with an older metric definition: " + ", ".join(changed)
            table["stale"].append(row)
        else:
            table["rows"].append(row)
    return orphans


def finish(table: dict[str, Any]) -> None:
    """Size classes, row ids and the Pareto frontier, once every row is in."""
    for i, row in enumerate(table["rows"]):
        row["id"] = f"{table['id']}-{i}"
        row["size_class"] = size_class(row.get("size_mb"), row.get("params"))
        for key in ("size_mb", "tokens_per_s", "latency_ms_p50", "peak_rss_mb"):
            v = row.get(key)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise SLMBenchError(f"{table['id']}: {row['model']}: {key} is {v!r}; expected a finite number")
    pareto(table["rows"], table["primary"])


def collect(p: Params, root: Path, submissions_dir: Path | None) -> dict[str, Any]:
    """Every table of every task the params define, with the submissions placed (checked first)."""
    subs = load_submissions(root / submissions_dir) if submissions_dir is not None else []
    tables = edgejson_tables(p, root) + intent_tables(p, root) + funccall_tables(p, root)
    orphans = place_submissions(tables, subs)
    for t in tables:
        finish(t)
    return {
        "tasks": [{"task": k, "title": v, "tables": [t["id"] for t in tables if t["task"] == k]} for k, v in TASKS.items() if any(t["task"] == k for t in tables)],
        "tables": tables,
        "orphans": orphans,
        "registry": {k: registry(k) for k in TASKS},
    }
