"""dvc.yaml declares every dependency a stage really has, so `dvc repro` reruns what an edit affects.

For each stage DVC resolves from dvc.yaml and the real params.yaml (foreach expanded), the real
dependencies are derived from the code, not written down a second time:

- code: each stage runs one module, `python -m stages.commands.<module> ...`; its code is that
  module's import closure (importgraph.py: module and function-level imports, parent packages, and
  a sibling `.py` file named in a string, the way the teacher starts its vLLM worker), exactly.
  stages/cli.py, the user's `slmbench`, registers the same commands but no stage runs it, so an
  edit there (a new command, a help text) leaves every stage up to date;
- data: every path on the stage's command line that is not one of its outputs;
- params: every key the closure reads from a Params object, found by walking `ast` for attribute
  chains such as `p.evaluate.bootstrap_seed` (`evaluate.bootstrap_seed`) or `p.models[name].base`
  (`models.*.base`), typed against the dataclasses in stages.core.params; reading `schemas_dir` also
  reads the folder it names.

A call to one of stages.core.params's accessors (`P.recipe(p, version)`) reads what that function
reads. Not counted: stages.core.params's loading and checking (`load`, `build` and the `_` functions
validate every section and produce nothing), an accessor call whose result is discarded (it only
checks that the entry exists), a membership test on a mapping (`name in p.models` only asks whether this
stage's own entry exists) and anything inside a `raise` (the message of a failure names the keys
that exist). Anything missing from dvc.yaml fails the test, and so does declared code outside the
closure (a stale dep, such as stages/cli.py, reruns the stage for nothing): a code file, or a code
folder holding a module the stage does not import.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shlex
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import importgraph  # tests/code/, on sys.path under pytest
import pytest

from stages.core import params as P

COMMANDS = "stages.commands"  # a stage runs `python -m stages.commands.<module>`


@dataclass
class Stage:
    name: str
    cmd: str
    deps: list[str]  # paths, repo-relative, as dvc.yaml resolves them
    params: list[str]  # params.yaml keys
    outs: list[str] = field(default_factory=list)


def resolved_stages(root: Path) -> list[Stage]:
    """Every stage of dvc.yaml, foreach entries expanded against params.yaml, read by DVC itself."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    repo = Repo(str(root))
    try:
        out = []
        for s in repo.index.stages:
            deps = [d.def_path for d in s.deps if not isinstance(d, ParamsDependency)]
            keys = [k for d in s.deps if isinstance(d, ParamsDependency) for k in d.params]
            out.append(Stage(s.name, s.cmd if isinstance(s.cmd, str) else " && ".join(s.cmd), deps, keys, [o.def_path for o in s.outs]))
        return out
    finally:
        repo.close()


# --- code ------------------------------------------------------------------------------------


def command_of(cmd: str) -> tuple[str, list[str]]:
    """(the module, its arguments) of `python -m stages.commands.<module> ...`."""
    argv = shlex.split(cmd)
    assert argv[:2] == ["python", "-m"] and len(argv) > 2 and argv[2].startswith(COMMANDS + "."), f"a stage command that does not run a {COMMANDS} module: {cmd}"
    return argv[2], argv[3:]


