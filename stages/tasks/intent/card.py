"""EdgeIntent's card parts (stages/tasks/registry.py: PIPELINE_PARTS), for the generic card stage
(stages/pipeline/card.py, whose TASK_MODULE is `card`): the intent_card stage gives each dataset's
NLM its model card (`models/intent/<dataset>/README.md`, in git) from the side-by-side eval.json of
the intent_evaluate stage, with the licence and credit of the dataset it trained on. Every figure
is copied from that file, none typed here."""

from __future__ import annotations

from typing import Any

from stages.core import params as P
from stages.core.params import IntentRecipe, Params

NAME = "intent"
TITLE = "EdgeIntent"
INTENT_MODELS = ("majority", "tfidf_lr", "nlm", "mlm")  # the order of an EdgeIntent table (this card's, the report's): baselines, then the models


def recipe(p: Params, name: str) -> IntentRecipe:
    return P.intent_recipe(p, name)


def card(p: Params, name: str, r: IntentRecipe, ev: dict[str, Any], tr: dict[str, Any], qz: dict[str, Any], quality: dict[str, Any]) -> tuple[str, None]:
    """The NLM's card (its eval.json holds every model of the dataset side by side); no plot."""
    return card_text(name, r.format, ev), None


# Credit the card gives each source dataset; its licence requires attribution in a model card.
SOURCES = {
    "banking77": "BANKING77 (CC BY 4.0): Casanueva et al., 2020, \"Efficient Intent Detection with Dual Sentence Encoders\", PolyAI-LDN/task-specific-datasets",
    "clinc150": "CLINC150 (CC BY 3.0): Larson et al., 2019, \"An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction\", clinc/oos-eval",
}


def card_text(name: str, fmt: str, result: dict[str, Any]) -> str:
    """The NLM's model card (markdown): what it is, its data and licence, and its figures on the test split."""
    def cell(v: Any) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    def with_ci(m: dict[str, Any], k: str) -> str:
        if k not in m:
            return "-"
        lo, hi = m[f"{k}_ci95"]
        return f"{m[k]:.3f} [{lo:.3f}, {hi:.3f}]"

    keys = [k for k in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall") if k in result["models"]["nlm"]]
    lines = [
        "---",
        "license: cc-by-4.0" if fmt == "banking77" else "license: cc-by-3.0",
        "library_name: onnx",
        "tags: [slmbench, edgeintent, nlm, intent-classification, onnx]",
        "---",
        "",
        f"# NLM-Intent, {name}",
        "",
        "A nano intent classifier (SLMBench's NLM-Intent): hashed word and character n-grams, an int8 embedding table and one "
        "linear layer, in ONNX. It runs in onnxruntime or in a browser with onnxruntime-web; its deployed files are `model.onnx` "
        "and `nlm.json`. Written by the `intent_card` stage from `metrics/intent/" + name + "/eval.json`; nothing here is typed by hand.",
        "",
        "The `mlm` row is SLMBench's MLM for the same dataset: SmolLM2-135M-Instruct with a LoRA adapter, answering with the label "
        "under a label-set grammar, in GGUF for llama.cpp (`models/intent/" + name + "/mlm/gguf`).",
        "",
        "## Data",
        "",
        f"Trained on the training split of {SOURCES.get(fmt, fmt)}. The models and this card carry that dataset's licence and credit.",
        "",
        f"## On the test split ({result['n']} rows), every model side by side",
        "",
        "| model | n | " + " | ".join(keys) + " | size MB | p50 ms | p95 ms |",
        "|---" * (len(keys) + 5) + "|",
    ]
    models = result["models"]  # eval.json's keys are sorted: the table keeps the report's order, baselines first
    for model, m in ((k, models[k]) for k in [*(k for k in INTENT_MODELS if k in models), *sorted(set(models) - set(INTENT_MODELS))]):
        lines.append(f"| {model} | {m.get('n', '-')} | " + " | ".join(with_ci(m, k) for k in keys) + f" | {cell(m.get('size_mb'))} | {cell(m.get('latency_ms_p50'))} | {cell(m.get('latency_ms_p95'))} |")
    lines += [
        "",
        "The MLM is scored on the test rows its `n` counts (`intent.mlm_scoring.test_rows`: the same number from each class, and every "
        "out-of-scope row). Intervals are 95% bootstrap intervals over the test rows. Latency is one query at a time (the NLM and the baselines on one "
        "thread, the MLM on `intent.mlm.threads`), on the machine that ran the stage; compare models within this table, not across machines.",
        "",
    ]
    return "\n".join(lines)
