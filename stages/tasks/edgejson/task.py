"""EdgeJSON's task interface (stages/tasks/registry.py): text and a JSON Schema in, JSON out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.board import figure, folder_params, new_row, new_table, read_json
from stages.core.params import Params
from stages.core.records import read_rows, write_rows  # noqa: F401 (the interface's row reader and writer)

NAME = "edgejson"
TITLE = "EdgeJSON"
ORDER = 1
METRICS = ("json_exact", "field_f1", "schema_valid", "json_parse")
BREAKDOWN = "tiers"
EVALUATOR = "stages.evaluate.evaluate:main_any"
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
    figures = " ".join(f"{m}={r[m]:.3f} [{r[m + '_ci_low']:.3f}, {r[m + '_ci_high']:.3f}]" for m in METRICS)
    return f"evaluate: n={r['n']} {figures} (95% bootstrap intervals)"


def _quant(variant: str) -> tuple[str, str]:
    """(runtime, quantization) of an eval.json variant: gguf_<type> runs in llama.cpp, hf_* in transformers."""
    return ("llama.cpp", variant.removeprefix("gguf_").upper()) if variant.startswith("gguf_") else ("transformers", variant)


def leaderboard_tables(p: Params, root: Path) -> list[dict[str, Any]]:
    """The release dataset's test split and, where scored, its unseen-schema split: one row per
    model of `models`, variant and decoding, from metrics/models/<m>/eval.json, with the per-tier breakdown."""
    version = p.release.dataset
    table = new_table(NAME, version, f"{TITLE} {version}, test split", Path(f"data/{version}/test.jsonl"), root, version, METRICS, "per tier")
    for name in sorted(p.models):
        flat = read_json(root / f"metrics/models/{name}/eval.json")
        # "<variant>.<decoding>.<figure>" keys; the unprefixed copy of the release variant and test_unseen are left out
        prefixes = {".".join(k.split(".")[:2]) for k in flat if k.count(".") >= 2 and k.split(".")[1] in ("free", "constrained")}
        for prefix in sorted(prefixes - {p_ for p_ in prefixes if p_.startswith("test_unseen.")}):
            variant, decoding = prefix.split(".")
            runtime, quant = _quant(variant)

            def get(key: str, pre: str = prefix, f: dict[str, Any] = flat) -> Any:
                return f.get(f"{pre}.{key}")

            metrics = {m: figure(get(m), get(f"{m}_ci_low"), get(f"{m}_ci_high"), get("n")) for m in METRICS}
            tiers = sorted({k.split(".")[2].removeprefix("tier_") for k in flat if k.startswith(prefix + ".tier_")})
            breakdown = [
                {"group": t, "metrics": {m: figure(get(f"tier_{t}.{m}"), get(f"tier_{t}.{m}_ci_low"), get(f"tier_{t}.{m}_ci_high"), get(f"tier_{t}.n")) for m in METRICS if get(f"tier_{t}.{m}") is not None}}
                for t in TIERS
                if t in tiers
            ]
            table["rows"].append(
                new_row(
                    name, "pipeline", runtime, quant, decoding, metrics, f"models/{name}/README.md",
                    size_mb=get("size_mb"), params=folder_params(root / f"models/base/{p.models[name].base}"), tokens_per_s=get("tokens_per_s"),
                    latency_ms_p50=get("latency_ms_p50"), peak_rss_mb=get("peak_rss_mb"), n=get("n"), breakdown=breakdown,
                )  # fmt: skip
            )
    return [table]