def sibling_scripts(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules whose file name appears as a string in `path` next to it (a script run in a subprocess)."""
    by_file = {(p.parent, p.name): m for m, p in modules.items()}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (path.parent, node.value) in by_file:
            found.add(by_file[(path.parent, node.value)])
    return found


@cache
def code_graph(root: Path) -> dict[str, set[str]]:
    modules = importgraph.module_files(root)
    edges = importgraph.graph(root)
    return {m: deps | sibling_scripts(modules[m], modules) for m, deps in edges.items()}


REGISTRY = "stages.tasks.registry"


def task_modules(root: Path) -> set[str]:
    """Every stages/tasks/<task>/task.py, as a module."""
    return {m for m in importgraph.module_files(root) if m.startswith("stages.tasks.") and m.count(".") == 3 and m.endswith(".task")}


def task_module(root: Path, module: str) -> str:
    """The task module a generic stage loads (registry.pipeline_task): the TASK_MODULE that a
    stages/pipeline module in the command's closure names, else the task's pipeline.py."""
    for m in sorted(importgraph.closure({module}, code_graph(root))):
        if m.startswith("stages.pipeline."):
            tree = ast.parse(importgraph.module_files(root)[m].read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TASK_MODULE" for t in node.targets):
                    return str(ast.literal_eval(node.value))
    return "pipeline"


def registry_reach(argv: list[str], root: Path, module: str = "") -> set[str]:
    """The task registry imports a task by name, at run time. A stage run with `--task T` (a
    generic stage) loads that one task's parts: stages/tasks/T/<its TASK_MODULE>.py when T has
    that file, else stages/tasks/T/pipeline.py (and what the registry's lookup reads); any other
    stage that reaches the registry (the leaderboard, the report) loads every task.py it finds on disk."""
    if "--task" in argv and argv.index("--task") + 1 < len(argv):
        task = argv[argv.index("--task") + 1]
        own = task_module(root, module) if module else "pipeline"
        found = own if (root / "stages" / "tasks" / task / f"{own}.py").is_file() else "pipeline"
        return {f"stages.tasks.{task}.{found}"}
    return task_modules(root)


def loads_every_task(root: Path, module: str, argv: list[str]) -> bool:
    """Whether the stage reaches the registry without naming one task: then its code is every task's."""
    return "--task" not in argv and REGISTRY in importgraph.closure({module}, code_graph(root))


def stage_modules(root: Path, module: str, argv: list[str] | None = None) -> set[str]:
    """The package modules `python -m <module> <argv>` can run: the module and its import closure,
    with the tasks the registry loads for it (registry_reach)."""
    assert module in importgraph.module_files(root), f"{module}: no such module under {root / 'stages'}"
    edges = dict(code_graph(root))
    edges[REGISTRY] = edges.get(REGISTRY, set()) | registry_reach(argv or [], root, module)
    return importgraph.closure({module}, edges)


def covered_path(path: str, deps: list[str]) -> bool:
    """`path` is a dep or lies in a dep folder."""
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


# --- params ----------------------------------------------------------------------------------


def _resolve(segments: list[str]) -> str:
    """The params.yaml key an attribute chain on a Params object reads, typed by stages.core.params."""
    tp: typing.Any = P.Params
    key: list[str] = []
    for seg in segments:
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            if seg not in hints:
                break  # a method (`resolve`) or a property: the key read so far
            key.append(seg)
            tp = hints[seg]
        elif typing.get_origin(tp) is dict and seg == "*":
            key.append("*")
            tp = typing.get_args(tp)[1]
        else:
            break
    return ".".join(key)


def _is_mapping(segments: list[str]) -> bool:
    """Whether an attribute chain on a Params object ends at a mapping section (`models`, `datasets`)."""
    tp: typing.Any = P.Params
    for seg in segments:
        if not dataclasses.is_dataclass(tp) or seg not in typing.get_type_hints(tp):
            return False
        tp = typing.get_type_hints(tp)[seg]
    return typing.get_origin(tp) is dict


def _params_names(fn: ast.AST, params_aliases: set[str], load_names: set[str]) -> set[str]:
    """Names in `fn` bound to a Params object: arguments annotated Params, results of params.load()."""
    names = set()
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs:
            ann = ast.unparse(a.annotation) if a.annotation else ""
            if ann.split(".")[-1].strip("'\"") == "Params":
                names.add(a.arg)
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            f = node.value.func
            loads = (isinstance(f, ast.Attribute) and f.attr == "load" and isinstance(f.value, ast.Name) and f.value.id in params_aliases) or (
                isinstance(f, ast.Name) and f.id in load_names
            )
            if loads:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _aliases(tree: ast.Module) -> tuple[set[str], dict[str, str]]:
    """(names the module gives stages.core.params, {local name: function} for names imported from it)."""
    mods, funcs = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "stages.core":
            mods |= {a.asname or a.name for a in node.names if a.name == "params"}
        elif isinstance(node, ast.ImportFrom) and node.module == "stages.core.params":
            funcs |= {a.asname or a.name: a.name for a in node.names}
        elif isinstance(node, ast.Import):
            mods |= {a.asname for a in node.names if a.name == "stages.core.params" and a.asname}
    return mods, funcs


@cache
def accessors() -> dict[str, frozenset[str]]:
    """stages.core.params's public functions that take a Params (`recipe`) -> the keys each reads."""
    tree = ast.parse(Path(P.__file__).read_text(encoding="utf-8"))
    out = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and not fn.name.startswith("_") and fn.name not in ("load", "build"):
            if _params_names(fn, set(), set()):
                out[fn.name] = frozenset(_read(tree, [fn], {}, set(), {}))
    return out


def params_read(source: str) -> set[str]:
    """The params.yaml keys the code in `source` reads from Params objects (see the module docstring)."""
    tree = ast.parse(source)
    mods, funcs = _aliases(tree)
    fns = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return _read(tree, fns, accessors(), mods, funcs)


def _read(tree: ast.Module, fns: list[ast.AST], calls: dict[str, frozenset[str]], mods: set[str], funcs: dict[str, str]) -> set[str]:
    parent: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[child] = node
    in_raise = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
    loads = {local for local, name in funcs.items() if name == "load"}
    keys: set[str] = set()
    for fn in fns:
        names = _params_names(fn, mods, loads)
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and id(node) not in in_raise and not isinstance(parent.get(node), ast.Expr):
                f = node.func
                called = funcs.get(f.id) if isinstance(f, ast.Name) else None
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in mods:
                    called = f.attr
                if called in calls and any(isinstance(a, ast.Name) and a.id in names for a in node.args):
                    keys |= calls[called]
            if not (isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)) or id(node) in in_raise:
                continue
            segments, cur = [], node
            while isinstance(parent.get(cur), (ast.Attribute, ast.Subscript)) and parent[cur].value is cur:
                cur = parent[cur]
                segments.append(cur.attr if isinstance(cur, ast.Attribute) else "*")
            up = parent.get(cur)
            membership = isinstance(up, ast.Compare) and cur in up.comparators and isinstance(up.ops[up.comparators.index(cur)], (ast.In, ast.NotIn))
            if membership and _is_mapping(segments):
                continue  # `name in p.models`: does this stage's own entry exist (a list's members are a real read)
            key = _resolve(segments)
            if key:
                keys.add(key)
    return keys


def covered_key(key: str, declared: list[str]) -> bool:
    """A declared key covers `key` when it is `key` or a section above it; `*` (one entry of a
    mapping such as `models`) matches any declared entry name."""
    k = key.split(".")
    for d in declared:
        parts = d.split(".")
        if len(parts) <= len(k) and all(x == y or y == "*" for x, y in zip(parts, k, strict=False)):
            return True
    return False


# --- the check -------------------------------------------------------------------------------


def missing(stage: Stage, root: Path, params: P.Params) -> list[str]:
    """What the stage reads and dvc.yaml does not declare, and declared code it cannot import; one line each."""
    problems = []
    module, argv = command_of(stage.cmd)
    modules = stage_modules(root, module, argv)
    every_task = loads_every_task(root, module, argv)
    code = importgraph.files_of(modules, root)
    for f in sorted(code):
        if not covered_path(f, stage.deps):
            problems.append(f"{stage.name}: code {f} is imported but not a dep")
    for d in stage.deps:
        if d.startswith("stages/") and d.endswith(".py") and d not in code:
            problems.append(f"{stage.name}: dep {d} is code the stage does not import")
        elif d == "stages/tasks" and every_task:
            continue  # a stage that loads every task depends on the whole folder: a new task is a dep with no edit here
        elif d.startswith("stages/") and (root / d).is_dir():
            inside = sorted(p.relative_to(root).as_posix() for p in (root / d).rglob("*.py"))
            stale = [f for f in inside if f not in code]
            if stale or not inside:
                problems.append(f"{stage.name}: dep {d} is a folder with code the stage does not import: {stale or 'no module at all'}")
    files = importgraph.module_files(root)
    keys = set().union(*(params_read(files[m].read_text(encoding="utf-8")) for m in modules if m != "stages.core.params"))
    for key in sorted(keys):
        if not covered_key(key, stage.params):
            problems.append(f"{stage.name}: params key {key} is read but not declared")
    if "schemas_dir" in keys and not covered_path(params.schemas_dir, stage.deps):
        problems.append(f"{stage.name}: reads the schemas folder {params.schemas_dir} (schemas_dir) but does not depend on it")
    for token in argv:
        token = token.partition("=")[2] if re.fullmatch(r"\w+=\S+", token) else token  # NAME=PATH (task_split --part)
        if token.startswith("-") or not ("/" in token or (root / token).exists()) or Path(token).is_absolute():
            continue
        written = any(o == token or o.startswith(token.rstrip("/") + "/") for o in stage.outs)
        if not written and not covered_path(token, stage.deps):
            problems.append(f"{stage.name}: reads {token} (on its command line) but does not depend on it")
    return problems


@pytest.fixture(scope="module")
def stages(repo_root: Path) -> list[Stage]:
    return resolved_stages(repo_root)


def test_every_stage_declares_what_it_reads(stages: list[Stage], repo_root: Path, real_params: P.Params) -> None:
    assert {s.name.split("@")[0] for s in stages} >= {"generate", "validate", "split", "base_model", "train", "quantize", "evaluate", "card", "report"}
    problems = [line for s in stages for line in missing(s, repo_root, real_params)]
    assert not problems, "dvc.yaml does not match the code:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("stage", "remove", "expected"),
    [
        ("train@", "stages/core/records.py", "code stages/core/records.py is imported but not a dep"),
        ("quantize@", "evaluate.bootstrap_seed", "params key evaluate.bootstrap_seed is read but not declared"),
        ("validate@v2", "datasets.v2", "params key datasets.* is read but not declared"),
        ("evaluate@", "schemas", "reads the schemas folder schemas (schemas_dir) but does not depend on it"),
        ("funccall_card@", "metrics/funccall/edgefunccall/quality.json", "reads metrics/funccall/edgefunccall/quality.json (on its command line)"),
        ("generate@", "stages/inference/teacher_vllm.py", "code stages/inference/teacher_vllm.py is imported but not a dep"),
        ("card@", "stages/commands/task_card.py", "code stages/commands/task_card.py is imported but not a dep"),
        ("report", "stages/commands/common.py", "code stages/commands/common.py is imported but not a dep"),
        ("funccall_mlm_evaluate@", "stages/tasks/funccall/evaluate.py", "code stages/tasks/funccall/evaluate.py is imported but not a dep"),
        ("funccall_mlm_train@", "stages/tasks/funccall/model.py", "code stages/tasks/funccall/model.py is imported but not a dep"),
    ],
)
def test_removing_one_dep_is_caught(stages: list[Stage], repo_root: Path, real_params: P.Params, stage: str, remove: str, expected: str) -> None:
    s = next(s for s in stages if s.name.startswith(stage))
    assert remove in s.deps + s.params, f"{s.name} does not declare {remove}; pick another dep for this check"
    cut = dataclasses.replace(s, deps=[d for d in s.deps if d != remove], params=[k for k in s.params if k != remove])
    assert not missing(s, repo_root, real_params)
    assert any(expected in line for line in missing(cut, repo_root, real_params)), missing(cut, repo_root, real_params)


