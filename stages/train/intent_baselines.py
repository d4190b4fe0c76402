"""EdgeIntent baselines: the majority class, and TF-IDF + logistic regression (scikit-learn).

    main(train_file=Path("data/intent/banking77/train.jsonl"), out_dir=Path("models/intent-baselines/banking77"))

- **majority**: always the most frequent training label (the first in sorted order on a tie).
  Saved as `majority.json`.
- **tfidf_lr**: two TF-IDF vectorizers, word 1-2-grams and `char_wb` 2-5-grams (scikit-learn's
  defaults otherwise: lowercase, the `(?u)\\b\\w\\w+\\b` token pattern, l2 rows), both with
  sublinear tf and terms in at least `min_df` training texts, side by side, into a multinomial
  logistic regression (lbfgs, L2 with `C`). Deterministic: lbfgs draws nothing at random.

Nothing is pickled: the files and how they load are stages/inference/intent_baselines.py, which
evaluation imports; its names (TfidfLR, TfidfLRConfig, load_tfidf_lr, predict_tfidf_lr,
predict_majority, the file names) are importable from here too.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from stages.core.errors import SLMBenchError
from stages.core.records import atomic_open, read_rows, write_json
from stages.core.stats import DIGITS
from stages.inference.intent_baselines import (
    FORMAT,
    MAJORITY_FILE,
    MAJORITY_FORMAT,
    TFIDF_CONFIG,
    TFIDF_WEIGHTS,
    TfidfLR,
    TfidfLRConfig,
    load_majority,
    load_tfidf_lr,
    predict_majority,
    predict_tfidf_lr,
    vectorizers,
)

__all__ = [
    "MAJORITY_FILE", "TFIDF_CONFIG", "TFIDF_WEIGHTS", "TfidfLR", "TfidfLRConfig", "load_majority", "load_tfidf_lr",
    "main", "predict_majority", "predict_tfidf_lr", "save_tfidf_lr", "train_majority", "train_tfidf_lr",
]  # fmt: skip


def train_majority(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(str(r["label"]) for r in rows)
    if not counts:
        raise SLMBenchError("no training rows")
    label = min(counts, key=lambda c: (-counts[c], c))
    return {"format": MAJORITY_FORMAT, "label": label}


def train_tfidf_lr(rows: Sequence[dict[str, Any]], cfg: TfidfLRConfig | None = None) -> TfidfLR:
    import threadpoolctl
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    cfg = cfg or TfidfLRConfig()
    texts, labels = [str(r["text"]) for r in rows], [str(r["label"]) for r in rows]
    if len(set(labels)) < 2:
        raise SLMBenchError(f"TF-IDF + LR needs at least 2 labels in the training rows, got {len(set(labels))}")
    word, char = vectorizers(cfg)
    x = hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    with threadpoolctl.threadpool_limits(cfg.threads):
        lr = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, random_state=cfg.seed).fit(x, labels)
    classes = [str(c) for c in lr.classes_]
    coef = lr.coef_.astype(np.float32)
    intercept = lr.intercept_.astype(np.float32)
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: the second class's score
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([np.zeros_like(intercept), intercept])
    return TfidfLR(cfg, word, char, coef, intercept, classes)


def save_tfidf_lr(model: TfidfLR, out_dir: Path) -> list[Path]:
    """`tfidf_lr.json` and `tfidf_lr.safetensors` in `out_dir`, byte-stable for the same model."""
    from safetensors.numpy import save

    out_dir = Path(out_dir)
    meta = {
        "format": FORMAT,
        "config": asdict(model.cfg),
        "classes": model.classes,
        "word_vocabulary": {t: int(i) for t, i in model.word.vocabulary_.items()},
        "char_vocabulary": {t: int(i) for t, i in model.char.vocabulary_.items()},
    }
    tensors = {
        "coef": np.ascontiguousarray(model.coef, dtype=np.float32),
        "intercept": np.ascontiguousarray(model.intercept, dtype=np.float32),
        "word_idf": np.ascontiguousarray(model.word.idf_, dtype=np.float64),
        "char_idf": np.ascontiguousarray(model.char.idf_, dtype=np.float64),
    }
    config_path, weights_path = out_dir / TFIDF_CONFIG, out_dir / TFIDF_WEIGHTS
    with atomic_open(config_path) as fh:
        fh.write(json.dumps(meta, sort_keys=True, ensure_ascii=False) + "\n")
    with atomic_open(weights_path, "wb") as fh:
        fh.write(save(tensors))
    return [config_path, weights_path]


def main(train_file: Path, out_dir: Path, metrics: Path | None = None, cfg: TfidfLRConfig | None = None) -> dict[str, Any]:
    """Train both baselines on a JSONL file of intent rows and save them in `out_dir`."""
    cfg = cfg or TfidfLRConfig()
    rows = read_rows(Path(train_file), required=("id", "text", "label"))
    out_dir = Path(out_dir)
    start = time.perf_counter()
    majority = train_majority(rows)
    with atomic_open(out_dir / MAJORITY_FILE) as fh:
        fh.write(json.dumps(majority, sort_keys=True) + "\n")
    majority_s = time.perf_counter() - start
    start = time.perf_counter()
    model = train_tfidf_lr(rows, cfg)
    files = save_tfidf_lr(model, out_dir)
    result = {
        "n_rows": len(rows),
        "majority": {"label": majority["label"], "wall_s": round(majority_s, 3)},
        "tfidf_lr": {"wall_s": round(time.perf_counter() - start, 3), "n_features": int(model.coef.shape[1]),
                     "size_mb": round(sum(p.stat().st_size for p in files) / 1e6, DIGITS), "config": asdict(cfg)},
    }  # fmt: skip
    if metrics is not None:
        write_json(metrics, result)
    return result
