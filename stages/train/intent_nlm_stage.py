"""`slmbench intent-nlm`: the NLM stage (stages/train/nlm.py), one per dataset under `intent.datasets`.

Its settings are `intent.nlm` in params.yaml, checked against `NLMConfig`: an unknown key or a
wrong type is one line naming the key; keys left out take the dataclass defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def nlm_main(name: str, params_path: Path, train_file: Path, labels_file: Path, out_dir: Path, metrics: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.tasks.intent.rows import read_labels
    from stages.train import nlm

    p = P.load(params_path)
    P.intent_recipe(p, name)
    cfg = P.build(nlm.NLMConfig, p.intent.nlm, "intent.nlm")
    cfg.check()
    return nlm.main(train_file, out_dir, metrics, read_labels(labels_file), cfg)
