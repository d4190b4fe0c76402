"""The import graph of the `stages` package, read with `ast` (nothing is imported or run).

Every `import` and `from ... import` counts, at module level or inside a function: a lazy import
still runs when its function does, so a circle through one is still a circle, and the file it
names is still read by the stage that calls the function. Used by test_layering.py (floors, no
circles) and test_deps.py (each stage's code dependencies in dvc.yaml).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "stages"


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package under `root`."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules `name` imports, anywhere in its body (module or function level).

    `from a.b import c` is an import of `a.b.c` when that is a module, else of `a.b`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
        for t in targets:
            if t == PACKAGE or t.startswith(PACKAGE + "."):
                # `import stages.x.y` names stages.x.y; an unknown name falls back to its longest known prefix
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    found.add(t)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (explicit imports only, not parent packages)."""
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def parents(name: str) -> list[str]:
    """The packages Python initialises before `name`: `stages.tasks.edgejson.templates.rows` -> stages, stages.tasks.edgejson.templates."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(start: set[str], edges: dict[str, set[str]], with_parents: bool = True) -> set[str]:
    """Every module importing `start` can run: their imports, transitively, and (by default) the
    parent packages' `__init__` modules, which Python runs first."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(edges.get(m, ()))
        if with_parents:
            todo.extend(p for p in parents(m) if p in edges)
    return seen


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        # Tarjan's algorithm; the package has a few dozen modules, so recursion depth is no concern.
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def files_of(modules: set[str], root: Path) -> set[str]:
    """Repo-relative POSIX paths of the modules' files."""
    files = module_files(root)
    return {files[m].relative_to(root).as_posix() for m in modules if m in files}
