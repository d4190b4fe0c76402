"""The package has floors: params is the ground floor, and no import circle remains in stages/.

A short walk over `ast` (importgraph.py): imports inside functions count too, and so do the parent
packages Python initialises before a module.
"""

from __future__ import annotations

from pathlib import Path

import importgraph  # tests/code/, on sys.path under pytest


def test_params_is_the_ground_floor(repo_root: Path) -> None:
    edges = importgraph.graph(repo_root)
    # the parent package `stages` runs first; its __init__ imports nothing from the package
    assert edges["stages"] == set(), edges["stages"]
    assert importgraph.closure({"stages.params"}, edges) == {"stages", "stages.params", "stages.errors"}
    assert edges["stages.errors"] == set()


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
