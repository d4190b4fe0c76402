"""`slmbench card --model smollm2-135m-lora --eval metrics/models/smollm2-135m-lora/eval.json ... --out models/smollm2-135m-lora/README.md`.

card@<model>, one stage per entry under `models:`, writes the model's card (`models/<model>/README.md`,
a Hugging Face model card) and `metrics/models/<model>/tier_scores.json` (the data of its per-tier
plot) from its train, quantize and eval metrics and the quality figures of the dataset it trained
on. It reads only its own entry of params.yaml, so editing another model does not rerun it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.params import ModelParams
from stages.evaluate.figures import TIERS, UNSEEN, check_table, figure, fmt, group, load, scored, sizes, split_table, table, tier_table, with_n


def tier_rows(model: str, ev: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per variant/decoding and tier: the data behind the model's per-tier bar plot."""
    out = []
    for variant, decoding in scored(ev):
        for tier in TIERS:
            g = group(ev, variant, decoding, f"tier_{tier}")
            if "json_exact" in g:
                row = {"model": model, "variant": f"{variant}/{decoding} [{tier}]", "tier": tier}
                out.append(row | {"json_exact": g["json_exact"], "field_f1": g.get("field_f1")})
    return out


def headline(ev: dict[str, Any], release_variant: str, split: str = "test_seen") -> str:
    """A card's first figures: the release variant (`evaluate.release_variant`), constrained decoding
    first, on test_seen, or on test_unseen with `split` "test_unseen"."""
    where = ev if split == "test_seen" else group(ev, split)
    pairs = sorted((vd for vd in scored(ev) if vd[0] == release_variant), key=lambda vd: vd[1] != "constrained")
    pairs = [vd for vd in pairs if "n" in group(where, *vd)]
    if not pairs:
        return f"{release_variant} not scored yet"
    g = group(where, *pairs[0])
    return f"{pairs[0][0]} {pairs[0][1]}: json_exact {with_n(g, 'json_exact')}; field_f1 {figure(g, 'field_f1')}"


def model_card(
    name: str, m: ModelParams, base_source: str, dataset: str, release_variant: str,
    ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any], quality: dict[str, Any],
) -> str:
    return "\n".join(
        [
            "---",
            "license: apache-2.0",
            f"base_model: {base_source}",
            "library_name: peft",
            "tags: [edgejson, json-extraction, lora, gguf, slmbench]",
            "---",
            "",
            f"# {name}",
            "",
            f"LoRA fine-tune of `{base_source}` for EdgeJSON: text in, schema-valid JSON out.",
            "",
            "Headline, 95% bootstrap interval over rows:",
            "",
            f"- schemas never seen in training ({dataset} test_unseen): {headline(ev, release_variant, UNSEEN)}",
            f"- the training schemas' held-out rows ({dataset} test_seen): {headline(ev, release_variant)}",
            "",
            "## Training",
            "",
            f"- LoRA r={m.r}, alpha={m.alpha}, dropout={m.dropout}, targets {', '.join(m.target_modules)}",
            f"- lr {m.lr} ({m.scheduler}, {m.warmup_steps} warmup steps), batch {m.batch_size} x {m.grad_accum}, max_steps {m.max_steps}, "
            f"epochs {m.epochs}, precision {m.precision}, seed {m.seed}",
            f"- {fmt(tr.get('steps'))} steps, {fmt(tr.get('tokens'))} tokens at {fmt(tr.get('tokens_per_s'))} tok/s, final loss {fmt(tr.get('final_loss'))}, "
            f"trainable parameters {fmt(tr.get('trainable_params'))}",
            "",
            "## Data",
            "",
            f"- EdgeJSON {dataset}: {fmt(quality.get('rows_accepted'))} accepted rows, gate passed: {fmt(quality.get('gate_passed'))}, "
            f"corrupt rate under the full suite: {fmt(quality.get('corrupt_rate_full_suite'))}, regenerated rows: {fmt(quality.get('rows_regenerated'))}",
            "",
            "## Results on unseen and seen schemas (quality figures with their 95% interval)",
            "",
            *(split_table(name, ev) or ["No test_unseen figures (split.unseen_schemas is 0)."]),
            "",
            "## Results on test_seen, every variant",
            "",
            *table(name, ev),
            "",
            "JSONExact per tier:",
            "",
            *tier_table(ev),
            "",
            "## Quantization",
            "",
            f"Files: {sizes(qz)}. Greedy answers of each GGUF against the merged model's, on the check rows:",
            "",
            *check_table(qz),
            "",
            "## Use",
            "",
            "Run the GGUF with llama.cpp or Ollama and pass the JSON Schema as a grammar (llama.cpp `--json-schema`), ",
            "or load `merged/` with transformers. The prompt format is the chat template with the system message built by ",
            "`stages.inference.prompt.chat_messages` (instruction plus a compact schema skeleton).",
            "",
            "## Limits",
            "",
            "- Trained on synthetic, template-rendered English text for the EdgeJSON schemas not held out; test_unseen measures other schemas, "
            "real-world text is out of distribution.",
            f"- Trained for {fmt(tr.get('steps'))} optimizer steps over {fmt(tr.get('examples'))} examples; this release scored no longer recipe, "
            "so how far more training goes is unmeasured.",
            "- Each figure is a mean over the `n` test rows in its row; variants scored on a subset have wider intervals.",
            "- Constrained decoding guarantees structure, not correct values.",
            "",
        ]
    )


def main(model: str, params_path: Path, eval_path: Path, train_path: Path, quantize_path: Path, quality_path: Path, out: Path, tiers_out: Path) -> None:
    from stages.core import params as P
    from stages.core.errors import SLMBenchError
    from stages.core.records import atomic_open, write_json

    p = P.load(params_path)
    if model not in p.models:
        raise SLMBenchError(f"params.yaml: no model {model!r} under models; expected one of {', '.join(p.models)}")
    m = p.models[model]
    ev = load(Path(eval_path))
    tr, qz, quality = load(Path(train_path)), load(Path(quantize_path)), load(Path(quality_path))
    card = model_card(model, m, p.bases[m.base], p.release.dataset, p.evaluate.release_variant, ev, tr, qz, quality)
    write_json(tiers_out, tier_rows(model, ev))
    with atomic_open(out) as fh:
        fh.write(card)
