"""`slmbench report --out metrics/report.md`: the release table and a model card per model.

Reads the metrics files the pipeline wrote and params.yaml; writes `metrics/report.md` and
`models/<model>/README.md` (a Hugging Face model card). Nothing here is measured anew.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stages.params import ModelParams, Params

VARIANTS = (("hf_base", "free"), ("hf_base", "constrained"), ("hf_tuned", "free"), ("hf_tuned", "constrained"), ("gguf_q8_0", "free"), ("gguf_q8_0", "constrained"), ("gguf_q4", "free"), ("gguf_q4", "constrained"))
HEAD = ("json_exact", "field_f1", "schema_valid", "json_parse", "tokens_per_s", "latency_ms_p50", "size_mb")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else f"{v:g}" if isinstance(v, (int, float)) else str(v))


def table(model: str, ev: dict[str, Any]) -> list[str]:
    lines = ["| model | variant | decoding | " + " | ".join(HEAD) + " |", "|---" * (3 + len(HEAD)) + "|"]
    for variant, decoding in VARIANTS:
        vals = [ev.get(f"{variant}.{decoding}.{k}") for k in HEAD]
        if all(v is None for v in vals):
            continue
        lines.append(f"| {model} | {variant} | {decoding} | " + " | ".join(_fmt(v) for v in vals) + " |")
    return lines


def model_card(name: str, m: ModelParams, p: Params, metrics_dir: Path) -> str:
    ev, tr, qz = _load(metrics_dir / name / "eval.json"), _load(metrics_dir / name / "train.json"), _load(metrics_dir / name / "quantize.json")
    quality = _load(metrics_dir / p.release.dataset / "quality.json")
    tiers = ["| variant | decoding | simple | medium | complex |", "|---|---|---|---|---|"]
    for variant, decoding in VARIANTS:
        cells = [ev.get(f"{variant}.{decoding}.tier_{t}.json_exact") for t in ("simple", "medium", "complex")]
        if any(c is not None for c in cells):
            tiers.append(f"| {variant} | {decoding} | " + " | ".join(_fmt(c) for c in cells) + " |")
    return "\n".join(
        [
            "---",
            "license: apache-2.0",
            f"base_model: {p.bases[m.base]}",
            "library_name: peft",
            "tags: [edgejson, json-extraction, lora, gguf, slmbench]",
            "---",
            "",
            f"# {name}",
            "",
            f"LoRA fine-tune of `{p.bases[m.base]}` for EdgeJSON: text in, schema-valid JSON out.",
            "",
            "## Training",
            "",
            f"- LoRA r={m.r}, alpha={m.alpha}, dropout={m.dropout}, targets {', '.join(m.target_modules)}",
            f"- lr {m.lr} ({m.scheduler}, {m.warmup_steps} warmup steps), batch {m.batch_size} x {m.grad_accum}, max_steps {m.max_steps}, epochs {m.epochs}, {m.precision}, seed {m.seed}",
            f"- {tr.get('steps')} steps, {tr.get('tokens')} tokens at {tr.get('tokens_per_s')} tok/s, final loss {tr.get('final_loss')}, trainable parameters {tr.get('trainable_params')}",
            "",
            "## Data",
            "",
            f"- EdgeJSON {p.release.dataset}: {quality.get('rows_accepted')} accepted rows, gate passed: {quality.get('gate_passed')}, "
            f"corrupt rate under the full suite: {quality.get('corrupt_rate_full_suite')}, regenerated rows: {quality.get('rows_regenerated')}",
            "",
            "## Results (test split; JSONExact per tier)",
            "",
            *table(name, ev),
            "",
            *tiers,
            "",
            f"Sizes: Q8_0 {qz.get('q8_0_size_mb')} MB, {p.quantize.q4_type} {qz.get('q4_size_mb')} MB, f16 {qz.get('f16_size_mb')} MB.",
            "",
            "## Use",
            "",
            "Run the GGUF with llama.cpp or Ollama and pass the JSON Schema as a grammar (llama.cpp `--json-schema`), ",
            "or load `merged/` with transformers. The prompt format is the chat template with the system message built by ",
            "`stages.models.chat_messages` (instruction plus a compact schema skeleton).",
            "",
            "## Limits",
            "",
            "- Trained on synthetic, template-rendered English text for the 25 EdgeJSON schemas; other schemas and real-world text are out of distribution.",
            f"- Trained for {tr.get('steps')} optimizer steps over {tr.get('examples')} examples; this release scored no longer recipe, so how far more training goes is unmeasured.",
            f"- Scores are means over {ev.get('hf_tuned.free.n', 'the')} scored test rows; a small row count makes them coarse.",
            "- Constrained decoding guarantees structure, not correct values.",
            "",
        ]
    )


def tier_rows(p: Params, metrics_dir: Path) -> list[dict[str, Any]]:
    """One row per model, variant/decoding and tier: the data behind the per-tier bar plot."""
    out = []
    for name in p.models:
        ev = _load(metrics_dir / name / "eval.json")
        for variant, decoding in VARIANTS:
            for tier in ("simple", "medium", "complex"):
                key = f"{variant}.{decoding}.tier_{tier}"
                if f"{key}.json_exact" in ev:
                    out.append({"model": name, "variant": f"{variant}/{decoding} [{tier}]", "tier": tier, "json_exact": ev[f"{key}.json_exact"], "field_f1": ev[f"{key}.field_f1"]})
    return out


def quality_rows(p: Params, metrics_dir: Path) -> list[dict[str, Any]]:
    """One row per dataset version: the data behind the quality-per-version plot."""
    keys = ("corrupt_rate_full_suite", "reject_rate", "rows_regenerated", "rows_accepted")
    return [{"version": v, **{k: _load(metrics_dir / v / "quality.json").get(k) for k in keys}} for v in p.datasets]


RELEASE_KEYS = ("rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated", "corrupt_rows_full_suite", "corrupt_rate_full_suite", "gate_passed")


def release_metrics(p: Params, metrics_dir: Path) -> dict[str, Any]:
    """The release dataset's quality figures under stable keys, whichever version is the release.

    `metrics/<v>/quality.json` exists for every version in every revision, so diffing those across
    two release tags shows nothing; this file changes exactly when the release's data does.
    """
    q = _load(metrics_dir / p.release.dataset / "quality.json")
    sp = _load(metrics_dir / p.release.dataset / "split.json")
    out: dict[str, Any] = {f"dataset.{k}": q.get(k) for k in RELEASE_KEYS}
    out["dataset.train_rows"] = sp.get("train_rows")
    out["dataset.test_rows"] = sp.get("test_rows")
    return {k: v for k, v in out.items() if v is not None}


def run(p: Params, metrics_dir: Path, models_dir: Path) -> tuple[str, dict[str, str]]:
    lines = ["# SLMBench release report", "", f"Dataset: {p.release.dataset}. Metrics are means over the scored test rows.", ""]
    for name in p.models:
        lines += table(name, _load(metrics_dir / name / "eval.json")) + [""]
    cards = {name: model_card(name, m, p, metrics_dir) for name, m in p.models.items()}
    return "\n".join(lines), cards


def main(params_path: Path, metrics_dir: Path, models_dir: Path, out: Path, tiers_out: Path) -> None:
    from stages import params as P
    from stages.records import atomic_open, write_json

    p = P.load(params_path)
    write_json(tiers_out, tier_rows(p, Path(metrics_dir)))
    write_json(Path(metrics_dir) / "dataset_quality.json", quality_rows(p, Path(metrics_dir)))
    write_json(Path(metrics_dir) / "release.json", release_metrics(p, Path(metrics_dir)))
    report, cards = run(p, Path(metrics_dir), Path(models_dir))
    with atomic_open(out) as fh:
        fh.write(report)
    for name, card in cards.items():
        with atomic_open(Path(models_dir) / name / "README.md") as fh:
            fh.write(card)
