"""Dataset versions across git revisions, the DVC way, as a user runs it.

A temporary git repo from the project releases on v2 (tag `edgejson-v2`), then switches the
release to v3 and releases again (tag `edgejson-v3`). The model is the real embedded
SmolLM2-135M base with a four-step LoRA, scored as GGUF Q8_0 on ten simple-tier test rows, so the model's
scores really depend on the data. Then `dvc metrics diff`, `slmbench compare` and
`slmbench audit --revisions` read that history.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dvc_project import build_project, dvc, dvc_env, edit_params, run, stages_run, venv_bin

pytestmark = pytest.mark.slow

MODEL = "smollm2-135m-lora"
SCORED = "gguf_q8_0.constrained"


def slmbench(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv_bin() / "python"), "-m", "stages.cli", *args], cwd=root, env=dvc_env(), capture_output=True, text=True, timeout=300)


def release(root: Path, version: str, message: str) -> str:
    edit_params(root, lambda p: p["release"].update(dataset=version))
    out = dvc(root, "repro").stdout
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", message], root)
    run(["git", "tag", f"edgejson-{version}"], root)
    return out


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_project(tmp_path_factory.mktemp("history") / "proj")  # commit 1: no metrics yet

    def small(p: dict[str, Any]) -> None:
        m = p["models"][MODEL]
        m.update(r=8, alpha=16, lr=0.002, max_steps=4, batch_size=2, grad_accum=1, warmup_steps=0, max_length=768)
        p["quantize"].update(check_rows=1, check_tokens=8, min_agreement=0.0)
        p["evaluate"].update(rows_per_schema=1, max_rows=10, max_new_tokens=96, variants=["gguf_q8_0"], tiers=["simple"])

    edit_params(root, small)
    out = release(root, "v2", "release on v2")
    assert f"train@{MODEL}" in stages_run(out), out
    out = release(root, "v3", "release on v3")
    ran = stages_run(out)
    assert {f"train@{MODEL}", f"evaluate@{MODEL}", "report"} <= ran, out
    assert not [s for s in ran if s.startswith(("generate@", "validate@", "base_model@"))], out
    return root


def test_metrics_diff_between_release_tags(history_repo: Path) -> None:
    diff = json.loads(dvc(history_repo, "metrics", "diff", "edgejson-v2", "edgejson-v3", "--json").stdout)
    release = diff.get("metrics/release.json", {})
    # v2's finance rows are corrupt (12 of 100 in this tiny copy); v3's are not
    assert release["dataset.corrupt_rate_full_suite"]["old"] > 0.1, release
    assert release["dataset.corrupt_rate_full_suite"]["new"] == 0, release
    assert "dataset.rows_regenerated" in release or "dataset.reject_rate" in release, release
    ev = diff.get(f"metrics/{MODEL}/eval.json", {})
    for k in (f"{SCORED}.json_exact", f"{SCORED}.field_f1"):
        assert k in ev and ev[k]["old"] != ev[k]["new"], (k, ev.get(k))
    md = dvc(history_repo, "metrics", "diff", "edgejson-v2", "edgejson-v3", "--md").stdout
    assert "| metrics/release.json" in md and "dataset.corrupt_rate_full_suite" in md, md


def test_compare_across_tags_and_in_the_workspace(history_repo: Path) -> None:
    proc = slmbench(history_repo, "compare", "v2@edgejson-v2", "v3@edgejson-v3", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["metric"]: r for r in json.loads(proc.stdout)["rows"]}
    assert rows["quality.corrupt_rate_full_suite"]["a"] > 0.1 and rows["quality.corrupt_rate_full_suite"]["b"] == 0
    # the model trained on each version, scored on that version's test split
    assert rows[f"{MODEL}.{SCORED}.json_exact"]["a"] is not None and rows[f"{MODEL}.{SCORED}.json_exact"]["b"] is not None
    # in the workspace both versions exist; only v3 has a model
    proc = slmbench(history_repo, "compare", "v2", "v3", "--md")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if f"{SCORED}.json_exact" in ln)
    assert line.split("|")[2].strip() == "n/a", line


def test_compare_bad_input_is_one_line(history_repo: Path) -> None:
    proc = slmbench(history_repo, "compare", "v2", "v9")
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "v9" in proc.stderr, proc.stderr
    proc = slmbench(history_repo, "compare", "v2", "v3@no-such-tag")
    assert proc.returncode == 2 and "no-such-tag" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    first = run(["git", "rev-list", "--max-parents=0", "HEAD"], history_repo).stdout.strip()
    proc = slmbench(history_repo, "compare", f"v3@{first}", "v3")  # the first commit has no metrics
    assert proc.returncode == 0, proc.stderr
    assert "not available" in proc.stdout, proc.stdout


def test_audit_over_revisions(history_repo: Path) -> None:
    proc = slmbench(history_repo, "audit", "--revisions", "all", "--json")
    assert proc.returncode == 0, proc.stderr  # v2 is a known defect in its recipe
    report = json.loads(proc.stdout)
    v2 = next(e for e in report["versions"] if e["version"] == "v2")
    assert v2["status"] == "known defect" and v2["corrupt_by_check"] == {"arithmetic": 12} and v2["gate_passed"] is True
    assert set(v2["corrupt_by_schema"]) == {"invoice", "order_details", "shopping_cart"}
    assert v2["data_docs"] == "metrics/v2/data_docs/index.html"
    hist = report["history"]
    tagged = {r["revision"].split("(")[-1].rstrip(")"): r for r in hist if "(" in r["revision"] and r.get("release")}
    assert tagged["edgejson-v2"]["version"] == "v2" and tagged["edgejson-v3"]["version"] == "v3"
    assert tagged["edgejson-v2"]["json_exact"] is not None and tagged["edgejson-v3"]["json_exact"] is not None
    assert any(not r["available"] for r in hist)  # the first commit, before any run
    plot = Path(report["plot"])
    assert plot.is_absolute() and plot.is_relative_to(history_repo.resolve()), plot  # written inside the audited repo
    assert plot.is_file() and "vegaEmbed" in plot.read_text(), plot
    assert json.loads(plot.with_suffix(".json").read_text())

    # Without the recipe's note v2 fails today's suite (exit 1); --allow marks it known.
    edit_params(history_repo, lambda p: p["datasets"]["v2"].pop("known_defect", None))
    try:
        proc = slmbench(history_repo, "audit")
        assert proc.returncode == 1 and "v2" in proc.stderr, (proc.stdout, proc.stderr)
        assert slmbench(history_repo, "audit", "--allow", "v2", "--md").returncode == 0
    finally:
        run(["git", "checkout", "--", "params.yaml"], history_repo)


def test_audit_without_git_history(tmp_path: Path, history_repo: Path) -> None:
    """A copy with no .git at all (a tarball, say): the workspace is still reported."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(history_repo, copy, ignore=shutil.ignore_patterns(".git", "models"))
    run(["dvc", "config", "core.no_scm", "true"], copy)
    proc = slmbench(copy, "audit", "--revisions", "all", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["revision"] for r in report["history"]] == ["workspace", "workspace"]
    assert {e["version"] for e in report["versions"]} == {"v2", "v3"}
