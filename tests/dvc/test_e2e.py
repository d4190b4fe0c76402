"""The whole graph, base model to report, in a temporary repo with a tiny params override, and
what users then do with it: push to a DVC remote and pull into a fresh clone, and run experiments.

The base is a tiny random Llama (a local directory, one of the three base kinds); everything
else is the real pipeline: dvc, peft, llama.cpp conversion and quantization, GGUF generation.
The repo is the `releases` fixture (conftest.py), released on v2 and then on v3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dvc_project import MODEL, Releases, dvc, run, stages_run  # tests/dvc/, on sys.path under pytest

pytestmark = pytest.mark.slow


def test_full_graph_in_a_temp_repo(releases: Releases) -> None:
    root, out = releases.root, releases.v2_output
    ran = stages_run(out)
    for stage in ("base_model@tiny", f"train@{MODEL}", f"quantize@{MODEL}", f"evaluate@{MODEL}", f"card@{MODEL}", "report"):
        assert stage in ran, out
    v2 = releases.v2_files  # the first release's outputs, before the second replaced them
    ev = json.loads(v2[f"metrics/models/{MODEL}/eval.json"])
    for variant in ("gguf_base", "gguf_q8_0"):
        for d in ("free", "constrained"):
            for k in ("json_exact", "field_f1", "schema_valid", "json_parse", "latency_ms_p50", "latency_ms_p95", "tokens_per_s", "peak_rss_mb", "size_mb"):
                assert isinstance(ev[f"{variant}.{d}.{k}"], (int, float)), f"{variant}.{d}.{k}"
    assert json.loads(v2[f"metrics/models/{MODEL}/train.json"])["steps"] == 1
    quantized = json.loads(v2[f"metrics/models/{MODEL}/quantize.json"])
    assert quantized["q8_0.size_mb"] > 0 and quantized["base_q8_0.size_mb"] > 0
    # 2 rows x 2 decodings x 2 variants on test_seen, and the release variant's 2 x 2 on test_unseen
    assert v2[f"models/{MODEL}/predictions.jsonl"].count(b"\n") == 2 * 4 + 2 * 2
    assert isinstance(ev["test_unseen.gguf_q8_0.constrained.json_exact"], (int, float))
    assert b"gguf_base" in v2["metrics/report.md"]
    assert b"base_model:" in v2[f"models/{MODEL}/README.md"]
    assert (root / "models" / MODEL / "gguf" / "model-q8_0.gguf").stat().st_size > 0
    # the second release scores only gguf_q8_0, so quantize made no GGUF of the base this time
    assert not (root / "models" / MODEL / "gguf" / "base-q8_0.gguf").exists()
    assert "base_q8_0.size_mb" not in json.loads((root / "metrics" / "models" / MODEL / "quantize.json").read_text())
    assert "Data and pipelines are up to date" in dvc(root, "repro").stdout
    # dvc sees the metrics and the loss curve; every metric value is a number (DVC's diff needs them)
    shown = json.loads(dvc(root, "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]  # keyed by "workspace" or, when clean, the commit
    for name in ("metrics/release.json", f"metrics/models/{MODEL}/eval.json", "metrics/datasets/v3/quality.json"):
        assert name in files, sorted(files)

    def leaves(d: Any) -> list[Any]:
        return [x for v in d.values() for x in leaves(v)] if isinstance(d, dict) else [d]

    not_numbers = [(f, v) for f, body in files.items() for v in leaves(body["data"]) if not isinstance(v, (int, float))]
    assert not not_numbers, not_numbers[:5]
    plots = dvc(root, "plots", "show", "--json").stdout
    assert "loss" in plots


def test_push_then_pull_into_a_fresh_clone(releases: Releases, tmp_path: Path) -> None:
    """A local-directory remote: push, clone fresh, pull; the clone is up to date and repro runs nothing."""
    root = releases.root
    remote = tmp_path / "remote"
    dvc(root, "remote", "add", "-d", "local", str(remote))
    run(["git", "commit", "-q", "-am", "DVC remote"], root)
    pushed = dvc(root, "push").stdout
    assert remote.is_dir() and any(remote.rglob("*")), pushed
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(root), str(clone)], tmp_path)
    assert not (clone / "models" / MODEL / "gguf").exists()  # outputs are DVC's, not git's
    dvc(clone, "pull")
    assert (clone / "models" / MODEL / "gguf" / "model-q8_0.gguf").stat().st_size > 0
    assert (clone / "data" / "v3" / "test.jsonl").read_bytes() == (root / "data" / "v3" / "test.jsonl").read_bytes()
    status = dvc(clone, "status", "--json").stdout
    assert json.loads(status) == {}, status
    out = dvc(clone, "repro").stdout
    assert "Running stage" not in out and "Data and pipelines are up to date" in out, out


def _exp_params(root: Path, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, metrics) of experiment `name` from `dvc exp show --json`."""
    shown = json.loads(dvc(root, "exp", "show", "--json").stdout)
    for commit in shown:
        for exp in commit.get("experiments") or []:
            for rev in exp.get("revs", []):
                if rev.get("name") == name:
                    data = rev["data"]
                    return data["params"]["params.yaml"]["data"], data["metrics"]
    raise AssertionError(f"experiment {name} not in dvc exp show: {json.dumps(shown)[:2000]}")


def test_exp_run_with_a_training_param(releases: Releases) -> None:
    root = releases.root
    try:
        # The target stops the run after training; the release switch in the `releases` fixture already
        # reran quantize, evaluate and report below a changed train.
        out = dvc(root, "exp", "run", "-n", "steps2", "-S", f"models.{MODEL}.max_steps=2", f"train@{MODEL}").stdout
        assert stages_run(out) == {f"train@{MODEL}"}, out
        params, metrics = _exp_params(root, "steps2")
        assert params["models"][MODEL]["max_steps"] == 2
        assert metrics[f"metrics/models/{MODEL}/train.json"]["data"]["steps"] == 2
        diff = dvc(root, "exp", "diff", "HEAD", "steps2", "--json").stdout
        assert f"models.{MODEL}.max_steps" in diff, diff
    finally:
        restore_release(root)


def test_exp_run_with_a_recipe_param(releases: Releases) -> None:
    """A recipe param reruns its version's data stages only (the target stops the run at split@v3;
    the model stages after it are the training experiment's)."""
    root = releases.root
    released_test = (root / "data" / "v3" / "test.jsonl").read_bytes()
    try:
        out = dvc(root, "exp", "run", "-n", "seed1", "-S", "datasets.v3.seed=1", "split@v3").stdout
        ran = stages_run(out)
        assert ran == {"generate@v3", "validate@v3", "split@v3"}, out
        params, metrics = _exp_params(root, "seed1")
        assert params["datasets"]["v3"]["seed"] == 1
        assert metrics["metrics/datasets/v3/quality.json"]["data"]["rows_accepted"] > 0
        assert (root / "data" / "v3" / "test.jsonl").read_bytes() != released_test  # another seed, other rows
    finally:
        restore_release(root)
    assert (root / "data" / "v3" / "test.jsonl").read_bytes() == released_test


def restore_release(root: Path) -> None:
    """`dvc exp run` leaves the experiment in the workspace; put the released state back."""
    run(["git", "checkout", "-q", "--", "."], root)
    dvc(root, "checkout", "--force")
