"""EdgeJSON's card parts (stages/tasks/registry.py: PIPELINE_PARTS), for the generic card stage
(stages/pipeline/card.py, whose TASK_MODULE is `card`): card@<model>, one stage per entry under
`models:`, writes the model's card (`models/<model>/README.md`, a Hugging Face model card) and
`metrics/models/<model>/tier_scores.json` (the data of its per-tier plot) from its train, quantize
and eval metrics and the quality figures of the dataset it trained on.
"""

from __future__ import annotations

from typing import Any

from stages.core.params import ModelParams, Params
from stages.tasks.edgejson.figures import TIERS, UNSEEN, check_table, figure, fmt, group, scored, sizes, split_table, table, tier_table, with_n
from stages.tasks.edgejson.model_entry import NAME, TITLE, recipe  # noqa: F401 (the stage's lookup: a model of `models:`)


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




def card(p: Params, name: str, m: ModelParams, ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any], quality: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The model card, and the rows of its per-tier plot."""
    text = model_card(name, m, p.bases[m.base], p.release.dataset, p.evaluate.release_variant, ev, tr, qz, quality)
    return text, tier_rows(name, ev)
