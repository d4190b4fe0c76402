"""`slmbench --help`: the one CLI, the user's entry point.

The commands a dvc.yaml stage runs live in stages/commands/, one module each (`python -m
stages.commands.task_quantize ...` is `slmbench task-quantize ...`), so that a stage's code deps are its own
code and not this file; they are registered here under the same names. The commands only a user
runs (evaluate, compare, audit, check-data, errors, intent-page) are defined here.

Bad input raises SLMBenchError; the CLI prints it on one line to stderr and exits 2.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from stages.commands.base_model import base_model
from stages.commands.common import ParamsOpt, friendly
from stages.commands.funccall_bfcl import funccall_bfcl
from stages.commands.funccall_generate import funccall_generate
from stages.commands.generate import generate
from stages.commands.intent_baselines import intent_baselines
from stages.commands.intent_import import intent_import
from stages.commands.intent_nlm import intent_nlm
from stages.commands.leaderboard import leaderboard
from stages.commands.report import report
from stages.commands.task_card import task_card
from stages.commands.task_evaluate import task_evaluate
from stages.commands.task_prepare import task_prepare
from stages.commands.task_quantize import task_quantize
from stages.commands.task_split import task_split
from stages.commands.task_train import task_train
from stages.commands.task_validate import task_validate
from stages.core.errors import SLMBenchError
from stages.tasks.registry import DEFAULT_TASK

app = typer.Typer(add_completion=False, no_args_is_help=True, help="SLMBench: EdgeJSON data, models and metrics as a DVC pipeline.")


app.command("generate")(generate)
app.command("intent-import")(intent_import)
app.command("intent-nlm")(intent_nlm)
app.command("intent-baselines")(intent_baselines)
app.command("funccall-generate")(funccall_generate)
app.command("funccall-bfcl")(funccall_bfcl)
# The generic stages, for every task (stages/tasks/registry.py: PIPELINE_PARTS)
app.command("task-prepare")(task_prepare)
app.command("task-validate")(task_validate)
app.command("task-split")(task_split)
app.command("task-train")(task_train)
app.command("task-quantize")(task_quantize)
app.command("task-evaluate")(task_evaluate)
app.command("task-card")(task_card)


@app.command("intent-page")
@friendly
def intent_page(
    model: Annotated[Path, typer.Option(help="An NLM folder (model.onnx and nlm.json), e.g. models/intent/banking77/nlm.")],
    out: Annotated[Path, typer.Option(help="Folder to write the page into (replaced).")],
) -> None:
    """Assemble the in-browser classifier: web/intent's page, onnxruntime-web (fetched by .ci/web.sh) and the model, in one folder.

    Example: slmbench intent-page --model models/intent/banking77/nlm --out build/intent
    && python -m http.server 8000 --bind 127.0.0.1 --directory build/intent
    """
    from stages.tasks.intent.page import build_site

    typer.echo(f"intent-page: {build_site(model, out)} (serve it over http; a file:// page cannot fetch the model)", err=True)


app.command("base-model")(base_model)
app.command("train")(task_train)  # the same command: every task trains through the generic stage


def run_evaluator(task: Any, options: Any) -> tuple[dict[str, Any], str]:
    """Run a task's user-facing evaluation (its task.py's EVALUATOR, `module:function`, called with
    its `evaluator_args`); (the result, the decoding a submission records)."""
    import importlib

    module, _, function = task.EVALUATOR.partition(":")
    result = getattr(importlib.import_module(module), function)(*task.evaluator_args(options))
    return result, task.decoding_of(result, options)


@app.command()
@friendly
def evaluate(
    model: Annotated[Path, typer.Option(help="An HF model directory (safetensors) or a .gguf file.")],
    data: Annotated[Path, typer.Option(help="Any EdgeJSON-format JSONL.")],
    out: Annotated[Path, typer.Option(help="JSON report to write.")],
    schemas: Annotated[Path, typer.Option(help="Folder of JSON Schemas.")] = Path("schemas"),
    constrained: Annotated[bool, typer.Option(help="Schema-constrained decoding (llama.cpp grammar for a GGUF, llguidance for an HF directory).")] = False,
    limit: Annotated[int, typer.Option(help="Score only the first N rows (0: all).")] = 0,
    max_new_tokens: Annotated[int, typer.Option(help="Generation cap per answer, tokens.")] = 384,
    threads: Annotated[int, typer.Option(help="CPU threads.")] = 2,
    enforce_formats: Annotated[bool, typer.Option(help="With --constrained, also force the date, time, date-time and uuid formats and the patterns.")] = True,
    parallel: Annotated[int, typer.Option(help="GGUF: sequences llama.cpp decodes per step (1: one at a time).")] = 1,
    bootstrap_samples: Annotated[int, typer.Option(help="Resamples of the rows for each 95% interval.")] = 1000,
    bootstrap_seed: Annotated[int, typer.Option(help="Seed of those resamples.")] = 0,
    task: Annotated[
        str,
        typer.Option(
            help="edgejson (text to JSON), intent (intent classification: an NLM, a GGUF or an HF directory on a BANKING77 CSV, CLINC150 JSON or intent JSONL)"
            " or funccall (function calling: a GGUF or an HF directory on a BFCL single-call file or EdgeFuncCall JSONL, scored by AST match)."
        ),
    ] = DEFAULT_TASK,
    labels: Annotated[Path | None, typer.Option(help="--task intent, GGUF or HF model: the label set (JSON list); default labels.json beside the model, else the data's labels.")] = None,
    answers: Annotated[Path | None, typer.Option(help="--task funccall with a BFCL questions file: its possible_answer file; without it the file is an irrelevance set (no call expected).")] = None,
    predictions: Annotated[Path | None, typer.Option(help="Per-row predictions (JSONL) to write; with --submit, default OUT's name with .predictions.jsonl.")] = None,
    submit: Annotated[str | None, typer.Option(help="Also write a leaderboard submission under this model name (DATA must be one of the leaderboard's test splits).")] = None,
    base: Annotated[str | None, typer.Option(help="--submit: the model's base model, as the leaderboard shows it.")] = None,
    licence: Annotated[str | None, typer.Option(help="--submit: the model's licence, as the leaderboard shows it.")] = None,
    submissions: Annotated[Path, typer.Option(help="--submit: the folder of submission files.")] = Path("leaderboard/submissions"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score any model on any EdgeJSON-format file (or, with --task intent, any intent file); every figure with its n and a 95% bootstrap interval.

    Example: slmbench evaluate --model models/smollm2-135m-lora/gguf/model-q8_0.gguf --data data/v3/test.jsonl --schemas schemas --constrained --limit 20 --out out.json

    Example: slmbench evaluate --task intent --model models/intent/banking77/nlm --data test.csv --out out.json

    Example: slmbench evaluate --task intent --model models/intent/banking77/mlm/gguf/model-q8_0.gguf --data test.csv --out out.json

    Example: slmbench evaluate --task funccall --model models/funccall/edgefunccall/mlm/gguf/model-q8_0.gguf --data BFCL_v4_simple_python.json
    --answers possible_answer/BFCL_v4_simple_python.json --constrained --out out.json

    Example (a leaderboard submission): slmbench evaluate --model my-model.gguf --data data/v4/test.jsonl --constrained --out out.json --submit my-model --base SmolLM2-135M --licence apache-2.0
    """
    from stages.tasks import registry
    from stages.tasks.registry import check_serves

    registry.get(task)  # one line naming --task and the registered tasks, before anything runs
    check_serves(model, task)  # one line for a model whose kind does not serve the task
    if submit is not None:
        from stages.evaluate.submission import precheck

        precheck(params, task, data, submit)  # before the scoring, not after it
        predictions = predictions or out.with_name(out.stem + ".predictions.jsonl")
    options = registry.EvalOptions(
        model, data, out, schemas, constrained, limit, max_new_tokens, threads, enforce_formats, parallel, bootstrap_samples, bootstrap_seed, labels, answers, predictions
    )
    r, decoding = run_evaluator(registry.get(task), options)
    typer.echo(registry.get(task).headline(r))
    if submit is not None and predictions is not None:
        from stages.evaluate.submission import submit_main

        path = submit_main(params, submit, task, decoding, r, data, model, predictions, submissions, base, licence)
        typer.echo(f"evaluate: submission written to {path}; `dvc repro leaderboard` puts it on the site")


