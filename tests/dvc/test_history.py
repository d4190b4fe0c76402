"""Dataset versions across git revisions, the DVC way, as a user runs it.

The `releases` fixture (conftest.py) is a temporary git repo from the project, released on v2 (tag
`edgejson-v2`) and then on v3 (tag `edgejson-v3`), with the tiny random Llama trained for one step on
each release's train split and scored on its test split. `dvc metrics diff`, `slmbench compare` and
`slmbench audit --revisions` read that history.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dvc_project import MODEL, Releases, dvc, dvc_env, edit_params, run, stages_run, venv_bin

pytestmark = pytest.mark.slow

SCORED = "gguf_q8_0.constrained"


def slmbench(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv_bin() / "python"), "-m", "stages.cli", *args], cwd=root, env=dvc_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def history_repo(releases: Releases) -> Path:
    assert f"train@{MODEL}" in stages_run(releases.v2_output), releases.v2_output
    ran = stages_run(releases.v3_output)
    # switching the release reruns the model stages on the other version's data, nothing upstream
    assert {f"train@{MODEL}", f"quantize@{MODEL}", f"evaluate@{MODEL}", f"card@{MODEL}", "report"} <= ran, releases.v3_output
    assert not [s for s in ran if s.startswith(("generate@", "validate@", "split@", "base_model@"))], releases.v3_output
    return releases.root


def test_metrics_diff_between_release_tags(history_repo: Path) -> None:
    diff = json.loads(dvc(history_repo, "metrics", "diff", "edgejson-v2", "edgejson-v3", "--json").stdout)
    release = diff.get("metrics/release.json", {})
    # v2's finance rows are corrupt (12 of 100 in this tiny copy); v3's are not
    assert release["dataset.corrupt_rate_full_suite"]["old"] > 0.1, release
    assert release["dataset.corrupt_rate_full_suite"]["new"] == 0, release
    assert "dataset.rows_regenerated" in release or "dataset.reject_rate" in release, release
    # the model trained on other data: another loss curve
    tr = diff.get(f"metrics/models/{MODEL}/train.json", {})
    assert tr["final_loss"]["old"] != tr["final_loss"]["new"], tr
    full = json.loads(dvc(history_repo, "metrics", "diff", "edgejson-v2", "edgejson-v3", "--all", "--json").stdout)
    ev = full.get(f"metrics/models/{MODEL}/eval.json", {})
    for k in (f"{SCORED}.json_exact", f"{SCORED}.field_f1", f"{SCORED}.schema_valid"):
        assert isinstance(ev[k]["old"], (int, float)) and isinstance(ev[k]["new"], (int, float)), (k, ev.get(k))
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
    # the totals defect (12 finance rows) and v2's doubled label words, which only the full suite checks
    assert v2["status"] == "known defect" and v2["gate_passed"] is True
    assert v2["corrupt_by_check"]["arithmetic"] == 12 and set(v2["corrupt_by_check"]) <= {"arithmetic", "clean_labels"}
    assert set(v2["corrupt_by_schema"]) >= {"invoice", "order_details", "shopping_cart"}
    assert v2["data_docs"] == "metrics/datasets/v2/data_docs/index.html"
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
    versions = {"v2", "v3", "v4"}  # every version params.yaml defines
    assert [r["revision"] for r in report["history"]] == ["workspace"] * len(versions)
    assert {e["version"] for e in report["versions"]} == versions
