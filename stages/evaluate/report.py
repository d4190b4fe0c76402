"""`slmbench report --datasets-dir metrics/datasets --models-dir metrics/models --out metrics/report.md`: the release summary.

One stage over every dataset version and every model: it depends on the two metrics folders, so a
new entry under `datasets:` or `models:` reruns it, and writes `metrics/report.md` (every model's
scores with intervals and its quantization check, every version's quality), `metrics/release.json`
(the release dataset's figures under stable keys, for `dvc metrics diff`) and
`metrics/dataset_quality.json` (the per-version plot). Nothing here is measured anew; the model
cards are stages/evaluate/card.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import Params
from stages.evaluate.figures import check_table, fmt, load, sizes, split_table, table
from stages.evaluate.funccall_tables import FUNCCALL_FIGURES, ci, funccall_rows

RELEASE_KEYS = ("rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated", "corrupt_rows_full_suite", "corrupt_rate_full_suite", "gate_passed")


def quality_rows(versions: list[str], datasets_dir: Path) -> list[dict[str, Any]]:
    """One row per dataset version: the data behind the quality-per-version plot."""
    keys = ("corrupt_rate_full_suite", "reject_rate", "rows_regenerated", "rows_accepted")
    return [{"version": v, **{k: load(datasets_dir / v / "quality.json").get(k) for k in keys}} for v in versions]


def release_metrics(release: str, datasets_dir: Path) -> dict[str, Any]:
    """The release dataset's quality figures under stable keys, whichever version is the release.

    Every version's quality.json exists in every revision, so diffing those across two release
    tags shows nothing; this file changes exactly when the release's data does.
    """
    q = load(datasets_dir / release / "quality.json")
    sp = load(datasets_dir / release / "split.json")
    figures: dict[str, Any] = {k: q.get(k) for k in RELEASE_KEYS}
    figures["train_rows"] = sp.get("train_rows")
    figures["test_rows"] = sp.get("test_rows")
    # nested (the one metrics layout); `dvc metrics diff` shows it as `dataset.<key>`
    figures = {k: v for k, v in figures.items() if v is not None}
    return {"dataset": figures} if figures else {}


INTENT_MODELS = ("majority", "tfidf_lr", "nlm", "mlm")  # the order of an EdgeIntent table: baselines, then the models


def intent_section(p: Params, intent_dir: Path) -> list[str]:
    """EdgeIntent: per dataset, every model and baseline on its test split (metrics/intent/<name>/eval.json)."""
    if not p.intent.datasets:
        return []
    lines = [
        "## EdgeIntent",
        "",
        "Intent classification on real queries. Each table scores every model of a dataset on the same test rows, side by side on "
        "the machine that ran the stage; accuracy and macro F1 with 95% bootstrap intervals over rows. Size counts the files a "
        "deployment needs (for the NLM: model.onnx and nlm.json, everything the browser loads beyond the runtime; for the MLM, "
        "SmolLM2-135M with LoRA answering under a label-set grammar: its GGUF file). RSS is the scoring process's peak while answering "
        "one query at a time. By default the MLM trains on about `intent.mlm.train_rows` rows and is scored on about `intent.mlm.test_rows` test rows, the same number from each class (its n and train rows columns).",
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


def funccall_section(p: Params, funccall_dir: Path) -> list[str]:
    """EdgeFuncCall: per dataset, the MLM on its test split and on BFCL's categories (metrics/funccall/<name>/mlm/eval.json)."""
    if not p.funccall.datasets:
        return []
    head = ["rows", "decoding", "n", *(h for h, _ in FUNCCALL_FIGURES), "tokens/s"]
    lines = [
        "## EdgeFuncCall",
        "",
        "Function calling: a request and the tools offered in, the calls to make (or none) out as JSON, scored by AST match with "
        "BFCL's rules (stages/tasks/funccall/scoring.py). The MLM is SmolLM2-135M with LoRA, its GGUF scored on the dataset's test split and on "
        "BFCL's simple (Python), multiple and irrelevance categories, the outside test, free and constrained by each row's tools. "
        "Each figure has its n and a 95% bootstrap interval over rows; `irrelevance` is over the rows where no offered tool fits, "
        "`parallel` over the rows with two calls. By default the MLM trains on `funccall.mlm.train_rows` rows and is scored on "
        "`funccall.mlm.bfcl_rows` rows of each BFCL category (n).",
        "",
    ]
    for name in p.funccall.datasets:
        d = funccall_dir / name
        ev, tr, qz = (load(d / "mlm" / f) for f in ("eval.json", "train.json", "quantize.json"))
        quality, split = load(d / "quality.json"), load(d / "split.json")
        lines += [
            f"### {name}",
            "",
            f"Data: {fmt(quality.get('rows_accepted'))} rows accepted of {fmt(quality.get('rows_in'))} (reject rate {fmt(quality.get('reject_rate'))}), "
            f"{fmt((split.get('train') or {}).get('rows'))} train and {fmt((split.get('test') or {}).get('rows'))} test; tool catalogue version "
            f"{fmt(quality.get('catalogue_version'))}, sha256 {str(quality.get('catalogue_sha256', 'n/a'))[:12]}. Model: {fmt(ev.get('size_mb'))} MB "
            f"({ev.get('runtime', 'n/a')}), peak RSS {fmt(ev.get('peak_rss_mb'))} MB, trained {fmt(tr.get('wall_s'))} s on {fmt(tr.get('train_rows'))} rows; "
            f"quantize gate on {fmt(qz.get('check_n'))} test rows: the GGUF reproduces {fmt(qz.get('agreement'))} of each merged answer from its start "
            f"(mean), AST accuracy {fmt(qz.get('score'))} against the merged model's {fmt(qz.get('score_merged'))} (paired difference "
            f"{fmt(qz.get('score_diff'))}, p {fmt(qz.get('score_diff_p'))}).",
            "",
            "| " + " | ".join(head) + " |",
            "|---" * len(head) + "|",
        ]
        for rows, decoding, m in funccall_rows(ev):
            cells = [rows, decoding, fmt(m.get("n")), *(ci(m, key) for _, key in FUNCCALL_FIGURES), fmt(m.get("tokens_per_s"))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def tasks_section(p: Params, tasks_dir: Path) -> list[str]:
    """Every task run by the generic stages (`tasks:` in params.yaml): its own section
    (report_lines, its task.py), read from its metrics under `tasks_dir` (metrics/tasks/<task>/)."""
    from stages.tasks import registry

    root = Path(tasks_dir).parent.parent  # metrics/tasks -> the project
    lines: list[str] = []
    for name in sorted(p.tasks, key=lambda n: (registry.get(n, f"tasks.{n}").ORDER, n)):
        task = registry.get(name, f"tasks.{name}")
        if not hasattr(task, "report_lines"):
            raise SLMBenchError(f"stages/tasks/{name}/task.py: the task {name!r} (tasks.{name}) does not provide report_lines(p, root), its section of the report")
        lines += task.report_lines(p, root)
    return lines


def summary(p: Params, datasets_dir: Path, models_dir: Path, intent_dir: Path | None = None, funccall_dir: Path | None = None, tasks_dir: Path | None = None) -> str:
    """metrics/report.md: every model's scores and quantization check, then every dataset version's quality."""
    lines = [
        "# SLMBench release report",
        "",
        f"Models train on dataset {p.release.dataset} and are scored on its two test splits: test_unseen, every row of the schemas "
        "held out of training (whether a model reads the schema in its prompt), and test_seen, held-out rows of the training schemas. "
        "Quality figures are means over the "
        "`n` scored rows with a 95% bootstrap interval over rows. Speed and memory are as the evaluate stage measured them on the "
        "machine that ran it: compare variants within one table (side by side, same machine), not across machines.",
        "",
        "## Models",
        "",
    ]
    unseen = [row for name in p.models for row in split_table(name, load(models_dir / name / "eval.json"))]
    if unseen:
        lines += ["### Schemas never seen in training (test_unseen) against the training schemas (test_seen)", ""]
        lines += [unseen[0], unseen[1], *(r for r in unseen if not r.startswith(("| model |", "|---"))), ""]
        lines += ["### Every variant on test_seen", ""]
    for name in p.models:
        lines += table(name, load(models_dir / name / "eval.json")) + [""]
    for name in p.models:
        qz = load(models_dir / name / "quantize.json")
        lines += [f"### {name}: quantization check", "", f"Files: {sizes(qz)}.", "", *check_table(qz), ""]
    quality_keys = ("rows_accepted", "rows_rejected", "reject_rate", "rows_regenerated", "corrupt_rows_full_suite", "corrupt_rate_full_suite")
    head = ("version", "accepted", "rejected", "reject rate", "regenerated", "corrupt (full suite)", "corrupt rate", "train", "test")
    lines += ["## Dataset versions", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for v in p.datasets:
        q, sp = load(datasets_dir / v / "quality.json"), load(datasets_dir / v / "split.json")
        cells = [q.get(k) for k in quality_keys] + [sp.get("train_rows"), sp.get("test_rows")]
        lines.append(f"| {v}{' (release)' if v == p.release.dataset else ''} | " + " | ".join(fmt(c) for c in cells) + " |")
    if intent_dir is not None:
        lines += ["", *intent_section(p, Path(intent_dir))]
    if funccall_dir is not None:
        lines += ["", *funccall_section(p, Path(funccall_dir))]
    if tasks_dir is not None and p.tasks:
        lines += ["", *tasks_section(p, Path(tasks_dir))]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(
    params_path: Path, datasets_dir: Path, models_dir: Path, out: Path, release_out: Path, quality_out: Path,
    intent_dir: Path | None = None, funccall_dir: Path | None = None, tasks_dir: Path | None = None,
) -> None:
    from stages.core import params as P
    from stages.core.records import atomic_open, write_json

    p = P.load(params_path)
    write_json(quality_out, quality_rows(list(p.datasets), Path(datasets_dir)))
    write_json(release_out, release_metrics(p.release.dataset, Path(datasets_dir)))
    with atomic_open(out) as fh:
        fh.write(summary(p, Path(datasets_dir), Path(models_dir), intent_dir, funccall_dir, tasks_dir))