app.command("leaderboard")(leaderboard)
app.command("report")(report)
app.command("card")(task_card)  # the same command: every task's card is written by the generic stage


@app.command("check-data")
@friendly
def check_data(
    file: Annotated[Path, typer.Argument(help="Any EdgeJSON-format JSONL file.")],
    schemas: Annotated[Path, typer.Option(help="Folder of JSON Schemas (tier subfolders optional).")] = Path("schemas"),
    suite: Annotated[str, typer.Option(help="Suite to apply: full or v2.")] = "full",
    min_per_schema: Annotated[int, typer.Option(help="Fail when a schema has fewer rows than this (0: report coverage only).")] = 0,
    prompt_min: Annotated[int, typer.Option(help="Minimum prompt length, characters.")] = 20,
    prompt_max: Annotated[int, typer.Option(help="Maximum prompt length, characters.")] = 4000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    generated: Annotated[Path | None, typer.Option(help="A version's generated schemas, e.g. data/v4/generated_schemas.json.")] = None,
) -> None:
    """Audit a JSONL file with the pipeline's checks; exits 1 when any row fails.

    Example: slmbench check-data data/v4/validated.jsonl --schemas schemas --generated data/v4/generated_schemas.json --json
    """
    from stages.audit.check_data import check_file

    report = check_file(file, schemas, suite, min_per_schema, (prompt_min, prompt_max), generated)
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        typer.echo(f"{file}: {report['rows']} rows, {report['failed_rows']} failed ({suite} suite)")
        for check, n in report["failures_by_check"].items():
            if n:
                typer.echo(f"  {check}: {n}")
        for line in report["coverage_problems"]:
            typer.echo(f"  coverage: {line}")
    if report["failed_rows"] or report["coverage_problems"]:
        raise typer.Exit(1)

