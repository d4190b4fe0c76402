"""A task is a unit: the registry finds every task folder, each provides the whole interface, bad
names and incomplete folders fail in one line, and code outside stages/tasks/ never asks which
task it runs (no comparison of a task with a literal, no literal task name)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stages.cli import app
from stages.core.errors import SLMBenchError
from stages.tasks import registry

# Modules outside stages/tasks/ that still name a task, each with its count of findings: none is
# left. A new finding fails, and so does an entry that no longer matches.
KNOWN_DEBT: dict[str, int] = {}


def test_the_registry_finds_every_task_and_each_provides_the_interface() -> None:
    names = registry.task_names()
    assert names == ["edgejson", "funccall", "intent"]
    for task in registry.tasks():
        assert all(hasattr(task, part) for part in registry.PARTS), task.NAME
        assert task.METRICS and set(task.METRICS) <= set(task.metric_versions()), task.NAME
    assert [t.NAME for t in registry.tasks()] == ["edgejson", "intent", "funccall"], "leaderboard order: ORDER, then name"


def test_an_unknown_task_is_one_line_naming_the_key_and_the_registered_names(tmp_path: Path) -> None:
    with pytest.raises(SLMBenchError) as err:
        registry.get("sentiment", "datasets.toy.task")
    assert str(err.value) == "datasets.toy.task: 'sentiment' is not a registered task; expected one of edgejson, funccall, intent"
    r = CliRunner().invoke(app, ["evaluate", "--task", "sentiment", "--model", str(tmp_path / "m.gguf"), "--data", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "o.json")])
    assert r.exit_code != 0
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert lines == ["error: --task: 'sentiment' is not a registered task; expected one of edgejson, funccall, intent"], r.output


def test_a_task_folder_without_part_of_the_interface_fails_in_one_line(repo_root: Path, tmp_path: Path) -> None:
    """A copy of the package with a fourth task whose task.py gives only its name, title and order: it fails at
    lookup, naming the task and the first part it does not provide."""
    shutil.copytree(repo_root / "stages", tmp_path / "stages", ignore=shutil.ignore_patterns("__pycache__"))
    toy = tmp_path / "stages" / "tasks" / "toy"
    toy.mkdir()
    (toy / "__init__.py").write_text('"""A toy task."""\n', encoding="utf-8")
    (toy / "task.py").write_text('NAME = "toy"\nTITLE = "Toy"\nORDER = 9\n', encoding="utf-8")
    code = "from stages.tasks import registry\nregistry.get('toy')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "stages/tasks/toy/task.py: the task 'toy' does not provide METRICS" in last, proc.stderr


def _findings(path: Path, names: set[str]) -> list[str]:
    """Comparisons of a task (a name, attribute or key called `task`) with a literal, and string
    literals that are a task's name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            is_task = any(
                (isinstance(s, ast.Name) and s.id == "task")
                or (isinstance(s, ast.Attribute) and s.attr == "task")
                or (isinstance(s, ast.Subscript) and isinstance(s.slice, ast.Constant) and s.slice.value == "task")
                for s in sides
            )
            literal = any(isinstance(s, ast.Constant) or (isinstance(s, (ast.Tuple, ast.List, ast.Set)) and all(isinstance(e, ast.Constant) for e in s.elts)) for s in sides)
            if is_task and literal:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def test_no_code_outside_the_task_folders_branches_on_a_task(repo_root: Path) -> None:
    names = set(registry.task_names())
    seen: dict[str, list[str]] = {}
    for path in sorted((repo_root / "stages").rglob("*.py")):
        rel = path.relative_to(repo_root).as_posix()
        if rel.startswith("stages/tasks/"):
            continue
        found = _findings(path, names)
        if found:
            seen[rel] = found
    new = {f: v for f, v in seen.items() if len(v) > KNOWN_DEBT.get(f, 0)}
    assert not new, f"code outside stages/tasks/ that names or compares a task: {new}; ask the task registry instead"
    stale = {f: n for f, n in KNOWN_DEBT.items() if len(seen.get(f, [])) < n}
    assert not stale, f"KNOWN_DEBT lists findings that are gone; lower or remove: {stale}"


