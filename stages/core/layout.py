"""Where the pipeline keeps its metrics, relative to the repo root. dvc.yaml passes the same paths
to the stages; readers that find files by convention (report, compare, audit) ask here.

    metrics/datasets/<version>/  quality.json, gate.json, split.json, teacher.json, data_docs/
    metrics/models/<model>/      train.json, train_live/, quantize.json, eval.json, eval_by_schema.json, tier_scores.json
    metrics/                     report.md, release.json, dataset_quality.json: the release summary

Versions and models each have a folder of their own, so the summary can depend on every version
and every model (two folders) without depending on its own outputs, and no name of a version or
model appears in dvc.yaml. Revisions made before this layout kept both at one level
(`metrics/<version>/`, `metrics/<model>/`); `dataset_paths` and `model_paths` name that place
second, so compare and audit still read old tags.
"""

from __future__ import annotations

METRICS = "metrics"
DATASETS = f"{METRICS}/datasets"
MODELS = f"{METRICS}/models"


def dataset_paths(version: str, name: str) -> tuple[str, str]:
    """Where a version's metrics file is: this layout's place, then the older one."""
    return f"{DATASETS}/{version}/{name}", f"{METRICS}/{version}/{name}"


def model_paths(model: str, name: str) -> tuple[str, str]:
    """Where a model's metrics file is: this layout's place, then the older one."""
    return f"{MODELS}/{model}/{name}", f"{METRICS}/{model}/{name}"
