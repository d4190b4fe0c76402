"""`dvc repro` end to end on a tiny copy of the data half (generate -> validate -> split, per version).

Real dvc and real git in a temporary copy (see conftest.py), 4 rows per schema. `dvc repro split`
reproduces the `split` foreach group and everything upstream of it (generate@*, validate@*).
The tests that change a project work on a copy of the `releases` repo (conftest.py), which was
reproduced from scratch with the same data params; the SIGKILL test reproduces its own copy from
scratch, killed twice on the way, and must give the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from dvc_project import (  # tests/dvc/dvc_project.py; pytest puts this folder on sys.path
    DVC_TIMEOUT_S,
    REPO_ROOT,
    Releases,
    build_project,
    data_outputs,
    dvc,
    dvc_env,
    edit_params,
    leftover_temp_files,
    stages_run,
)

pytestmark = pytest.mark.slow

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
    # what the from-scratch run wrote, still (experiments in test_e2e.py ran there and were undone)
    assert project.initial == reference_outputs


def test_second_repro_runs_nothing(project: Project) -> None:
    out = dvc(project.root, "repro", "split").stdout
    assert "Running stage" not in out, out
    assert "Data and pipelines are up to date." in out, out
    assert_up_to_date(project.root)


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
    repro_killed_during(root, "generate@v2", "stages.cli generate --version v2", delay_s=0.2)
    # ... then, on the next run, killed inside validate@v2 (GX is importing or running).
    repro_killed_during(root, "validate@v2", "stages.cli validate --version v2", delay_s=1.0)
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
