"""The task registry: every folder under stages/tasks/ with a `task.py` is a task, found by name.

As in lm-evaluation-harness, a task is a unit: its folder holds its row format, checks, prompt
and answer format, decoding constraint and metrics, and its `task.py` is the interface the rest
of SLMBench calls (docs/design.md, "A task is a unit"). The leaderboard, the submission checks
and `slmbench evaluate --task T` look a task up here and never ask which task it is.

A `task.py` must provide every name in PARTS; a folder that lacks one fails at lookup with one
line naming the task and the missing part, not deep inside a stage. An unknown task name fails
with one line naming the key it came from and the registered names.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from stages.core.errors import SLMBenchError

HERE = Path(__file__).resolve().parent
DEFAULT_TASK = "edgejson"  # what `slmbench evaluate` scores when --task is not given

# The task interface (docs/design.md): what each stages/tasks/<task>/task.py defines.
PARTS = {
    "NAME": "the task's key, as recipes name it (`task:`) and its folder is named",
    "TITLE": "the task's display name",
    "ORDER": "the task's place on the leaderboard (an integer; ties by name)",
    "METRICS": "the leaderboard's quality metrics, the primary one first",
    "BREAKDOWN": "what a row's breakdown is per (tiers, class groups, domains)",
    "EVALUATOR": "`module:function` of its user-facing evaluation (slmbench evaluate --task)",
    "read_rows": "read a file of its rows, checked (one line naming file and line otherwise)",
    "write_rows": "write its rows atomically",
    "metric_versions": "metric name -> the version of its definition",
    "test_splits": "the leaderboard's test files: dataset -> path, from params",
    "leaderboard_tables": "its leaderboard tables, read from the metrics files its stages write",
    "evaluator_args": "the EVALUATOR's arguments from EvalOptions",
    "decoding_of": "the decoding an evaluation used, as a submission records it",
    "headline": "the one-line summary of an evaluation result",
    "report_lines": "report_lines(p, root): its section of the release report (metrics/report.md), from the metrics files under root",
}


# The pipeline's parts (docs/design.md): what a task run by the generic stages (stages/pipeline/)
# defines in its stages/tasks/<task>/pipeline.py, beside task.py. A generic stage loads only that
# module, so a change to a task's leaderboard code reruns none of its data or model stages. Each
# generic stage names the parts it calls; a task provides the parts of the stages it runs through.
# A stage that names a module of its own (TASK_MODULE: validate's `gate`, split's `split`, train's `model`,
# quantize's `quantize`, evaluate's `evaluate`, card's `card`) finds its
# parts there when the task has that file, with NAME, TITLE and recipe, so its deps are that code.
PIPELINE_PARTS = {
    "NAME": "the task's key, as in task.py",
    "TITLE": "the task's display name",
    "PARAMS_KEY": "where its settings are in params.yaml (`tasks.<task>`, or its own section)",
    "METRICS": "the scores score_row gives, aggregated in this order",
    "PRIMARY": "the metric the quantize gate compares",
    "GATE_DECODING": "the decoding the quantize gate compares the two runtimes with: constrained or free",
    "AGREEMENT": "how the gate measures a row's agreement: exact (the same answer) or prefix (the share of the merged answer reproduced from its start)",
    "read_rows": "read a file of its rows, checked (one line naming file and line otherwise)",
    "write_rows": "write its rows atomically",
    "recipe": "recipe(p, name): its dataset `name`'s settings from params, checked",
    "prepare": "prepare(recipe, source): its rows before the gate (the task's import or generator)",
    "gate": "gate(name, recipe, path, source, run_gx): its rows read and checked, its GX tables run with run_gx; a stages.core.rowgate.GateResult",
    "split_rows": "split_rows(rows, recipe, where, source): ({'train': rows, 'test': rows, and any part more}, split.json's figures), its split rule",
    "mlm": "mlm(p, name): the settings of the language model the stage's `name` trains: in the train stage's module (model.py, where the task has one) its training recipe alone (a stages.core.params.MLMTraining, from `<section>.mlm`); for quantize and evaluate also how it is quantized and scored (`<section>.mlm_scoring`: check_rows, qtype, the gate's bounds, parallel)",
    "mlm_key": "mlm_key(name): where those settings are in params.yaml, as `section.key` (for errors and the training log)",
    "resolve": "resolve(rows, p, source): its rows, each holding what prompt, answer and constraint read (EdgeJSON: the row's schema, from the catalog and the stage's --constraint file); most tasks return them as they are",
    "train_rows": "train_rows(rows, cfg): the rows the model trains on, drawn per its settings (cfg: mlm's)",
    "train_figures": "train_figures(rows): what train.json adds about the rows trained on",
    "leak_key": "leak_key(row): what a training row must not share with a held-out test row (train --holdout)",
    "test_rows": "test_rows(rows, n, seed): the test rows scored (n = 0: every row)",
    "prompt": "prompt(row): the chat of a row, without the answer",
    "answer": "answer(row): the target answer of a row (the training chat is prompt and answer)",
    "constraint": "constraint(recipe, source): the decoding constraint each runner translates into its grammar: {'labels': [...]} or {'json_schema': 'per_row'} (then row_schema gives each row's); source: the file the stage was given, or None",
    "row_schema": "row_schema(row, cfg): a row's answer schema, for a task whose constraint is a per-row JSON schema",
    "score_row": "score_row(row, answer): its per-row scores, metric -> value in [0, 1] (aggregated as means with 95% intervals)",
    "bootstrap": "bootstrap(p): (resamples, seed) of every 95% interval its stages write, from params",
    "quantize": "quantize(name, params_path, merged, test, out, metrics, base): a task's own conversion and gate, where the shared one (one GGUF type gated against the merged model) does not fit (EdgeJSON: several types, its base, per-schema check rows); returns quantize.json's figures",
    "EVALUATIONS": "name -> stages.core.evaluation.Evaluation: what the evaluate stage can score (`--evaluation`), the files each reads and writes, and its run; a task without it has the one evaluation `mlm` (its GGUF on its test rows, scored by score_row)",
    "card": "card(p, name, recipe, eval, train, quantize, quality): (its model card's text, the rows of its plot or None), from those metrics files (quality: {} when the stage got none)",
}


@dataclass(frozen=True)
class EvalOptions:
    """What `slmbench evaluate` was asked, for any task: each task's `evaluator_args` takes what it uses."""

    model: Path
    data: Path
    out: Path
    schemas: Path = Path("schemas")
    constrained: bool = False
    limit: int = 0
    max_new_tokens: int = 384
    threads: int = 2
    enforce_formats: bool = True
    parallel: int = 1
    bootstrap_samples: int = 1000
    bootstrap_seed: int = 0
    labels: Path | None = None
    answers: Path | None = None
    predictions: Path | None = None


