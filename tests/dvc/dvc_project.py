"""Helpers for the DVC end-to-end tests: a tiny, git-initialised copy of the project and a dvc runner.

Real `dvc` and real `git` run in a subprocess, in a copy of the project under a temporary folder,
with the repo's virtual environment first on PATH (so a stage's `python -m stages.commands.<module> ...` uses
it, and `python -m` imports the copy's `stages/` from the working directory, not the repo's).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a stage of the data half reads. No dvc.lock, no data: each copy is reproduced from scratch.
COPY_DIRS = ("stages", "schemas", "tools", "web/leaderboard", "leaderboard")
# The README files keep the folders the report and leaderboard stages read in a project without intent or funccall datasets.
COPY_FILES = (
    "dvc.yaml", "params.yaml", "pyproject.toml", ".dvc/config", ".dvcignore", ".gitignore", "metrics/intent/README.md", "metrics/funccall/README.md",
    "data/intent/README.md", "data/funccall/README.md", "data/sources/README.md", "metrics/tasks/README.md", "data/tasks/README.md",
)  # fmt: skip
TINY = {"rows_per_schema": 4, "min_per_schema": 4}
DVC_TIMEOUT_S = 900  # a safety net for a hung command, not a speed check: a loaded 2-core machine needs minutes for the whole graph
MODEL = "smollm2-135m-lora"


def venv_bin() -> Path:
    bin_dir = REPO_ROOT / ".venv" / "bin"
    return bin_dir if (bin_dir / "dvc").exists() else Path(sys.executable).parent


def dvc_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
    env["GX_ANALYTICS_ENABLED"] = "False"
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # so a killed run's log holds everything printed before the kill
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)  # the copy's stages/ must come from its working directory
    return env


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in `cwd`; stdout and stderr together in `.stdout`. A failure shows the output."""
    proc = subprocess.run(cmd, cwd=cwd, env=dvc_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=DVC_TIMEOUT_S)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode} in {cwd}:\n{proc.stdout}")
    return proc


def dvc(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["dvc", *args], project, check=check)


def stages_run(output: str) -> set[str]:
    """Names of the stages a `dvc repro` output says it ran."""
    return set(re.findall(r"Running stage '([^']+)'", output))


def edit_params(project: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def require_git_and_dvc() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (venv_bin() / "dvc").exists():
        pytest.skip(f"dvc is not installed in {venv_bin()}")


def git_init_commit(dest: Path, message: str) -> None:
    """`git init` in `dest` with a local identity, and commit everything there."""
    run(["git", "init", "-q"], dest)
    run(["git", "config", "user.name", "SLMBench tests"], dest)
    run(["git", "config", "user.email", "tests@slmbench.invalid"], dest)
    run(["git", "config", "commit.gpgsign", "false"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-q", "-m", message], dest)


def build_project(dest: Path) -> Path:
    """Copy the data half of the repo into `dest`, shrink params to 4 rows per schema, git init and commit."""
    require_git_and_dvc()
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in COPY_DIRS:
        shutil.copytree(REPO_ROOT / d, dest / d, ignore=ignore)
    for f in COPY_FILES:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / f, dest / f)

    def shrink(raw: dict[str, Any]) -> None:
        for recipe in raw["datasets"].values():
            recipe.update(TINY)
            if "schema_generator" in recipe:
                recipe["schema_generator"]["schemas"] = 6  # a few generated schemas, all three tiers
        # EdgeIntent's and EdgeFuncCall's stages have tests of their own (tests/dvc/test_intent.py, test_funccall.py), on tiny inputs
        raw.setdefault("intent", {})["datasets"] = {}
        raw.setdefault("funccall", {})["datasets"] = {}

    edit_params(dest, shrink)
    # vega as .ci/vega.sh fetches it into the venv (the leaderboard stage's dependency), copied from this one
    shutil.copytree(Path(sys.prefix) / "share" / "slmbench" / "vega", dest / ".venv" / "share" / "slmbench" / "vega")
    git_init_commit(dest, "tiny SLMBench project")
    return dest


def data_outputs(project: Path) -> dict[str, bytes]:
    """Every deterministic output of the data stages, by relative path. Data Docs carry timestamps: left out."""
    versions = sorted(yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))["datasets"])
    names = [f"data/{v}/{n}.jsonl" for v in versions for n in ("generated", "validated", "quarantine", "train", "test")]
    names += [f"data/{v}/generated_schemas.json" for v in versions]
    names += [f"metrics/datasets/{v}/{n}.json" for v in versions for n in ("quality", "split")]
    missing = [n for n in names if not (project / n).is_file()]
    assert not missing, f"missing outputs in {project}: {missing}"
    return {n: (project / n).read_bytes() for n in names}


def leftover_temp_files(project: Path) -> list[str]:
    """Temp files of an interrupted atomic write (`.<name>.<random>.tmp`) or Data Docs staging folders."""
    found = [p for p in (project / "data").rglob(".*.tmp")]
    found += [p for p in (project / "metrics").rglob("*.tmp")]
    return sorted(str(p.relative_to(project)) for p in found)


@dataclass
class Releases:
    root: Path
    v2_output: str  # `dvc repro` from scratch, released on v2: every stage runs
    v3_output: str  # then the release switched to v3: only the model stages rerun
    data: dict[str, bytes]  # data_outputs() right after the from-scratch run
    v2_files: dict[str, bytes]  # the model outputs of the first release, by relative path


def release(root: Path, version: str, message: str) -> str:
    """Point the release at `version`, `dvc repro`, commit and tag `edgejson-<version>`, as a maintainer does."""
    edit_params(root, lambda p: p["release"].update(dataset=version))
    out = dvc(root, "repro").stdout
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", message], root)
    run(["git", "tag", f"edgejson-{version}"], root)
    return out