def test_params_walk_reads_chains_and_skips_membership_and_errors() -> None:
    source = (
        "from stages.core import params as P\n"
        "def main(name, path):\n"
        "    p = P.load(path)\n"
        "    if name not in p.models:\n"
        "        raise ValueError(', '.join(p.datasets))\n"
        "    m = p.models[name]\n"
        "    return p.evaluate.bootstrap_seed, p.bases[m.base], p.teacher.resolve('x'), 'gguf_base' in p.evaluate.variants\n"
        "def run(q: 'Params'):\n"
        "    return [k for k in q.datasets.items()]\n"
    )
    # a member of a list is a real read (`x in p.evaluate.variants`); `name in p.models` is not
    assert params_read(source) == {"models.*", "evaluate.bootstrap_seed", "bases.*", "teacher", "datasets", "evaluate.variants"}
    # an accessor of stages.core.params reads what it reads, unless its result is thrown away
    assert accessors()["recipe"] == {"datasets.*"}
    accessor = "from stages.core import params as P\ndef main(path, v):\n    p = P.load(path)\n    P.recipe(p, v)\n    r = P.recipe(p, v)\n"
    assert params_read(accessor) == {"datasets.*"}
    assert params_read(accessor.replace("    r = P.recipe(p, v)\n", "")) == set()
    assert covered_key("models.*.base", ["models.smollm2-135m-lora"]) and not covered_key("models", ["models.smollm2-135m-lora"])
    assert covered_key("evaluate.threads", ["evaluate"]) and not covered_key("evaluate.threads", ["evaluate.n_ctx"])