def task_names() -> list[str]:
    """Every folder under stages/tasks/ with a task.py, sorted."""
    return sorted(d.name for d in HERE.iterdir() if d.is_dir() and (d / "task.py").is_file())


@cache
def load(name: str) -> ModuleType:
    module = importlib.import_module(f"stages.tasks.{name}.task")
    missing = [part for part in PARTS if not hasattr(module, part)]
    if missing:
        raise SLMBenchError(f"stages/tasks/{name}/task.py: the task {name!r} does not provide {missing[0]} ({PARTS[missing[0]]}); a task provides {', '.join(PARTS)}")
    if module.NAME != name:
        raise SLMBenchError(f"stages/tasks/{name}/task.py: NAME is {module.NAME!r}; expected its folder's name {name!r}")
    return module


def get(name: str, key: str = "--task") -> ModuleType:
    """The task called `name`; `key` names where the name came from, for the error."""
    names = task_names()
    if name not in names:
        raise SLMBenchError(f"{key}: {name!r} is not a registered task; expected one of {', '.join(names)}")
    return load(name)


def pipeline_task(name: str, key: str = "--task", parts: tuple[str, ...] | None = None, module: str = "pipeline") -> ModuleType:
    """The pipeline parts of the task called `name`, when it provides `parts` (default: all); else
    one line naming the task and the first missing part. `module`: where a generic stage finds its
    parts, stages/tasks/<name>/<module>.py when the task has that file (a stage then depends on
    that module's code only, as the validate stage on a task's gate.py), else its pipeline.py."""
    names = task_names()  # the folders, not their task.py: a generic stage loads the pipeline parts only
    if name not in names:
        raise SLMBenchError(f"{key}: {name!r} is not a registered task; expected one of {', '.join(names)}")
    found = module if (HERE / name / f"{module}.py").is_file() else "pipeline"
    try:
        loaded = importlib.import_module(f"stages.tasks.{name}.{found}")
    except ModuleNotFoundError as exc:
        if exc.name != f"stages.tasks.{name}.{found}":
            raise
        raise SLMBenchError(f"{key}: the task {name!r} has no stages/tasks/{name}/pipeline.py, so the generic stages cannot run it") from None
    missing = [part for part in (parts or tuple(PIPELINE_PARTS)) if not hasattr(loaded, part)]
    if missing:
        raise SLMBenchError(f"stages/tasks/{name}/{found}.py: the task {name!r} does not provide {missing[0]} ({PIPELINE_PARTS[missing[0]]})")
    return loaded


