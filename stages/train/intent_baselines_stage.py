"""`slmbench intent-baselines`: the baselines stage (majority class, TF-IDF + logistic regression,
stages/train/intent_baselines.py), one per dataset under `intent.datasets`.

Its settings are `intent.tfidf` in params.yaml, checked against `TfidfLRConfig`: an unknown key or
a wrong type is one line naming the key; keys left out take the dataclass defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def baselines_main(name: str, params_path: Path, train_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.train import intent_baselines as B

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.build(B.TfidfLRConfig, p.intent.tfidf, "intent.tfidf")
    return B.main(train_file, out_dir, metrics, cfg)
