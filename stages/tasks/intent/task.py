"""EdgeIntent's task interface (stages/tasks/registry.py): one user query in, one intent label out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core import params as P
from stages.core.board import figure, folder_params, lora_label, new_row, new_table, read_json
from stages.core.params import Params
from stages.core.records import write_rows  # noqa: F401 (the interface's row writer)
from stages.tasks.intent.report import report_lines  # noqa: F401 (the interface's report section)
from stages.tasks.intent.rows import read_intent_jsonl as read_rows  # noqa: F401 (the interface's row reader)

NAME = "intent"
TITLE = "EdgeIntent"
ORDER = 2
METRICS = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall")
BREAKDOWN = "class groups"
EVALUATOR = "stages.tasks.intent.evaluate:main_any"
# eval.json's model keys that are not the MLM -> (display name, source, runtime, quantization, decoding);
# the MLM's name and quantization come from params (intent.mlm: base, qtype), its runtime from eval.json.
OTHER_MODELS = {
    "nlm": ("NLM (hashed n-grams)", "pipeline", "onnxruntime", "int8", "argmax"),
    "tfidf_lr": ("TF-IDF + logistic regression", "baseline", "scikit-learn", "none", "argmax"),
    "majority": ("majority class", "baseline", "none", "none", "constant"),
}


def metric_versions() -> dict[str, int]:
    from stages.tasks.intent.metrics import versions

    return versions()


def test_splits(p: Params) -> dict[str, Path]:
    return {d: Path(f"data/intent/{d}/test.jsonl") for d in sorted(p.intent.datasets)}


def evaluator_args(o: Any) -> tuple[Any, ...]:
    return (o.model, o.data, o.out, o.bootstrap_samples, o.bootstrap_seed, o.labels, o.threads, o.parallel, o.predictions)


def decoding_of(result: dict[str, Any], o: Any) -> str:
    return "argmax" if result.get("label_set") is None else "label-constrained"


def headline(r: dict[str, Any]) -> str:
    keys = [k for k in METRICS if k in r]
    return f"evaluate: n={r['n']} " + " ".join(f"{k}={r[k]:.3f} [{r[k + '_ci95'][0]:.3f}, {r[k + '_ci95'][1]:.3f}]" for k in keys) + " (95% bootstrap intervals)"


def _groups(root: Path, recipe_format: str, name: str) -> dict[str, list[str]] | None:
    """CLINC150's domains (domain -> intents) from its source folder; None for a dataset without groups."""
    domains = root / f"data/sources/{name}/domains.json"
    if recipe_format != "clinc150" or not domains.is_file():
        return None
    data = read_json(domains)
    return {str(d): [str(i) for i in intents] for d, intents in sorted(data.items())}


def leaderboard_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    """One table per dataset of `intent.datasets` (metrics/intent/<d>/eval.json): the NLM, the MLM
    and the baselines, with macro F1 per class group (CLINC150's domains) as the breakdown."""
    tables: list[dict[str, Any]] = []
    if not p.intent.datasets:
        return tables  # no dataset: no table, and the MLM's settings are not read
    mlm = P.intent_mlm(p)
    mlm_desc = (lora_label(mlm.base, "MLM"), "pipeline", "llama.cpp", mlm.qtype.upper(), "label-constrained")
    for name in sorted(p.intent.datasets):
        recipe = p.intent.datasets[name]
        table = new_table(NAME, name, f"{TITLE} {name}, test split", Path(f"data/intent/{name}/test.jsonl"), root, name, METRICS, "macro F1 per class group")
        ev = read_json(root / f"metrics/intent/{name}/eval.json")
        per_class = read_json(root / f"metrics/intent/{name}/per_class.json")
        groups = _groups(root, recipe.format, name)
        card = f"models/intent/{name}/README.md"
        for key in sorted(ev.get("models", {})):
            r = ev["models"][key]
            desc = mlm_desc if key == "mlm" else OTHER_MODELS.get(key, (key, "pipeline", str(r.get("runtime", "unknown")), "unknown", "unknown"))
            display, source, runtime, quant, decoding = desc
            runtime = str(r.get("runtime", runtime))
            metrics = {m: figure(r.get(m), *(r.get(f"{m}_ci95") or (None, None)), r.get("n")) for m in METRICS}
            f1 = per_class.get(key, {})
            if groups is None:
                groups_here = {c: [c] for c in sorted(f1)}
            else:
                groups_here = {g: [c for c in cs if c in f1] for g, cs in groups.items()}
                rest = sorted(set(f1) - {c for cs in groups_here.values() for c in cs})
                groups_here.update({c: [c] for c in rest})  # oos, or a class outside every domain
            breakdown = [{"group": g, "classes": len(cs), "macro_f1": round(sum(f1[c] for c in cs) / len(cs), 6)} for g, cs in groups_here.items() if cs]
            base = folder_params(root / f"models/base/{mlm.base}") if key == "mlm" else None
            table["rows"].append(
                new_row(
                    display, source, runtime, quant, decoding, metrics, card if source == "pipeline" else None,
                    size_mb=r.get("size_mb"), params=base, latency_ms_p50=r.get("latency_ms_p50"),
                    peak_rss_mb=r.get("peak_rss_mb"), n=r.get("n"), breakdown=breakdown,
                )  # fmt: skip
            )
        tables.append(table)
    return tables
