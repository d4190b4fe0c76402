"""The whole graph in a temporary git + DVC repo, and what users then do with it, in one module so
that the `releases` fixture (conftest.py: the project released on v2, then on v3) is built once
per test run, on one worker.

1. End to end (base model to report): the release weights pushed to the DVC remote inside the
   repository, pulled into a fresh clone that re-scores them without training, and experiments. The base is a tiny random Llama (a local directory, one of the three base kinds);
   everything else is the real pipeline: dvc, peft, llama.cpp conversion and quantization, GGUF
   generation.
2. Dataset versions across git revisions, the DVC way, as a user runs it: `dvc metrics diff`,
   `slmbench compare` and `slmbench audit --revisions` read the two releases' history.
3. Rebuilds on a copy of the releases repo: a second repro runs nothing, an edit to stages/cli.py
   (the user's `slmbench`, which no stage runs) changes no stage, a param or schema edit reruns
   exactly what it affects, and a killed stage reruns cleanly.
4. The leaderboard site the graph builds, with two submissions, in headless Chromium.
5. Any number of models and dataset versions (a copy of the releases repo grows a second model
   and a fourth version).
6. `dvc plots show` on the releases repo draws every plot offline in headless Chromium.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from dvc_project import (  # tests/dvc/dvc_project.py; pytest puts this folder on sys.path
    DVC_TIMEOUT_S,
    MODEL,
    REPO_ROOT,
    TINY,
    Releases,
    build_project,
    data_outputs,
    dvc,
    dvc_env,
    edit_params,
    leftover_temp_files,
    run,
    stages_run,
    venv_bin,
)

pytestmark = pytest.mark.slow

# ---- 1. end to end ----------------------------------------------------------------------


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
                assert isinstance(ev[variant][d][k], (int, float)), f"{variant}.{d}.{k}"
    assert json.loads(v2[f"metrics/models/{MODEL}/train.json"])["steps"] == 1
    quantized = json.loads(v2[f"metrics/models/{MODEL}/quantize.json"])
    assert quantized["q8_0"]["size_mb"] > 0 and quantized["base_q8_0"]["size_mb"] > 0
    # 2 rows x 2 decodings x 2 variants on test_seen, and the release variant's 2 x 2 on test_unseen
    assert v2[f"models/{MODEL}/predictions.jsonl"].count(b"\n") == 2 * 4 + 2 * 2
    assert isinstance(ev["test_unseen"]["gguf_q8_0"]["constrained"]["json_exact"], (int, float))
    assert b"gguf_base" in v2["metrics/report.md"]
    assert b"base_model:" in v2[f"models/{MODEL}/README.md"]
    assert (root / "models" / MODEL / "gguf" / "model-q8_0.gguf").stat().st_size > 0
    # the second release scores only gguf_q8_0, so quantize made no GGUF of the base this time
    assert not (root / "models" / MODEL / "gguf" / "base-q8_0.gguf").exists()
    assert "base_q8_0" not in json.loads((root / "metrics" / "models" / MODEL / "quantize.json").read_text())
    assert "Data and pipelines are up to date" in dvc(root, "repro").stdout
    # dvc sees the metrics and the loss curve; every metric value it shows is a number (DVC's diff needs
    # them; it leaves the `_ci95` intervals, lists, out), but for split.json's `test_sha256`, the name of
    # the test set (what a submission must match), which DVC shows as a changed string when the set changes
    shown = json.loads(dvc(root, "metrics", "show", "--json").stdout)
    files = next(iter(shown.values()))["data"]  # keyed by "workspace" or, when clean, the commit
    for name in ("metrics/release.json", f"metrics/models/{MODEL}/eval.json", "metrics/datasets/v3/quality.json"):
        assert name in files, sorted(files)

    def leaves(d: Any) -> list[Any]:
        return [x for k, v in d.items() if k != "test_sha256" for x in leaves(v)] if isinstance(d, dict) else [d]

    not_numbers = [(f, v) for f, body in files.items() for v in leaves(body["data"]) if not isinstance(v, (int, float))]
    hashes = {f: body["data"]["test_sha256"] for f, body in files.items() if f.endswith("/split.json")}
    assert hashes and all(len(h) == 64 for h in hashes.values()), hashes
    assert not not_numbers, not_numbers[:5]
    plots = dvc(root, "plots", "show", "--json").stdout
    assert "loss" in plots


TIMING = re.compile(r"latency|tokens_per_s|peak_rss|wall|_s$|per_s")  # keys of figures that vary run to run


def quality_figures(d: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a metrics file but its timings, by dotted path."""
    if isinstance(d, dict):
        return {k: v for key, val in d.items() if not TIMING.search(key) for k, v in quality_figures(val, f"{path}.{key}" if path else key).items()}
    return {path: d}