def tasks() -> list[ModuleType]:
    """Every registered task, in leaderboard order."""
    return sorted((load(n) for n in task_names()), key=lambda t: (t.ORDER, t.NAME))


# --- the model-kind registry --------------------------------------------------------------
# What a model file or folder is, and which tasks it serves. `slmbench evaluate` looks the model
# up here before anything runs, so a model that cannot do the task asked fails in one line
# naming the model, its kind and the tasks it serves, not deep inside a runner.
#
# - `lm`: a language model, a GGUF file (llama.cpp) or an HF folder with config.json and
#   safetensors (transformers): the fine-tuned MLMs and their bases. It answers in text under each
#   task's decoding constraint, so it serves every task.
# - `nlm`: NLM-Intent, an ONNX classifier with its nlm.json (stages/train/nlm.py): intent only.
# - `tfidf-lr` and `majority`: EdgeIntent's baselines, built and scored by their stage only.


@dataclass(frozen=True)
class ModelKind:
    name: str
    title: str
    tasks: tuple[str, ...]  # the tasks it serves


KINDS = {
    "lm": ModelKind("lm", "language model (GGUF or HF folder)", tuple(task_names())),
    "nlm": ModelKind("nlm", "NLM (ONNX with nlm.json)", ("intent",)),
    "tfidf-lr": ModelKind("tfidf-lr", "TF-IDF + logistic regression baseline", ("intent",)),
    "majority": ModelKind("majority", "majority-class baseline", ("intent",)),
}


def kind_of(model: Path) -> ModelKind:
    """The kind of a model path, by its shape: an .onnx file or a folder with nlm.json is an NLM;
    anything else is run as a language model, whose runner names what is wrong with a path that
    is not one (a missing file, a folder without config.json)."""
    model = Path(model)
    if model.suffix == ".onnx" or (model.is_dir() and (model / "nlm.json").is_file()):
        return KINDS["nlm"]
    return KINDS["lm"]


def check_serves(model: Path, task: str) -> ModelKind:
    """The model's kind, when it serves `task`; else one line naming the model, its kind and what it serves."""
    kind = kind_of(model)
    if task not in kind.tasks:
        raise SLMBenchError(f"--model {model}: the {kind.title} serves --task {', '.join(kind.tasks)}, not --task {task}")
    return kind