@app.command()
@friendly
def compare(
    a: Annotated[str, typer.Argument(help="VERSION or VERSION@REV (a commit, tag or branch), e.g. v2 or v2@edgejson-v2; with --predictions, VARIANT/DECODING, e.g. gguf_q4/free.")],
    b: Annotated[str, typer.Argument(help="The other side, same form.")],
    predictions: Annotated[
        str | None, typer.Option(help="A predictions JSONL (PATH or PATH@REV): compare two variant/decodings row by row, with a paired test per metric.")
    ] = None,
    predictions_b: Annotated[str | None, typer.Option(help="With --predictions: the file side b comes from (another model, or PATH@REV); default: the same file.")] = None,
    bootstrap_samples: Annotated[int, typer.Option(help="With --predictions: resamples for the paired bootstrap.")] = 1000,
    bootstrap_seed: Annotated[int, typer.Option(help="With --predictions: seed of those resamples.")] = 0,
    md: Annotated[bool, typer.Option("--md", help="Print a Markdown table.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
    all_keys: Annotated[bool, typer.Option("--all", help="Every key, not only the headline ones (per-schema counts, tiers, checks).")] = False,
    repo: Annotated[Path, typer.Option(help="The DVC repo to read.")] = Path("."),
) -> None:
    """Diff two dataset versions (their quality figures, the scores of models trained on each), or,
    with --predictions, two variant/decodings on the same rows: n, both means, the difference with
    its 95% interval, the p-value of a paired test (McNemar's exact test for 0/1 metrics, a paired
    bootstrap otherwise), and whether it is significant at 0.05.

    Example: slmbench compare v2 v3 --md; slmbench compare v2@edgejson-v2 v3@edgejson-v3;
    slmbench compare gguf_q4/free gguf_q8_0/free --predictions models/smollm2-135m-lora/predictions.jsonl
    """
    if predictions is None:
        if "/" in a or "/" in b:
            raise SLMBenchError(f"{a if '/' in a else b!r}: VARIANT/DECODING sides need --predictions FILE (e.g. models/<model>/predictions.jsonl)")
        if predictions_b is not None:
            raise SLMBenchError("--predictions-b: needs --predictions for side a")
        from stages.audit import history

        result = history.compare(repo, a, b)
        if as_json:
            typer.echo(json.dumps(result, indent=2, sort_keys=True))
        else:
            typer.echo(history.compare_table(result, md, headline_only=not all_keys))
        return
    from stages.audit import compare as paired

    result = paired.compare_predictions(repo, a, b, predictions, predictions_b, bootstrap_samples, bootstrap_seed)
    typer.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else paired.paired_table(result, md))


@app.command()
@friendly
def errors(
    predictions: Annotated[Path, typer.Argument(help="Predictions JSONL written by the evaluate stage (models/<model>/predictions.jsonl).")],
    data: Annotated[list[Path], typer.Option(help="Test JSONL the predictions were scored on; repeat for each split.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Where a model fails: each failed row gets one kind (runaway, malformed JSON, wrong key name, key missing or
    extra, array item dropped, derived number wrong, date or format rewritten, scalar copy slip), counted per split and tier.

    Example: slmbench errors models/smollm2-135m-lora/predictions.jsonl --data data/v3/test.jsonl --data data/v3/test_unseen.jsonl
    """
    from stages.tasks.edgejson import failures

    summary = failures.main(predictions, data)
    typer.echo(json.dumps(summary, indent=2, sort_keys=True) if as_json else failures.render(summary))


@app.command()
@friendly
def audit(
    revisions: Annotated[list[str] | None, typer.Option("--revisions", help="`all` (every commit) or git revisions; repeat the option for several.")] = None,
    allow: Annotated[list[str] | None, typer.Option("--allow", help="A version whose corrupt rows are a known historical defect; repeatable.")] = None,
    md: Annotated[bool, typer.Option("--md", help="Print Markdown tables.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
    plot: Annotated[Path, typer.Option(help="With --revisions: HTML plot of corrupt rate and model scores over revisions.")] = Path("dvc_plots/audit_history.html"),
    repo: Annotated[Path, typer.Option(help="The DVC repo to audit.")] = Path("."),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Audit every dataset version with today's full suite; exits 1 if accepted data is corrupt.

    A version marked `known_defect` in its recipe, or named with --allow, is reported but does not fail.
    Example: slmbench audit; slmbench audit --revisions all --md; slmbench audit --revisions edgejson-v2 --revisions edgejson-v3
    """
    from stages.audit import history

    repo = Path(repo)
    entries = history.audit_workspace(repo, params if params.is_absolute() or repo == Path(".") else repo / params, allow or [])
    hist = history.history(repo, revisions) if revisions else None
    plot_path = None
    if hist is not None:
        plot_path = history.history_plot(hist, (plot if plot.is_absolute() else repo / plot).resolve(), _plots_template(repo))
    if as_json:
        typer.echo(json.dumps({"versions": entries, "history": hist, "plot": str(plot_path) if plot_path else None}, indent=2, sort_keys=True, default=str))
    else:
        typer.echo(history.audit_text(entries, hist, md))
        if plot_path:
            typer.echo(f"plot: {plot_path}")
    failed = history.audit_failed(entries)
    if failed:
        typer.echo(f"error: accepted data of {', '.join(failed)} fails today's full suite (mark a known historical defect with --allow or the recipe's known_defect)", err=True)
        raise typer.Exit(1)


def _plots_template(repo: Path) -> str | None:
    """The HTML template `dvc plots show` uses in this repo (config `plots.html_template`), if any."""
    from dvc.repo import Repo

    with contextlib.suppress(Exception):
        r = Repo(str(repo))
        try:
            t = r.config.get("plots", {}).get("html_template")
            if t:
                path = Path(t) if Path(t).is_absolute() else Path(r.dvc_dir) / t
                return str(path) if path.is_file() else None
        finally:
            r.close()
    return None


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