def test_release_weights_pull_and_repro_in_a_fresh_clone(releases: Releases, tmp_path: Path) -> None:
    """The main job on a fresh clone: the release's adapter and checkpoint state are pushed to the DVC
    remote inside the repository (.dvc/config) and committed; a clone pulls them (`dvc pull
    --allow-missing`: every other output is `push: false`), and `dvc repro` skips training, rebuilds
    the rest from the data up, and scores the model to the committed metrics."""
    root = releases.root
    pushed = dvc(root, "push").stdout
    remote = root / "models" / "remote"
    objects = sorted(p for p in remote.rglob("*") if p.is_file())
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"]
    kept = {o["path"]: o["md5"] for o in lock[f"train@{MODEL}"]["outs"] if o["path"].startswith("models/")}  # its cached outputs; its metrics are git's
    assert set(kept) == {f"models/{MODEL}/adapter", f"models/{MODEL}/checkpoint"}, kept
    # the remote holds the train stage's outputs only: the two folders' listings and their files
    adapter_files = sorted(p.name for p in (root / "models" / MODEL / "adapter").iterdir())
    assert len(objects) == 2 + len(adapter_files) + 1, (pushed, objects)
    assert {f"{p.parent.name}{p.name}" for p in objects} >= {h for h in kept.values()}, objects
    run(["git", "add", "models/remote"], root)
    run(["git", "commit", "-q", "-m", "release weights in the in-repo DVC remote"], root)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(root), str(clone)], tmp_path)
    shutil.copytree(root / ".venv", clone / ".venv", symlinks=True)  # what the setup puts there (vega: the leaderboard's dependency)
    assert not (clone / "models" / MODEL / "adapter").exists() and not (clone / "models" / MODEL / "gguf").exists()
    pulled = dvc(clone, "pull", "--allow-missing").stdout
    assert (clone / "models" / MODEL / "adapter" / "adapter_model.safetensors").read_bytes() == (root / "models" / MODEL / "adapter" / "adapter_model.safetensors").read_bytes(), pulled
    assert not (clone / "models" / MODEL / "gguf").exists(), "a GGUF is rebuilt, never kept in the remote"
    out = dvc(clone, "repro").stdout
    ran = stages_run(out)
    assert f"train@{MODEL}" not in ran and f"Stage 'train@{MODEL}' didn't change, skipping" in out, out
    assert {"base_model@tiny", f"quantize@{MODEL}", f"evaluate@{MODEL}", f"card@{MODEL}", "report", "leaderboard"} <= ran, out
    for name in (f"metrics/models/{MODEL}/eval.json", f"metrics/models/{MODEL}/quantize.json", f"metrics/models/{MODEL}/train.json"):
        got, want = (json.loads((d / name).read_text(encoding="utf-8")) for d in (clone, root))
        assert quality_figures(got) == quality_figures(want), name
    assert (clone / "models" / MODEL / "predictions.jsonl").read_bytes() == (root / "models" / MODEL / "predictions.jsonl").read_bytes()
    assert json.loads(dvc(clone, "status", "--json").stdout) == {}

    # an adapter whose bytes were altered in the remote: DVC's hash check refuses it
    weights = next(p for p in objects if p.stat().st_size == (root / "models" / MODEL / "adapter" / "adapter_model.safetensors").stat().st_size)
    tampered = tmp_path / "tampered"
    run(["git", "clone", "-q", str(root), str(tampered)], tmp_path)
    obj = tampered / weights.relative_to(root)
    data = bytearray(obj.read_bytes())
    data[-1] ^= 0xFF
    obj.chmod(0o644)
    obj.write_bytes(bytes(data))
    refused = dvc(tampered, "pull", "-v", f"models/{MODEL}/adapter", check=False)  # .dvc/config: the remote's `verify = true`
    assert refused.returncode != 0, refused.stdout
    cached = tampered / ".dvc" / "cache" / obj.relative_to(tampered / "models" / "remote")
    assert f"corrupted cache file '{cached}'" in refused.stdout, refused.stdout
    assert re.search(rf"Checkout failed for following targets:\s+models/{MODEL}/adapter", refused.stdout), refused.stdout
    assert not (tampered / "models" / MODEL / "adapter" / "adapter_model.safetensors").exists() and not cached.exists()
    # the main job's pull skips it too, and repro would then train the model again rather than use it
    assert dvc(tampered, "pull", "--allow-missing").returncode == 0
    assert not (tampered / "models" / MODEL / "adapter" / "adapter_model.safetensors").exists()
    assert f"train@{MODEL}" in json.loads(dvc(tampered, "status", "--json").stdout)


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


# ---- 2. versions across git revisions ----------------------------------------------------

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


# ---- 3. rebuilds -------------------------------------------------------------------------

ALL_STAGES = {f"{s}@{v}" for s in ("generate", "validate", "split") for v in ("v2", "v3", "v4")}


class Project:
    def __init__(self, root: Path, first_output: str, initial: dict[str, bytes]):
        self.root, self.first_output, self.initial = root, first_output, initial