# --- stages run their own module, not the CLI ------------------------------------------------


def test_no_stage_runs_or_depends_on_the_cli(stages: list[Stage]) -> None:
    """stages/cli.py is the user's entry point: a stage that ran it, or listed it, would rerun on any CLI edit."""
    assert not [s.name for s in stages if "stages.cli" in s.cmd or "stages/cli.py" in s.deps]


def test_a_stage_on_the_cli_or_a_stale_code_dep_is_caught(stages: list[Stage], repo_root: Path, real_params: P.Params) -> None:
    card = next(s for s in stages if s.name.startswith("card@"))
    listed = dataclasses.replace(card, deps=[*card.deps, "stages/cli.py"])
    assert any("dep stages/cli.py is code the stage does not import" in line for line in missing(listed, repo_root, real_params))
    folder = dataclasses.replace(card, deps=[*card.deps, "stages/train"])
    assert any("dep stages/train is a folder with code the stage does not import" in line for line in missing(folder, repo_root, real_params))
    on_cli = dataclasses.replace(card, cmd=card.cmd.replace("python -m stages.commands.task_card", "python -m stages.cli card"))
    with pytest.raises(AssertionError, match="does not run a stages.commands module"):
        missing(on_cli, repo_root, real_params)


def _main_command(module: str, root: Path) -> str:
    """The function `if __name__ == "__main__": typer.run(fn)` of a stage module runs."""
    tree = ast.parse(importgraph.module_files(root)[module].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            call = node.body[0].value if isinstance(node.body[0], ast.Expr) else None
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "typer.run" and isinstance(call.args[0], ast.Name):
                return call.args[0].id
    raise AssertionError(f"{module} has no `if __name__ == '__main__': typer.run(<command>)`")


def test_each_stage_module_takes_the_options_of_its_slmbench_command(stages: list[Stage], repo_root: Path) -> None:
    """`python -m stages.commands.X ...` is `slmbench <x> ...`: the same function, so the same options, help and exit codes."""
    import importlib

    import typer

    from stages import cli

    registered = {c.callback: c.name for c in cli.app.registered_commands}
    group = typer.main.get_command(cli.app)
    for module in sorted({command_of(s.cmd)[0] for s in stages}):
        fn = getattr(importlib.import_module(module), _main_command(module, repo_root))
        assert fn in registered, f"{module}: stages/cli.py does not register {fn.__name__}"
        one = typer.Typer(add_completion=False)
        one.command()(fn)  # what typer.run builds
        alone = typer.main.get_command(one)
        shape = [[(p.name, tuple(p.opts), p.required, p.default) for p in c.params] for c in (alone, group.commands[registered[fn]])]
        assert shape[0] == shape[1], module
        assert alone.help == group.commands[registered[fn]].help


def test_a_stage_module_runs_as_a_one_command_program(repo_root: Path) -> None:
    import subprocess
    import sys

    run = [sys.executable, "-m", "stages.commands.task_split"]
    shown = subprocess.run([*run, "--help"], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "--part" in shown.stdout and "Split a pipeline task" in shown.stdout, shown.stdout + shown.stderr
    args = ["--task", "edgejson", "--name", "v9", "--in", "x.jsonl", "--train", "a", "--test", "b", "--part", "test_unseen=c", "--metrics", "m.json"]
    bad = subprocess.run([*run, *args], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr


def test_a_fresh_clone_pulls_only_training_and_rescores_every_model(repo_root: Path) -> None:
    """The main job is `dvc pull --allow-missing && dvc repro`: the remote keeps the train stages'
    outputs only, and every stage that quantizes or scores a model has a cached output the remote
    does not keep, so a fresh clone (which lacks it) reruns the stage instead of skipping it on its
    git-tracked metrics."""
    from dvc.repo import Repo

    repo = Repo(str(repo_root))
    try:
        pushed, unscored = [], []
        for s in repo.index.stages:
            cmd = s.cmd if isinstance(s.cmd, str) else " && ".join(s.cmd)
            cached = [o for o in s.outs if o.use_cache]
            pushed += [f"{s.name}: {o.def_path}" for o in cached if o.can_push and "stages.commands.task_train" not in cmd]
            scores = any(f"stages.commands.{m} " in cmd for m in ("task_quantize", "task_evaluate"))
            if scores and not [o for o in cached if not o.can_push]:
                unscored.append(s.name)
    finally:
        repo.close()
    assert not pushed, f"cached outputs the DVC remote would keep, outside the train stages: {pushed}"
    assert not unscored, f"stages a fresh clone would skip on their git-tracked metrics (no cached, push: false output): {unscored}"
