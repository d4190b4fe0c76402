"""The whole graph, base model to report, in a temporary repo with a tiny params override, and
what users then do with it: push to a DVC remote and pull into a fresh clone, and run experiments.

The base is a tiny random Llama (a local directory, one of the three base kinds); everything
else is the real pipeline: dvc, peft, llama.cpp conversion and quantization, GGUF generation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dvc_project import build_project, dvc, edit_params, run, stages_run  # tests/dvc/, on sys.path under pytest

pytestmark = pytest.mark.slow

MODEL = "smollm2-135m-lora"


class Repo:
    def __init__(self, root: Path, first_output: str):
        self.root, self.first_output = root, first_output


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Repo:
    """The tiny project reproduced once from scratch and committed (dvc.lock, metrics) like a release."""
    root = build_project(tmp_path_factory.mktemp("e2e") / "proj")

    def tiny(p: dict[str, Any]) -> None:
        p["bases"] = {"tiny": str(tiny_model_dir)}
        m = p["models"][MODEL]
        m.update(base="tiny", r=4, alpha=8, max_steps=1, batch_size=2, grad_accum=1, warmup_steps=0, precision="fp32")
        p["quantize"].update(check_rows=1, check_tokens=8)
        p["evaluate"].update(rows_per_schema=1, max_rows=2, max_new_tokens=8, hf_batch_size=2)

    edit_params(root, tiny)
    out = dvc(root, "repro").stdout
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "tiny release"], root)
    return Repo(root, out)


def test_full_graph_in_a_temp_repo(tiny_repo: Repo) -> None:
    root, out = tiny_repo.root, tiny_repo.first_output
    ran = stages_run(out)
    for stage in ("base_model@tiny", "train@smollm2-135m-lora", "quantize@smollm2-135m-lora", "evaluate@smollm2-135m-lora", "report"):
        assert stage in ran, out
    m = root / "metrics" / MODEL
    ev = json.loads((m / "eval.json").read_text())
    for variant, decodings in (("hf_base", ("free", "constrained")), ("hf_tuned", ("free", "constrained")), ("gguf_q8_0", ("free", "constrained")), ("gguf_q4", ("free", "constrained"))):
        for d in decodings:
            for k in ("json_exact", "field_f1", "schema_valid", "json_parse", "latency_ms_p50", "latency_ms_p95", "tokens_per_s", "peak_rss_mb", "size_mb"):
                assert isinstance(ev[f"{variant}.{d}.{k}"], (int, float)), f"{variant}.{d}.{k}"
    assert json.loads((m / "train.json").read_text())["steps"] == 1
    assert json.loads((m / "quantize.json").read_text())["q8_0_size_mb"] > 0
    assert (root / "models" / MODEL / "predictions.jsonl").read_text().count("\n") == 2 * 8
    assert "hf_tuned" in (root / "metrics" / "report.md").read_text()
    assert "base_model:" in (root / "models" / MODEL / "README.md").read_text()
    assert "Data and pipelines are up to date" in dvc(root, "repro").stdout
    # dvc sees the metrics and the loss curve; every metric value is a number (DVC's diff needs them)
    shown = json.loads(dvc(root, "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]  # keyed by "workspace" or, when clean, the commit
    for name in ("metrics/release.json", f"metrics/{MODEL}/eval.json", "metrics/v3/quality.json"):
        assert name in files, sorted(files)

    def leaves(d: Any) -> list[Any]:
        return [x for v in d.values() for x in leaves(v)] if isinstance(d, dict) else [d]

    not_numbers = [(f, v) for f, body in files.items() for v in leaves(body["data"]) if not isinstance(v, (int, float))]
    assert not not_numbers, not_numbers[:5]
    plots = dvc(root, "plots", "show", "--json").stdout
    assert "loss" in plots


def test_push_then_pull_into_a_fresh_clone(tiny_repo: Repo, tmp_path: Path) -> None:
    """A local-directory remote: push, clone fresh, pull; the clone is up to date and repro runs nothing."""
    root = tiny_repo.root
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


def test_exp_run_with_a_training_param(tiny_repo: Repo) -> None:
    root = tiny_repo.root
    out = dvc(root, "exp", "run", "-n", "steps2", "-S", f"models.{MODEL}.max_steps=2").stdout
    ran = stages_run(out)
    assert f"train@{MODEL}" in ran and f"evaluate@{MODEL}" in ran, out
    assert not [s for s in ran if s.startswith(("generate@", "validate@", "base_model@"))], out
    params, metrics = _exp_params(root, "steps2")
    assert params["models"][MODEL]["max_steps"] == 2
    assert metrics[f"metrics/{MODEL}/train.json"]["data"]["steps"] == 2
    diff = dvc(root, "exp", "diff", "HEAD", "steps2", "--json").stdout
    assert f"models.{MODEL}.max_steps" in diff, diff


def test_exp_run_with_a_recipe_param(tiny_repo: Repo) -> None:
    root = tiny_repo.root
    out = dvc(root, "exp", "run", "-n", "seed1", "-S", "datasets.v3.seed=1").stdout
    ran = stages_run(out)
    assert {"generate@v3", "validate@v3", "split@v3", f"train@{MODEL}", "report"} <= ran, out
    assert "generate@v2" not in ran, out
    params, metrics = _exp_params(root, "seed1")
    assert params["datasets"]["v3"]["seed"] == 1
    assert metrics["metrics/release.json"]["data"]["dataset.rows_accepted"] > 0