@pytest.fixture(scope="module")
def project(releases: Releases, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the `releases` repo (git, DVC cache, outputs), reproduced from scratch there; the
    tests here change the copy, and each leaves it up to date."""
    root = tmp_path_factory.mktemp("project") / "proj"
    shutil.copytree(releases.root, root, symlinks=True)
    return Project(root, releases.v2_output, data_outputs(root))


def assert_up_to_date(root: Path) -> None:
    status = dvc(root, "status", "--json", "--with-deps", "split").stdout
    assert json.loads(status) == {}, f"dvc status is not clean:\n{status}"


def test_first_repro_runs_every_data_stage(project: Project, reference_outputs: dict[str, bytes]) -> None:
    assert ALL_STAGES <= stages_run(project.first_output), project.first_output
    # what the from-scratch run wrote, still (the experiments above ran there and were undone)
    assert project.initial == reference_outputs


def test_second_repro_runs_nothing(project: Project) -> None:
    out = dvc(project.root, "repro", "split").stdout
    assert "Running stage" not in out, out
    assert "Data and pipelines are up to date." in out, out
    assert_up_to_date(project.root)


def test_a_cli_edit_changes_no_stage(project: Project) -> None:
    """Each stage runs its own module (`python -m stages.commands.<module>`) and depends on its import
    closure only: a new command or a help text in stages/cli.py leaves the whole graph, training
    included, up to date. An edit to a stage's own command module does change that stage."""
    root = project.root
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"]
    assert f"train@{MODEL}" in lock and "split@v2" in lock, sorted(lock)
    on_cli = [name for name, st in lock.items() if "stages.cli" in st["cmd"] or any(d["path"] == "stages/cli.py" for d in st.get("deps", []))]
    assert not on_cli, f"stages that run or list stages/cli.py: {on_cli}"

    def status() -> dict[str, Any]:
        return json.loads(dvc(root, "status", "--json").stdout or "{}")

    before = status()
    cli = root / "stages" / "cli.py"
    text = cli.read_text(encoding="utf-8")
    title = 'help="SLMBench: EdgeJSON data, models and metrics as a DVC pipeline."'
    assert title in text
    try:
        cli.write_text(text.replace(title, 'help="SLMBench (help text edited by the DVC tests)."') + "\n# a command added here reruns no stage\n", encoding="utf-8")
        after = status()
    finally:
        cli.write_text(text, encoding="utf-8")
    assert after == before, f"an edit to stages/cli.py changed stages:\n{json.dumps(after, indent=1)}"
    assert f"train@{MODEL}" not in before and "split@v2" not in before, before  # up to date, so an edit there would show

    card = root / "stages" / "commands" / "task_card.py"
    text = card.read_text(encoding="utf-8")
    try:
        card.write_text(text + "\n# edited by the DVC tests\n", encoding="utf-8")
        changed = status()
    finally:
        card.write_text(text, encoding="utf-8")
    assert {"changed deps": {"stages/commands/task_card.py": "modified"}} in changed.get(f"card@{MODEL}", []), changed
    assert status() == before


def test_v3_param_change_reruns_only_v3(project: Project) -> None:
    before = data_outputs(project.root)

    def bump_seed(raw: dict[str, Any]) -> None:
        raw["datasets"]["v3"]["seed"] += 1

    edit_params(project.root, bump_seed)
    out = dvc(project.root, "repro", "split").stdout
    ran = stages_run(out)
    assert {"generate@v3", "validate@v3", "split@v3"} <= ran, out
    assert not [s for s in ran if s.endswith("@v2")], out
    after = data_outputs(project.root)
    assert {k for k in after if after[k] != before[k]} >= {"data/v3/generated.jsonl", "data/v3/train.jsonl"}
    assert {k: v for k, v in after.items() if "/v2/" in k} == {k: v for k, v in before.items() if "/v2/" in k}
    assert_up_to_date(project.root)


def test_schema_edit_reruns_both_versions(project: Project) -> None:
    path = project.root / "schemas" / "simple" / "rating.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["description"] = schema.get("description", "") + " (edited by the DVC tests)"
    path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    out = dvc(project.root, "repro", "split").stdout
    ran = stages_run(out)
    # Both generate stages and both validate stages depend on the schemas folder.
    assert {"generate@v2", "generate@v3", "validate@v2", "validate@v3"} <= ran, out
    assert_up_to_date(project.root)


# --- SIGKILL -----------------------------------------------------------------------------------


def stage_command_running(pgid: int, needle: str) -> bool:
    """Whether a process of group `pgid` has `needle` in its command line (Linux /proc)."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if needle in cmdline and os.getpgid(int(d.name)) == pgid:
                return True
        except (OSError, ProcessLookupError):
            continue
    return False


def repro_killed_during(root: Path, stage: str, needle: str, delay_s: float) -> str:
    """Start `dvc repro split` in its own process group; SIGKILL the group `delay_s` after `needle` runs."""
    log = root.parent / f"{root.name}-{stage}.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(["dvc", "repro", "split"], cwd=root, env=dvc_env(), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + DVC_TIMEOUT_S
        while not stage_command_running(proc.pid, needle):
            if proc.poll() is not None:
                pytest.fail(f"dvc repro ended (exit {proc.returncode}) before {stage} started:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{stage} did not start within {DVC_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.02)
        time.sleep(delay_s)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
    text = log.read_text()
    assert proc.returncode == -signal.SIGKILL, f"dvc repro was not killed (exit {proc.returncode}):\n{text}"
    assert f"Running stage '{stage}'" in text, text
    lock = root / "dvc.lock"
    assert not lock.exists() or f"{stage}:" not in lock.read_text(), f"the kill came after {stage} had finished; nothing was interrupted"
    return text


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the stage's process through /proc (Linux)")
def test_sigkill_then_repro_recovers(tmp_path: Path, reference_outputs: dict[str, bytes]) -> None:
    root = build_project(tmp_path / "killed")
    # Killed while generate@v2's command runs (during its imports, before it writes), ...
    repro_killed_during(root, "generate@v2", "stages.commands.generate --version v2", delay_s=0.2)
    # ... then, on the next run, killed inside validate@v2 (GX is importing or running).
    repro_killed_during(root, "validate@v2", "stages.commands.task_validate --task edgejson --name v2", delay_s=1.0)
    out = dvc(root, "repro", "split").stdout
    ran = stages_run(out)
    assert "validate@v2" in ran and "generate@v2" not in ran, out
    # two independent checkouts, each reproduced from scratch (this one killed twice on the way):
    # every data file and metric is byte-identical
    outputs = data_outputs(root)
    assert sorted(outputs) == sorted(reference_outputs)
    differ = [name for name in reference_outputs if outputs[name] != reference_outputs[name]]
    assert not differ, f"after two SIGKILLs and a repro, outputs differ from a clean run: {differ}"
    assert all(outputs[n] for n in outputs if not n.endswith("quarantine.jsonl"))
    assert leftover_temp_files(root) == []
    assert_up_to_date(root)


@pytest.mark.slow
def test_sigkill_mid_write_leaves_no_temp_file_after_rewrite(tmp_path: Path) -> None:
    """The timed kills above rarely land inside a write (it takes milliseconds); this one does, every time."""
    target = tmp_path / "data" / "validated.jsonl"
    script = (
        "import os, signal, sys\nfrom pathlib import Path\nfrom stages.core.records import atomic_open\n"
        "with atomic_open(Path(sys.argv[1])) as fh:\n    fh.write('partial\\n')\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**dvc_env(), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", script, str(target)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not target.exists()
    from stages.core.records import write_rows

    write_rows(target, [{"id": "a"}])  # what the rerun of the stage does
    assert target.read_text() == '{"id": "a"}\n'
    assert sorted(p.name for p in target.parent.iterdir()) == ["validated.jsonl"]


# ---- 4. the leaderboard in a real browser -------------------------------------------------

XSS_NAME = "<script>alert(1)</script>"
XSS_FIELD = '"><img src=x onerror=alert(2)>'


def _submission(name: str, split_sha256: str, json_exact: float, size_mb: float, base: str) -> dict[str, Any]:
    """A fake but valid EdgeJSON submission (the format of stages/evaluate/submission.py)."""
    return {
        "format": 1, "name": name, "task": "edgejson", "dataset": "v3", "decoding": "constrained", "split_sha256": split_sha256, "n": 2,
        "metrics": {"json_exact": {"value": json_exact, "ci95": [0.0, 1.0], "n": 2}, "field_f1": {"value": 0.5, "ci95": [0.2, 0.8], "n": 2}},
        "metric_versions": {"json_exact": 1, "field_f1": 1},
        "model": {"file": "m.gguf", "sha256": "d" * 64, "size_bytes": 3_000_000, "size_mb": size_mb, "params": None, "runtime": "llama.cpp",
                  "quantization": "Q4_0", "base": base, "licence": XSS_FIELD},
        "speed": {"tokens_per_s": 250.0, "latency_ms_p50": 40.0, "peak_rss_mb": 60.0},
        "predictions_sha256": "e" * 64, "slmbench_commit": "f" * 40,
    }  # fmt: skip


def test_leaderboard_site_in_a_real_browser(project: Project, tmp_path: Path) -> None:
    """`dvc repro` built site/ with the tiny release; two submissions (one on the current split whose
    name and fields are markup, one on an older split) and the stage's command rebuild it; headless Chromium opens each page
    from file:// with no network: the rows are there, sorting reorders them, the chart is drawn, the
    markup shows as text and runs nothing, and the console is clean."""
    from browser import Browser

    root = project.root
    assert (root / "site/index.html").is_file()  # built by the releases' `dvc repro`
    split = hashlib.sha256((root / "data/v3/test.jsonl").read_bytes()).hexdigest()
    subs = root / "leaderboard/submissions"
    (subs / "edgejson-v3-xss.json").write_text(json.dumps(_submission(XSS_NAME, split, 0.25, 3.0, XSS_FIELD)), encoding="utf-8")
    (subs / "edgejson-v3-old.json").write_text(json.dumps(_submission("old-split-model", "0" * 64, 0.9, 2.0, "b")), encoding="utf-8")
    # the stage's own command (what `dvc repro leaderboard` runs; the fixture's repro ran the stage itself)
    run([str(venv_bin() / "python"), "-m", "stages.commands.leaderboard", "--out", "site", "--submissions", "leaderboard/submissions"], root)
    board = json.loads((root / "site/leaderboard.json").read_text(encoding="utf-8"))
    (table,) = board["tables"]
    ids = [r["id"] for r in table["rows"]]
    assert [r["model"] for r in table["rows"]].count(XSS_NAME) == 1 and len(ids) == 3, ids  # q8_0 free and constrained, and the submission
    with Browser(tmp_path / "browser") as browser:
        for name in ("index", "edgejson"):
            page = browser.open((root / "site" / f"{name}.html").as_uri())
            assert page.wait_for("document.body.dataset.ready === '1'", 20), name
            assert page.screenshot(tmp_path / f"{name}.png").stat().st_size > 10_000
            assert page.evaluate("document.body.dataset.errors") == "0" and not page.errors, page.errors
        # page is edgejson.html now
        order = "[...document.querySelectorAll('table.lb tbody.entry')].map(b => b.dataset.id)"
        values = "[...document.querySelectorAll('table.lb tbody.entry')].map(b => b.rows[0].cells[4].dataset.value)"
        assert sorted(page.evaluate(order)) == sorted(ids)
        assert page.evaluate("document.querySelector('table.lb thead th:nth-child(5)').textContent") == "JSONExact"
        page.evaluate("document.querySelector('table.lb thead th:nth-child(5) button').click()")
        up = [float(v) for v in page.evaluate(values)]
        assert up == sorted(up) and page.evaluate("document.querySelector('table.lb thead th:nth-child(5)').getAttribute('aria-sort')") == "ascending"
        page.evaluate("document.querySelector('table.lb thead th:nth-child(5) button').click()")
        down = [float(v) for v in page.evaluate(values)]
        assert down == sorted(up, reverse=True)
        # the chart: one vega view, one point per row with a size
        assert page.evaluate("document.body.dataset.charts") == "1"
        points = page.evaluate("document.querySelectorAll('.chart svg g.mark-symbol.role-mark path').length")
        assert points == sum(1 for r in table["rows"] if r["size_mb"]), points
        # the submitted markup is text: shown as typed, no element made from it, no dialog opened
        text = page.evaluate("document.querySelector('table.lb').innerText")
        assert XSS_NAME in text and XSS_FIELD in text
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        # (the page's JSON data block holds the name, \u-escaped, and is never run)
        assert page.evaluate("[...document.scripts].filter(s => s.type !== 'application/json' && s.textContent.includes('alert(')).length") == 0
        assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
        # the stale one is listed with its reason, not as a row
        stale = page.evaluate("document.querySelector('.stale').innerText")
        assert "old-split-model" in stale and "scored on test split 000000000000" in stale
        # a breakdown opens from its row
        page.evaluate("document.querySelector('button.open').click()")
        assert page.evaluate("document.querySelector('tr.detail:not([hidden]) table.breakdown') !== null")
        # the filter hides rows of another decoding
        page.evaluate("(() => { const s = document.querySelector('select.filter[data-key=decoding]'); s.value = 'free'; s.dispatchEvent(new Event('change')); })()")
        assert page.evaluate("[...document.querySelectorAll('tbody.entry')].filter(b => !b.hidden).length") == 1


# ---- 5. more models and versions ----------------------------------------------------------
# Any number of models and dataset versions: dvc.yaml names none, params.yaml lists them.
# 
# A copy of the `releases` repo (conftest.py: released on v3, its DVC cache and outputs included)
# gets a second tiny model under `models:` and another dataset version under `datasets:`. One
# `dvc repro` runs the new entries' stages and the summary, and nothing of the first model or the
# old versions; the report, the plots and the artifacts then show both models and every
# version. Editing one model's params then invalidates only that model's stages and the summary.

SECOND = "tiny-second-lora"
THIRD = "v5"  # params.yaml already has v2, v3 and v4


class Grown:
    def __init__(self, root: Path, output: str):
        self.root, self.output = root, output


@pytest.fixture(scope="module")
def grown(releases: Releases, tmp_path_factory: pytest.TempPathFactory) -> Grown:
    root = tmp_path_factory.mktemp("models") / "proj"
    shutil.copytree(releases.root, root, symlinks=True)

    def grow(p: dict[str, Any]) -> None:
        # the first model's settings with another seed and rank, on the same tiny base
        p["models"][SECOND] = dict(p["models"][MODEL], seed=7, r=2, alpha=4)
        p["datasets"][THIRD] = dict(p["datasets"]["v3"], seed=p["datasets"]["v3"]["seed"] + 1, **TINY)

    edit_params(root, grow)
    out = dvc(root, "repro").stdout
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "a second model and a third dataset version"], root)
    return Grown(root, out)


def test_new_entries_run_their_own_stages_and_the_summary_only(grown: Grown) -> None:
    ran = stages_run(grown.output)
    expected = {f"{s}@{THIRD}" for s in ("generate", "validate", "split")} | {f"{s}@{SECOND}" for s in ("train", "quantize", "evaluate", "card")} | {"report", "leaderboard"}
    assert ran == expected, grown.output
    status = json.loads(dvc(grown.root, "status", "--json").stdout)
    assert status == {}, status


def test_both_models_and_every_version_are_reported(grown: Grown) -> None:
    from stages.tasks.edgejson.figures import figure, group, load

    report = (grown.root / "metrics" / "report.md").read_text(encoding="utf-8")
    for model in (MODEL, SECOND):
        ev = load(grown.root / "metrics" / "models" / model / "eval.json")
        seen, unseen = group(ev, "gguf_q8_0", "constrained"), group(ev, "test_unseen", "gguf_q8_0", "constrained")
        assert "n" in seen, sorted(ev)[:20]
        assert "n" in unseen, "the release variant is scored on the held-out schemas too"
        unseen_row = next(line for line in report.splitlines() if line.startswith(f"| {model} | gguf_q8_0 | constrained | test_unseen |"))
        assert figure(unseen, "json_exact") in unseen_row, unseen_row
        row = next(line for line in report.splitlines() if line.startswith(f"| {model} | gguf_q8_0 | constrained | {seen['n']} |"))
        # n, then each quality figure with its interval when eval.json has one
        assert row.split(" | ")[3] == str(seen["n"]) and figure(seen, "json_exact") in row, row
        assert f"### {model}: quantization check" in report
        card = (grown.root / "models" / model / "README.md").read_text(encoding="utf-8")
        assert card.startswith("---\n") and f"# {model}\n" in card and f"{figure(seen, 'json_exact')}, n={seen['n']}" in card
    for version in ("v2", "v3", "v4", THIRD):
        assert f"| {version}" in report, report
    quality = json.loads((grown.root / "metrics" / "dataset_quality.json").read_text(encoding="utf-8"))
    assert [r["version"] for r in quality] == ["v2", "v3", "v4", THIRD]


def test_both_models_have_plots_and_artifacts(grown: Grown) -> None:
    from dvc.repo import Repo

    shown = json.loads(dvc(grown.root, "plots", "show", "--json").stdout)["data"]  # plot id -> its vega specs
    for model in (MODEL, SECOND):
        for path in (f"metrics/models/{model}/train_live/plots/metrics/loss.tsv", f"metrics/models/{model}/tier_scores.json"):
            assert path in shown, sorted(shown)
    assert "dataset_quality" in shown, sorted(shown)
    repo = Repo(str(grown.root))
    try:
        annotated = {o.def_path: o.annot for o in repo.index.outs if o.annot.type}
        release = repo.artifacts.read()["dvc.yaml"]["edgejson-release"]
    finally:
        repo.close()
    for model in (MODEL, SECOND):
        assert annotated[f"models/{model}/gguf"].type == "model" and model in (annotated[f"models/{model}/gguf"].desc or "")
    for version in ("v2", "v3", "v4", THIRD):
        assert annotated[f"data/{version}/validated.jsonl"].type == "dataset"
    assert release.path == "data/v3/validated.jsonl"


def test_editing_one_model_invalidates_only_its_stages_and_the_summary(grown: Grown) -> None:
    """`dvc status` names the stages whose own inputs changed; what runs after them is downstream in
    DVC's graph. Together: the second model's stages and the report, nothing of the first model."""
    from dvc.repo import Repo

    edit_params(grown.root, lambda p: p["models"][SECOND].update(lr=p["models"][SECOND]["lr"] / 2))
    try:
        changed = set(json.loads(dvc(grown.root, "status", "--json").stdout))
        # quantize and evaluate look the model up by its entry (the generic stages' recipe check), so they declare it too
        assert changed == {f"train@{SECOND}", f"quantize@{SECOND}", f"evaluate@{SECOND}", f"card@{SECOND}", "report", "leaderboard"}, changed
        repo = Repo(str(grown.root))
        try:
            graph = repo.index.graph
            by_name = {s.name: s for s in graph.nodes}
            import networkx as nx

            # DVC's graph points from a stage to the stages it depends on: what reruns is what reaches a changed one
            reruns = {s.name for s in graph.nodes if any(nx.has_path(graph, s, by_name[c]) for c in changed)}
        finally:
            repo.close()
        assert reruns == {f"{s}@{SECOND}" for s in ("train", "quantize", "evaluate", "card")} | {"report", "leaderboard"}, reruns
    finally:
        run(["git", "checkout", "-q", "--", "params.yaml"], grown.root)


# ---- 6. dvc plots show in a browser --------------------------------------------------------
# `dvc plots show` on a built repo makes a page that draws every plot offline, in a real browser.
# 
# The tiny release repo of tests/dvc/conftest.py (the whole graph reproduced: per-model training
# curves and tier scores, the per-version quality plot) gets `dvc plots show` with the offline page
# template that `.ci/plots.sh` writes (vega, vega-lite and vega-embed inlined). Headless Chromium then opens the
# page: the template records JavaScript errors and describes the vega views it drew in the body's
# data attributes, which `--dump-dom` returns; a screenshot is kept next to the page for a look.

TEMPLATE = REPO_ROOT / ".venv" / "share" / "slmbench" / "plots" / "template.html"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",  # ms of page time: the template reports within about 10 s
)
CHROMIUM_TIMEOUT_S = 90
HTML_ID = {ord(c): "_" for c in r"!@#$%^&*()[]{};,<>?\/:.|`~=_+ "}  # a plot's div id, as dvc_render's Renderer makes it
EMBED_CALL = re.compile(r"vegaEmbed\('#([^']+)'")
MIN_SCREENSHOT_BYTES = 10_000


def chromium() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


class _PageState(HTMLParser):
    """The body's attributes and the text of the template's error box in a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.errors = ""
        self._in_errors = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and not self.body:
            self.body = {k: v or "" for k, v in attrs}
        self._in_errors = tag == "pre" and dict(attrs).get("id") == "slmbench-js-errors"

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.errors += data


def top_level_plots_with_data(project: Path) -> list[str]:
    """The HTML ids of dvc.yaml's top-level plots whose data files are all in the clone."""
    ids = []
    for entry in yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8")).get("plots") or []:
        name, spec = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        files = set()
        for axis in ("x", "y"):
            value = (spec or {}).get(axis)
            if isinstance(value, dict):
                files.update(value)
        if not files:
            files = {name}  # a plot named by its data file
        if all((project / f).is_file() for f in files):
            ids.append(name.translate(HTML_ID))
    return ids


def browse(browser: str, page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `page`, with a fresh profile (a used one can hang on refused connections)."""
    profile = work / f"profile-{len(list(work.glob('profile-*')))}"
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish in {CHROMIUM_TIMEOUT_S} s: {' '.join(cmd)}")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-3000:]}"
    return proc


def test_plots_show_renders_offline_in_chromium(tmp_path: Path, releases: Releases) -> None:
    # A missing template or browser is a failure, never a skip: the README's test command installs both.
    assert TEMPLATE.is_file(), f"no offline plots template at {TEMPLATE.relative_to(REPO_ROOT)}: run `bash .ci/setup.sh --tests`"
    browser = chromium()
    assert browser is not None, "chromium is not installed: run `bash .ci/setup.sh --tests` (as root it installs chromium with apt-get)"
    project = releases.root  # `plots show` only reads the repo; the page goes to tmp_path

    out = tmp_path / "plots"
    dvc(project, "plots", "show", "--html-template", str(TEMPLATE), "-o", str(out))
    page = out / "index.html"
    assert page.is_file(), f"dvc plots show wrote no {page}"
    html = page.read_text(encoding="utf-8")
    remote = re.findall(r"<script[^>]+src=[\"']?([^\"'\s>]+)", html)
    assert not remote, f"the plots page loads scripts from elsewhere, it needs the network: {remote}"
    expected = EMBED_CALL.findall(html)
    assert expected, f"dvc plots show wrote no vega plot into {page}"
    missing = sorted(set(top_level_plots_with_data(project)) - set(expected))
    assert not missing, f"top-level plots of dvc.yaml not in the page (no data?): {missing}"

    state = _PageState()
    state.feed(browse(browser, page, tmp_path, "--dump-dom").stdout)
    body = state.body
    screenshot = tmp_path / "plots.png"
    browse(browser, page, tmp_path, f"--screenshot={screenshot}", "--window-size=1400,2400")
    size = screenshot.stat().st_size if screenshot.is_file() else 0
    shot = f"screenshot {screenshot} ({size} bytes)"
    print(shot)

    assert body.get("data-plots-done") == "1", f"the page did not report its plots (template not used?): body {body}; {shot}"
    assert body.get("data-js-errors") == "0", f"JavaScript errors in {page}:\n{state.errors}\n{shot}"
    n = str(len(expected))
    counts = {k: body.get(f"data-vega-{k}") for k in ("calls", "embedded", "failed", "views")}
    assert counts == {"calls": n, "embedded": n, "failed": "0", "views": n}, (
        f"{n} plots in the page, vega views: {counts}; {shot}"
    )
    status = json.loads(body.get("data-vega-status", "[]"))
    assert sorted(v["id"] for v in status) == sorted(expected), f"drawn views {status} != plots {expected}; {shot}"
    empty = [v for v in status if v["marks"] <= 0 or v["ink"] <= 0]
    assert not empty, f"views with no data marks or nothing painted: {empty}; {shot}"
    assert size > MIN_SCREENSHOT_BYTES, f"{shot}: expected more than {MIN_SCREENSHOT_BYTES} bytes"


# ---- 7. a fourth task is a unit ------------------------------------------------------------

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "sentiment"
SENTIMENT = ("prepare", "validate", "split", "train", "quantize", "evaluate", "card")


def add_sentiment_task(root: Path) -> None:
    """What a contributor adds for a new task: its folder, its params section and its stage blocks. Nothing else."""
    folder = root / "stages" / "tasks" / "sentiment"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""ToySentiment: a toy task (tests/fixtures/sentiment)."""\n', encoding="utf-8")
    for name in ("task.py", "pipeline.py", "card.py", "reviews.jsonl"):
        shutil.copy2(FIXTURE / name, folder / name)

    def section(p: dict[str, Any]) -> None:
        p["tasks"] = {
            "sentiment": {
                "datasets": {"toy": {"seed": 3, "test_fraction": 0.25, "max_chars": 200, "max_reject_rate": 0.1}},
                # the tiny random Llama of the releases repo (`bases.tiny`), one LoRA step: the stages, not the model, are under test
                "mlm": {"base": "tiny", "r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"], "lr": 0.001, "scheduler": "constant",
                        "warmup_steps": 0, "epochs": 1, "max_steps": 1, "batch_size": 4, "grad_accum": 1, "max_length": 256, "threads": 2,
                        "precision": "fp32", "seed": 5},
                "mlm_scoring": {"qtype": "q8_0", "check_rows": 8, "parallel": 4},
                "bootstrap_samples": 200,
            }
        }  # fmt: skip

    edit_params(root, section)
    dvc_yaml = root / "dvc.yaml"
    text = dvc_yaml.read_text(encoding="utf-8")
    assert text.count("\nplots:\n") == 1  # its blocks go at the end of `stages:`, before the plots section
    dvc_yaml.write_text(text.replace("\nplots:\n", "\n" + (FIXTURE / "dvc_stages.yaml").read_text(encoding="utf-8") + "\nplots:\n"), encoding="utf-8")


def test_a_fourth_task_touches_only_its_folder_params_and_stage_blocks(releases: Releases, tmp_path: Path) -> None:
    """A toy sentiment task joins a copy of the released project: its rows are validated and split,
    a tiny model is trained, quantized (through the shared gate) and scored by the generic stages,
    and the report and the leaderboard show it. Only its stages and the two summaries run, and git
    sees nothing changed outside its folder, params.yaml and dvc.yaml (plus what DVC writes)."""
    root = tmp_path / "proj"
    shutil.copytree(releases.root, root, symlinks=True)
    assert run(["git", "status", "--porcelain"], root).stdout == ""
    add_sentiment_task(root)

    # dvc.yaml gains its blocks and loses or changes no line
    diff = run(["git", "diff", "-U0", "dvc.yaml"], root).stdout
    assert not [x for x in diff.splitlines() if x.startswith("-") and not x.startswith("---")], diff
    # its stage blocks declare exactly the code, data and params keys they read (tests/code/test_deps.py's check, on the copy)
    sys.path.insert(0, str(REPO_ROOT / "tests" / "code"))
    import test_deps as deps  # noqa: PLC0415

    from stages.core import params as P  # noqa: PLC0415

    copy_params = P.load(root / "params.yaml")
    problems = [line for s in deps.resolved_stages(root) if s.name.startswith("sentiment_") for line in deps.missing(s, root, copy_params)]
    assert problems == [], "\n".join(problems)

    out = dvc(root, "repro").stdout
    assert stages_run(out) == {f"sentiment_{s}@toy" for s in SENTIMENT} | {"report", "leaderboard"}, out

    quality = json.loads((root / "metrics/tasks/sentiment/toy/quality.json").read_text(encoding="utf-8"))
    assert (quality["rows_in"], quality["rows_accepted"], quality["gate_passed"]) == (40, 38, True), quality
    assert quality["reasons"] == {"empty_text": 1, "label_not_in_set": 1} and all(quality["expectations"].values()), quality
    split = json.loads((root / "metrics/tasks/sentiment/toy/split.json").read_text(encoding="utf-8"))
    assert (split["train_rows"], split["test_rows"]) == (28, 10), split
    qz = json.loads((root / "metrics/tasks/sentiment/toy/mlm/quantize.json").read_text(encoding="utf-8"))
    assert qz["check_n"] == 8 and qz["agreement"] >= 0.5 and qz["agreement_n"] == 8, qz
    ev = json.loads((root / "metrics/tasks/sentiment/toy/mlm/eval.json").read_text(encoding="utf-8"))["models"]["mlm"]
    assert ev["n"] == 10 and ev["accuracy_n"] == 10 and ev["accuracy_ci95"][0] <= ev["accuracy"] <= ev["accuracy_ci95"][1], ev
    assert ev["positive_recall_n"] == 5 and ev["size_bytes"] == (root / "models/tasks/sentiment/toy/mlm/gguf/model-q8_0.gguf").stat().st_size
    card = (root / "models/tasks/sentiment/toy/README.md").read_text(encoding="utf-8")
    assert f"{ev['accuracy']:.3f}" in card and "(n=10)" in card
    report = (root / "metrics/report.md").read_text(encoding="utf-8")
    assert "## ToySentiment" in report and f"{ev['accuracy']:.3f} [" in report
    board = json.loads((root / "site/leaderboard.json").read_text(encoding="utf-8"))
    table = next(t for t in board["tables"] if t["task"] == "sentiment")
    assert table["rows"][0]["metrics"]["accuracy"]["value"] == ev["accuracy"], table

    # git: the new task's folder, params.yaml and dvc.yaml; the rest is what DVC wrote (dvc.lock, outputs and their .gitignore entries)
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"]
    outs = {o["path"] for st in lock.values() for o in st.get("outs", [])}
    changed = [line[3:].strip() for line in run(["git", "status", "--porcelain", "--untracked-files=all"], root).stdout.splitlines()]
    allowed = ("stages/tasks/sentiment/", "params.yaml", "dvc.yaml", "dvc.lock")
    written = lambda f: any(f == o or f.startswith(o.rstrip("/") + "/") for o in outs) or f.endswith(".gitignore")  # noqa: E731
    assert changed and not [f for f in changed if not f.startswith(allowed) and not written(f)], changed
    # and only the new task's outputs among them, besides the two summaries
    summaries = ("metrics/report.md", "metrics/release.json", "metrics/dataset_quality.json", "site")
    assert not [f for f in changed if written(f) and not f.endswith(".gitignore") and "/tasks/sentiment/" not in f and not f.startswith(summaries)], changed
