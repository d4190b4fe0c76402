"""compare and audit read metrics in this layout (metrics/datasets/<v>/, metrics/models/<m>/) and, at
revisions made before it, in the older one (metrics/<v>/, metrics/<m>/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stages.audit import history
from stages.core import layout


def _repo(root: Path, old: bool) -> Path:
    (root / "params.yaml").write_text(yaml.safe_dump({"datasets": {"v2": {}, "v3": {}}, "release": {"dataset": "v3"}, "models": {"m": {}}}), encoding="utf-8")
    files = {
        layout.dataset_paths("v3", "quality.json"): {"rows_accepted": 90, "gate_passed": True, "corrupt_rate_full_suite": 0.0},
        layout.dataset_paths("v3", "split.json"): {"train_rows": 72, "test_rows": 18},
        # eval.json nests since the one metrics layout (docs/design.md); older revisions have flat dotted keys
        layout.model_paths("m", "eval.json"): (
            {"gguf_q8_0.constrained.json_exact": 0.5, "gguf_q8_0.constrained.n": 18}
            if old
            else {"gguf_q8_0": {"constrained": {"json_exact": 0.5, "json_exact_ci95": [0.3, 0.7], "json_exact_n": 18, "n": 18}}}
        ),
    }
    for (new, older), body in files.items():
        path = root / (older if old else new)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body), encoding="utf-8")
    return root


@pytest.mark.parametrize("old", [False, True], ids=["this layout", "the older layout"])
def test_version_metrics_in_either_layout(tmp_path: Path, old: bool) -> None:
    snap = history.Snapshot(_repo(tmp_path, old), None)
    m = history.version_metrics(snap, "v3")
    assert m is not None
    assert m["quality.rows_accepted"] == 90 and m["split.test_rows"] == 18 and m["m.gguf_q8_0.constrained.json_exact"] == 0.5
    assert history.version_metrics(snap, "v2") is None  # not built: "not available", never a traceback


def test_this_layout_comes_first(tmp_path: Path) -> None:
    root = _repo(tmp_path, old=True)
    new = root / layout.dataset_paths("v3", "quality.json")[0]
    new.parent.mkdir(parents=True)
    new.write_text(json.dumps({"rows_accepted": 91}), encoding="utf-8")
    assert history.version_metrics(history.Snapshot(root, None), "v3")["quality.rows_accepted"] == 91
