"""EdgeIntent's section of the release report (metrics/report.md): per dataset, every model and
baseline on its test split, side by side (metrics/intent/<name>/eval.json and the training figures)."""

from __future__ import annotations

from pathlib import Path

from stages.core.markdown import ci, fmt, load
from stages.core.params import Params
from stages.tasks.intent.card import INTENT_MODELS


def report_lines(p: Params, root: Path) -> list[str]:
    """EdgeIntent: per dataset, every model and baseline on its test split (metrics/intent/<name>/eval.json)."""
    if not p.intent.datasets:
        return []
    intent_dir = Path(root) / "metrics" / "intent"
    lines = [
        "## EdgeIntent",
        "",
        "Intent classification on real queries. Each table scores every model of a dataset on the same test rows, side by side on "
        "the machine that ran the stage; accuracy and macro F1 with 95% bootstrap intervals over rows. Size counts the files a "
        "deployment needs (for the NLM: model.onnx and nlm.json, everything the browser loads beyond the runtime; for the MLM, "
        "SmolLM2-135M with LoRA answering under a label-set grammar: its GGUF file). RSS is the scoring process's peak while answering "
        "one query at a time. By default the MLM trains on about `intent.mlm.train_rows` rows and is scored on about `intent.mlm_scoring.test_rows` test rows, the same number from each class (its n and train rows columns).",
        "",
    ]
    for name in p.intent.datasets:
        ev = load(intent_dir / name / "eval.json")
        models = ev.get("models", {})
        nlm_train, base_train = load(intent_dir / name / "nlm_train.json"), load(intent_dir / name / "baselines_train.json")
        mlm_train = load(intent_dir / name / "mlm" / "train.json") if (intent_dir / name / "mlm" / "train.json").is_file() else {}
        train_s = {"nlm": nlm_train.get("wall_s"), "mlm": mlm_train.get("wall_s"), **{m: (base_train.get(m) or {}).get("wall_s") for m in ("majority", "tfidf_lr")}}
        train_rows = {"nlm": nlm_train.get("n_rows"), "mlm": mlm_train.get("train_rows"), "majority": base_train.get("n_rows"), "tfidf_lr": base_train.get("n_rows")}
        oos = any("oos_recall" in m for m in models.values())
        head = ["model", "accuracy", "macro F1", *(["in-scope accuracy", "oos recall"] if oos else []), "n", "size MB", "p50 ms", "p95 ms", "RSS MB", "train s", "train rows"]
        lines += [f"### {name}", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for model in [m for m in INTENT_MODELS if m in models] + sorted(set(models) - set(INTENT_MODELS)):
            m = models[model]
            cells = [model, ci(m, "accuracy"), ci(m, "macro_f1"), *([ci(m, "in_scope_accuracy"), ci(m, "oos_recall")] if oos else [])]
            cells += [fmt(m.get("n")), fmt(m.get("size_mb")), fmt(m.get("latency_ms_p50")), fmt(m.get("latency_ms_p95")), fmt(m.get("peak_rss_mb")), fmt(train_s.get(model)), fmt(train_rows.get(model))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines
