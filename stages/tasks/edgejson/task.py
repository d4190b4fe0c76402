"""EdgeJSON's task interface (stages/tasks/registry.py): text and a JSON Schema in, JSON out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.board import figure, folder_params, new_row, new_table, read_json
from stages.core.params import Params
from stages.core.records import read_rows, write_rows  # noqa: F401 (the interface's row reader and writer)
from stages.tasks.edgejson.report import report_lines  # noqa: F401 (the interface's report section)

NAME = "edgejson"
TITLE = "EdgeJSON"
ORDER = 1
METRICS = ("json_exact", "field_f1", "schema_valid", "json_parse")
BREAKDOWN = "tiers"
EVALUATOR = "stages.tasks.edgejson.evaluation:main_any"
TIERS = ("simple", "medium", "complex")


def metric_versions() -> dict[str, int]:
    from stages.tasks.edgejson.scoring import versions

    return versions()


def test_splits(p: Params) -> dict[str, Path]:
    return {p.release.dataset: Path(f"data/{p.release.dataset}/test.jsonl")}


def evaluator_args(o: Any) -> tuple[Any, ...]:
    return (o.model, o.data, o.schemas, o.constrained, o.limit, o.out, o.max_new_tokens, o.threads, o.enforce_formats, o.bootstrap_samples, o.bootstrap_seed, o.parallel, o.predictions)


def decoding_of(result: dict[str, Any], o: Any) -> str:
    return "constrained" if o.constrained else "free"


def headline(r: dict[str, Any]) -> str:
    figures = " ".join(f"{m}={r[m]:.3f} [{r[m + '_ci95'][0]:.3f}, {r[m + '_ci95'][1]:.3f}]" for m in METRICS)
    return f"evaluate: n={r['n']} {figures} (95% bootstrap intervals)"


def _quant(variant: str) -> tuple[str, str]:
    """(runtime, quantization) of an eval.json variant: gguf_<type> runs in llama.cpp, hf_* in transformers."""
    return ("llama.cpp", variant.removeprefix("gguf_").upper()) if variant.startswith("gguf_") else ("transformers", variant)


def leaderboard_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    """The release dataset's test split and, where scored, its unseen-schema split: one row per
    model of `models`, variant and decoding, from metrics/models/<m>/eval.json, with the per-tier breakdown."""
    version = p.release.dataset
    table = new_table(NAME, version, f"{TITLE} {version}, test split", Path(f"data/{version}/test.jsonl"), root, version, METRICS, "per tier")

    def fig(d: dict[str, Any], m: str) -> Any:
        """Figure `m` of a group: `m`, `m_ci95` and `m_n` (the one metrics layout)."""
        return figure(d.get(m), *(d.get(f"{m}_ci95") or (None, None)), d.get(f"{m}_n", d.get("n")))

    for name in sorted(p.models):
        ev = read_json(root / f"metrics/models/{name}/eval.json")
        # {<variant>: {<decoding>: figures}} on test_seen; the test_unseen object is left out
        pairs = sorted((v, d) for v, ds in ev.items() if v != "test_unseen" and isinstance(ds, dict) for d in ds if d in ("free", "constrained"))
        for variant, decoding in pairs:
            runtime, quant = _quant(variant)
            g: dict[str, Any] = ev[variant][decoding]
            metrics = {m: fig(g, m) for m in METRICS}
            breakdown = [
                {"group": t, "metrics": {m: fig(g[f"tier_{t}"], m) for m in METRICS if g[f"tier_{t}"].get(m) is not None}}
                for t in TIERS
                if isinstance(g.get(f"tier_{t}"), dict)
            ]
            table["rows"].append(
                new_row(
                    name, "pipeline", runtime, quant, decoding, metrics, f"models/{name}/README.md",
                    size_mb=g.get("size_mb"), params=folder_params(root / f"models/base/{p.models[name].base}"), tokens_per_s=g.get("tokens_per_s"),
                    latency_ms_p50=g.get("latency_ms_p50"), peak_rss_mb=g.get("peak_rss_mb"), n=g.get("n"), breakdown=breakdown,
                )  # fmt: skip
            )
    return [table]

