"""The evaluate stage, for every task and model kind: `--task T --name N --evaluation E`, with the
files the evaluation reads as `--input NAME=PATH` and writes as `--output NAME=PATH`.

The stage finds the task by name (its evaluate parts: stages/tasks/<task>/evaluate.py where it has
one, else its pipeline.py), checks the recipe (`task:`) and the files against what the evaluation
declares (stages/core/evaluation.py: one line naming a missing or unknown file, and the evaluations
the task has), and runs it. A task lists its evaluations in EVALUATIONS: EdgeJSON's `release` (every
variant, free and constrained, test_seen and test_unseen), EdgeIntent's `mlm` and `side_by_side` (the NLM
and the baselines side by side), EdgeFuncCall's `mlm` (our split and BFCL's categories).

A task that lists none (a small task run by the pipeline parts alone) has the one evaluation `mlm`:
the GGUF answers the test rows (the task's own draw of `test_rows`, with `seed`) under the task's
decoding constraint, the task scores each answer (`score_row`) and the scores are aggregated in the
one metrics layout (`m`, `m_ci95`, `m_n`), with the file's size and the runtime.
`slmbench evaluate --task T` scores any model the same way (`main_any`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.evaluation import Evaluation
from stages.core.records import write_json, write_rows
from stages.pipeline.common import task_recipe
from stages.pipeline.runner import answer, constraint_of, scored

PARTS = ("METRICS", "bootstrap", "read_rows", "resolve", "mlm", "test_rows", "prompt", "constraint", "score_row")
TASK_MODULE = "evaluate"  # a task's evaluations: stages/tasks/<task>/evaluate.py where it has one, else its pipeline.py
DEFAULT = "mlm"


def evaluations(task: str, name: str, params_path: Path) -> dict[str, Evaluation]:
    """The task's evaluations (its EVALUATIONS, else the one default `mlm`), after its recipe's check."""
    t, _, _ = task_recipe(task, name, params_path, (), TASK_MODULE)
    if hasattr(t, "EVALUATIONS"):
        return dict(t.EVALUATIONS)
    task_recipe(task, name, params_path, PARTS, TASK_MODULE)  # the parts the default evaluation calls, one line for the first missing

    def run(params: Path, dataset: str, i: dict[str, Path], o: dict[str, Path]) -> str:
        m = score_mlm(task, dataset, params, i["model"], i["test"], o["eval"], i.get("constraint"), o.get("predictions"))["models"]["mlm"]
        return f"{task} {dataset} mlm: n={m['n']} " + " ".join(f"{k}={m[k]:.3f}" for k in m if f"{k}_ci95" in m)

    return {
        DEFAULT: Evaluation(
            "the MLM's GGUF on the test rows, under the task's decoding constraint",
            run,
            {"model": "the GGUF file", "test": "test JSONL"},
            {"eval": "eval.json to write"},
            optional_inputs={"constraint": "a file the task's decoding constraint is read from (e.g. a label set)"},
            optional_outputs={"predictions": "per-row answers JSONL to write"},
        )
    }


def check_files(key: str, given: dict[str, Path], required: dict[str, str], optional: dict[str, str], where: str) -> None:
    """One line naming an unknown or missing `--input`/`--output` name, and the names `where` takes."""
    names = ", ".join([*required, *(f"{n} (optional)" for n in optional)])
    for n in given:
        if n not in required and n not in optional:
            raise SLMBenchError(f"{key} {n}=: {where} takes {key} {names}")
    for n in required:
        if n not in given:
            raise SLMBenchError(f"{key} {n}=PATH is missing: {where} takes {key} {names}")


def main(task: str, name: str, params_path: Path, evaluation: str, inputs: dict[str, Path], outputs: dict[str, Path]) -> str:
    """Run the task's `evaluation` on `inputs`, writing `outputs`; its one-line summary."""
    found = evaluations(task, name, params_path)
    if evaluation not in found:
        raise SLMBenchError(f"--evaluation: the task {task!r} has no evaluation {evaluation!r}; expected one of {', '.join(found)}")
    e = found[evaluation]
    where = f"the evaluation {task}/{evaluation} ({e.title})"
    check_files("--input", inputs, e.inputs, e.optional_inputs, where)
    check_files("--output", outputs, e.outputs, e.optional_outputs, where)
    return e.run(Path(params_path), name, {k: Path(v) for k, v in inputs.items()}, {k: Path(v) for k, v in outputs.items()})


def score_mlm(
    task: str, name: str, params_path: Path, model: Path, test_file: Path, out: Path, constraint: Path | None = None, predictions: Path | None = None
) -> dict[str, Any]:
    """The default evaluation `mlm`: the GGUF on the task's test rows, scored by score_row."""
    from stages.core.stats import DIGITS

    t, p, recipe = task_recipe(task, name, params_path, PARTS, TASK_MODULE)
    cfg = t.mlm(p, name)
    samples, seed = t.bootstrap(p)
    rows = t.test_rows(t.resolve(t.read_rows(Path(test_file)), p, constraint), cfg.test_rows, cfg.seed)
    start = time.perf_counter()
    answers = answer(t, Path(model), rows, constraint_of(t, recipe, constraint), cfg)
    wall = time.perf_counter() - start
    size = Path(model).stat().st_size
    mlm = {
        **scored(t, rows, answers, samples, seed),
        "test_rows": len(t.read_rows(Path(test_file))),
        "size_bytes": size,
        "size_mb": round(size / 1e6, DIGITS),
        "runtime": "llama.cpp",
        "qtype": cfg.qtype.upper(),
        "wall_s": round(wall, 3),
    }
    result = {"task": task, "dataset": name, "models": {"mlm": mlm}}
    write_json(Path(out), result)
    if predictions is not None:
        write_rows(Path(predictions), [{"id": r["id"], "answer": a} for r, a in zip(rows, answers, strict=True)])
    return result


def main_any(
    task: str,
    model: Path,
    data: Path,
    out: Path,
    samples: int,
    seed: int,
    threads: int,
    parallel: int,
    labels: Path | None = None,
    predictions: Path | None = None,
) -> dict[str, Any]:
    """`slmbench evaluate --task T` for a pipeline task: any model the task's rows can be put to
    (a GGUF file or an HF folder), on any file of its rows, scored as the evaluate stage scores."""
    from types import SimpleNamespace

    from stages.core.stats import DIGITS
    from stages.tasks import registry

    t = registry.pipeline_task(task, "--task", PARTS)
    rows = t.read_rows(Path(data))
    cfg = SimpleNamespace(threads=threads, parallel=max(parallel, 1), batch_size=8)
    answers = answer(t, Path(model), rows, constraint_of(t, None, labels), cfg)
    size = sum(f.stat().st_size for f in ([Path(model)] if Path(model).is_file() else Path(model).iterdir()) if f.is_file())
    result = {"task": task, **scored(t, rows, answers, samples, seed), "size_mb": round(size / 1e6, DIGITS)}
    write_json(Path(out), result)
    if predictions is not None:
        write_rows(Path(predictions), [{"id": r["id"], "answer": a} for r, a in zip(rows, answers, strict=True)])
    return result