def test_the_branch_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def f(task, row):\n    if task == "intent":\n        return 1\n    return row["task"] in ("a", "b")\n', encoding="utf-8")
    assert len(_findings(bad, {"intent"})) == 3  # the comparison, the literal inside it, the membership test
    ok = tmp_path / "ok.py"
    ok.write_text('def f(t, k):\n    return t["task"] == k\n', encoding="utf-8")
    assert _findings(ok, {"intent"}) == []


def test_a_model_whose_kind_does_not_serve_the_task_is_one_line(tmp_path: Path) -> None:
    from stages.tasks.registry import check_serves, kind_of

    nlm = tmp_path / "nlm"
    nlm.mkdir()
    (nlm / "nlm.json").write_text("{}", encoding="utf-8")
    assert kind_of(nlm).name == "nlm" and kind_of(tmp_path / "m.gguf").name == "lm" and kind_of(tmp_path / "x.onnx").name == "nlm"
    assert check_serves(nlm, "intent").name == "nlm" and check_serves(tmp_path / "m.gguf", "funccall").name == "lm"
    r = CliRunner().invoke(app, ["evaluate", "--task", "funccall", "--model", str(nlm), "--data", str(tmp_path / "d.jsonl"), "--out", str(tmp_path / "o.json")])
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert r.exit_code != 0 and lines == [f"error: --model {nlm}: the NLM (ONNX with nlm.json) serves --task intent, not --task funccall"], r.output
    assert not (tmp_path / "o.json").exists()


def test_a_generic_stage_names_the_task_and_the_missing_part_in_one_line(repo_root: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from stages.pipeline import prepare, quantize, validate

    with pytest.raises(SLMBenchError, match=r"^--task: 'nosuch' is not a registered task; expected one of .*intent"):
        registry.pipeline_task("nosuch", "--task")
    with pytest.raises(SLMBenchError, match=r"^--task: the task 'edgejson' has no stages/tasks/edgejson/pipeline.py, so the generic stages cannot run it$"):
        registry.pipeline_task("edgejson", "--task")
    assert registry.pipeline_task("intent", "--task", quantize.PARTS).PRIMARY == "accuracy"
    with pytest.raises(SLMBenchError, match=r"^stages/tasks/intent/pipeline.py: the task 'intent' does not provide prepare \(prepare\(recipe, source\)"):
        registry.pipeline_task("intent", "--task", prepare.PARTS)
    # a stage with a task module of its own finds its parts there: EdgeIntent's gate.py
    assert registry.pipeline_task("intent", "--task", validate.PARTS, validate.TASK_MODULE).__name__ == "stages.tasks.intent.gate"
    assert registry.pipeline_task("intent", "--task", ("recipe",), "nosuch").__name__ == "stages.tasks.intent.pipeline"
    run = [sys.executable, "-m", "stages.commands.task_split", "--task", "nosuch", "--name", "x", "--in", "a.jsonl", "--train", "b", "--test", "c", "--metrics", "m.json"]
    proc = subprocess.run(run, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "'nosuch' is not a registered task" in proc.stderr, proc.stderr


def test_a_tasks_section_for_no_task_folder_is_one_line(repo_root: Path, tmp_path: Path) -> None:
    import yaml

    from stages.core import params as P

    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["tasks"] = {"sentimnet": {"datasets": {}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=r"params.yaml: tasks.sentimnet: no task 'sentimnet' \(a folder stages/tasks/sentimnet/ with a task.py\); expected one of edgejson, funccall, intent$"):
        P.load(tmp_path / "params.yaml")
    raw["tasks"] = {"intent": {"mlm": {"base": "nope"}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SLMBenchError, match=r"tasks.intent.mlm"):
        P.task_mlm(P.load(tmp_path / "params.yaml"), "intent")


def test_a_recipe_that_names_another_task_is_one_line(repo_root: Path, tmp_path: Path) -> None:
    import yaml

    from stages.pipeline.common import task_recipe

    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    name = next(iter(raw["intent"]["datasets"]))
    raw["intent"]["datasets"][name]["task"] = "edgejson"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SLMBenchError) as err:
        task_recipe("intent", name, tmp_path / "params.yaml", ())
    assert str(err.value) == f"{tmp_path / 'params.yaml'}: dataset {name!r} of task intent: task: expected 'intent', got 'edgejson'"
    raw["intent"]["datasets"][name]["task"] = "intent"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert task_recipe("intent", name, tmp_path / "params.yaml", ())[2].task == "intent"
