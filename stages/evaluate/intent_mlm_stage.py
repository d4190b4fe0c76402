"""`slmbench intent-mlm-evaluate`: the intent_mlm_evaluate stage, EdgeIntent's MLM scored on a
dataset's test split by stages/evaluate/intent_mlm.py, with the settings of `intent.mlm`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.records import write_json
from stages.evaluate.intent_mlm import evaluate_lm


def main(name: str, params_path: Path, model: Path, test_file: Path, labels_file: Path, out: Path, per_class_out: Path) -> dict[str, Any]:
    """`slmbench intent-mlm-evaluate`: the stage, on a dataset's test split, or with
    `intent.mlm.test_rows` > 0 on about that many of its rows, the same number from each in-scope
    class, and every out-of-scope row (so oos recall keeps its n), drawn with the MLM's seed and
    scored in id order: generation costs about 0.1 s a query on 2 cores (docs/intent.md)."""
    from stages.core import params as P
    from stages.tasks.intent.rows import draw, read_intent_jsonl, read_labels

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.intent_mlm(p)
    rows = read_intent_jsonl(Path(test_file))
    scored = sorted(draw(rows, cfg.test_rows, cfg.seed), key=lambda r: r["id"])
    result = evaluate_lm(
        Path(model), scored, read_labels(Path(labels_file)), samples=p.intent.bootstrap_samples, seed=p.intent.bootstrap_seed,
        latency_queries=cfg.latency_queries, threads=cfg.threads, parallel=cfg.parallel, batch_size=cfg.batch_size,
        per_class_out=Path(per_class_out),
    )  # fmt: skip
    result.pop("predictions")
    per_class = result.pop("per_class_f1")
    result["test_rows"] = len(rows)  # n is the rows scored: all of them, or a per-class share
    write_json(Path(out), result)
    return {**result, "per_class_f1": per_class}
