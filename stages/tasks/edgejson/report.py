"""EdgeJSON's section of the release report (metrics/report.md): every model of `models:` on the
release dataset's two test splits (test_unseen first), each variant on test_seen, each model's
quantization check, and every dataset version's quality (metrics/models/, metrics/datasets/)."""

from __future__ import annotations

from pathlib import Path

from stages.core.params import Params
from stages.tasks.edgejson.figures import check_table, fmt, load, sizes, split_table, table


def report_lines(p: Params, root: Path) -> list[str]:
    datasets_dir, models_dir = Path(root) / "metrics" / "datasets", Path(root) / "metrics" / "models"
    lines = [
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
    return lines
