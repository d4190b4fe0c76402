"""The package has floors: params is the ground floor, and no import circle remains in stages/.

A short walk over `ast` (importgraph.py): imports inside functions count too, and so do the parent
packages Python initialises before a module.
"""

from __future__ import annotations

from pathlib import Path

import importgraph  # tests/code/, on sys.path under pytest

# stages/ in floors (README, "Layout"): a module imports from its own package or from a lower floor.
# tasks/ sit above inference/: a task's answer format may use a runner's (EdgeFuncCall's calls in the grammar's key order);
# pipeline/ holds the generic stages, which run any task through the machinery of data/, train/ and evaluate/;
# commands/ holds what each dvc.yaml stage runs; cli.py, the user's `slmbench`, registers those commands, so it sits above them.
FLOORS = {"core": 1, "inference": 2, "tasks": 3, "data": 4, "train": 4, "evaluate": 4, "audit": 4, "pipeline": 5, "commands": 6, "cli": 7}


def floor_of(module: str) -> tuple[int, str]:
    """`stages.tasks.edgejson.scoring` -> (3, "tasks.edgejson"): its floor, and the package it belongs to."""
    parts = module.split(".")[1:]
    if not parts:
        return 0, ""
    return FLOORS[parts[0]], ".".join(parts[:2] if parts[0] == "tasks" else parts[:1])


def test_params_is_the_ground_floor(repo_root: Path) -> None:
    edges = importgraph.graph(repo_root)
    # the parent package `stages` runs first; its __init__ imports nothing from the package
    assert edges["stages"] == set(), edges["stages"]
    assert importgraph.closure({"stages.core.params"}, edges) == {"stages", "stages.core", "stages.core.params", "stages.core.errors"}
    assert edges["stages.core.errors"] == set()


def test_every_module_sits_on_a_floor_and_imports_nothing_above_it(repo_root: Path) -> None:
    edges = importgraph.graph(repo_root)
    upward = []
    for module, deps in edges.items():
        if module == "stages":
            continue
        floor, package = floor_of(module)  # a KeyError here: a module outside every floor
        for dep in deps:
            dep_floor, dep_package = floor_of(dep)
            if dep_package != package and dep_floor >= floor:
                upward.append(f"{module} (floor {floor}) imports {dep} (floor {dep_floor})")
    assert upward == []
    assert {floor_of(m)[0] for m in edges if m != "stages"} == {1, 2, 3, 4, 5, 6, 7}


def test_no_import_circle(repo_root: Path) -> None:
    edges = importgraph.graph(repo_root)
    with_parents = {m: deps | {p for p in importgraph.parents(m) if p in edges} for m, deps in edges.items()}
    assert importgraph.cycles(with_parents) == []


def test_the_walk_sees_lazy_imports_and_circles(tmp_path: Path) -> None:
    """The checks above can fail: a function-level import that closes a circle is found."""
    pkg = tmp_path / "stages"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""pkg"""\n')
    (pkg / "errors.py").write_text("class E(Exception):\n    pass\n")
    (pkg / "params.py").write_text("from stages.errors import E\n\n\ndef f():\n    from stages import teacher\n")
    (pkg / "teacher.py").write_text("from .params import f\n")
    edges = importgraph.graph(tmp_path)
    assert edges["stages.params"] == {"stages.errors", "stages.teacher"}
    assert edges["stages.teacher"] == {"stages.params"}
    assert importgraph.closure({"stages.params"}, edges) == {"stages", "stages.params", "stages.errors", "stages.teacher"}
    assert importgraph.cycles(edges) == [["stages.params", "stages.teacher"]]
