"""`slmbench --help`: the one CLI. Each command is a thin wrapper over a stage's `main()`.

Bad input raises SLMBenchError; the CLI prints it on one line to stderr and exits 2.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from stages.core.errors import SLMBenchError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="SLMBench: EdgeJSON data, models and metrics as a DVC pipeline.")
F = TypeVar("F", bound=Callable[..., Any])

ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
VersionOpt = Annotated[str, typer.Option("--version", help="Dataset version, a key of `datasets` in params.yaml (e.g. v3).")]


def friendly(fn: F) -> F:
    """Turn SLMBenchError into one line on stderr and exit code 2; no traceback for bad input."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SLMBenchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@friendly
def generate(
    version: VersionOpt,
    out: Annotated[Path, typer.Option(help="Output JSONL, e.g. data/v3/generated.jsonl.")],
    teacher_metrics: Annotated[Path | None, typer.Option(help="teacher.json to write: rows sent, kept, fallbacks by reason, calls, cache hits.")] = None,
    teacher_log: Annotated[Path | None, typer.Option(help="Per-row teacher log (JSONL): teacher, register, attempts, outcome, reason.")] = None,
    teacher_cache: Annotated[Path | None, typer.Option(help="Teacher output cache (JSONL), read and rewritten.")] = None,
    schemas_out: Annotated[Path | None, typer.Option(help="The version's generated training schemas (JSON), e.g. data/v4/generated_schemas.json.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Generate one dataset version from its recipe (and the teacher, if `teacher.backend` is not none).

    Example: slmbench generate --version v3 --out data/v3/generated.jsonl --teacher-metrics metrics/datasets/v3/teacher.json
    """
    from stages.data import generate as stage

    n = stage.main(version, params, out, teacher_metrics, teacher_log, teacher_cache, schemas_out)
    typer.echo(f"generate {version}: {n} rows -> {out}", err=True)


@app.command()
@friendly
def validate(
    version: VersionOpt,
    inp: Annotated[Path, typer.Option("--in", help="Generated JSONL.")],
    validated: Annotated[Path, typer.Option(help="Accepted rows (written only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write.")],
    docs: Annotated[Path, typer.Option(help="Folder for the GX Data Docs site.")],
    schemas: Annotated[Path | None, typer.Option(help="The version's generated schemas (generate --schemas-out).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate one dataset version with jsonschema and Great Expectations.

    Example: slmbench validate --version v3 --in data/v3/generated.jsonl --validated data/v3/validated.jsonl
    --quarantine data/v3/quarantine.jsonl --metrics metrics/datasets/v3/quality.json --docs metrics/datasets/v3/data_docs
    """
    from stages.data import validate as stage

    result = stage.main(version, params, inp, validated, quarantine, metrics, docs, schemas)
    q = result.quality
    typer.echo(
        f"validate {version}: {q['rows_accepted']} accepted, {q['rows_rejected']} rejected, {q['rows_regenerated']} regenerated; "
        f"corrupt under the full suite: {q['corrupt_rate_full_suite']:.3f}",
        err=True,
    )
    if not result.passed:
        typer.echo(f"error: the {version} gate failed ({len(result.failed_expectations)} expectation(s)):", err=True)
        for line in result.failed_expectations:
            typer.echo(f"  - {line}", err=True)
        raise typer.Exit(1)


@app.command()
@friendly
def split(
    version: VersionOpt,
    inp: Annotated[Path, typer.Option("--in", help="Validated JSONL.")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL of the seen schemas (test_seen) to write.")],
    test_unseen: Annotated[Path, typer.Option(help="Test JSONL of the held-out schemas (test_unseen) to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
    schemas: Annotated[Path | None, typer.Option(help="The version's generated schemas; their rows all go to train.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Split one version: held-out schemas (split.unseen_schemas) to test_unseen, the others stratified by schema, with a leak check.

    Example: slmbench split --version v3 --in data/v3/validated.jsonl --train data/v3/train.jsonl --test data/v3/test.jsonl
    --test-unseen data/v3/test_unseen.jsonl --metrics metrics/datasets/v3/split.json
    """
    from stages.data import split as stage

    m = stage.main(version, params, inp, train, test, test_unseen, metrics, schemas)
    typer.echo(f"split {version}: {m['train_rows']} train, {m['test_rows']} test_seen, {m['test_unseen_rows']} test_unseen ({m['unseen_schemas']} schemas), 0 leaks", err=True)


IntentOpt = Annotated[str, typer.Option("--name", help="EdgeIntent dataset, a key of `intent.datasets` in params.yaml (e.g. banking77).")]


@app.command("intent-import")
@friendly
def intent_import(
    name: IntentOpt,
    source: Annotated[Path, typer.Option(help="The source folder as its authors released it, e.g. data/sources/banking77.")],
    rows: Annotated[Path, typer.Option(help="EdgeIntent rows (JSONL) to write.")],
    labels: Annotated[Path, typer.Option(help="The sorted label list (JSON) to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Import one real intent dataset (BANKING77 or CLINC150 layout) as EdgeIntent rows and its label set.

    Example: slmbench intent-import --name banking77 --source data/sources/banking77 --rows data/intent/banking77/imported.jsonl
    --labels data/intent/banking77/labels.json
    """
    from stages.data import intent_import as stage

    m = stage.main(name, params, source, rows, labels)
    typer.echo(f"intent-import {name}: {m['rows']} rows, {m['labels']} labels -> {rows}", err=True)


@app.command("intent-validate")
@friendly
def intent_validate(
    name: IntentOpt,
    inp: Annotated[Path, typer.Option("--in", help="Imported rows (intent-import --rows).")],
    labels: Annotated[Path, typer.Option(help="The label set (intent-import --labels).")],
    validated: Annotated[Path, typer.Option(help="Accepted rows (written only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write: checks, duplicates, label conflicts, the gate.")],
    docs: Annotated[Path | None, typer.Option(help="Folder for the GX Data Docs site.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate one intent dataset with Great Expectations: labels in the set, text bounds, rows per class, duplicates, label conflicts.

    Example: slmbench intent-validate --name banking77 --in data/intent/banking77/imported.jsonl --labels data/intent/banking77/labels.json
    --validated data/intent/banking77/validated.jsonl --quarantine data/intent/banking77/quarantine.jsonl --metrics metrics/intent/banking77/quality.json
    """
    from stages.data import intent_validate as stage

    r = stage.main_params(name, params, inp, labels, validated, quarantine, metrics, docs)
    typer.echo(f"intent-validate {name}: {len(r.accepted)} accepted, {len(r.quarantine)} quarantined, gate passed", err=True)


@app.command("intent-split")
@friendly
def intent_split(
    name: IntentOpt,
    inp: Annotated[Path, typer.Option("--in", help="Validated rows.")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Split one intent dataset: BANKING77 stratified by class and seeded, CLINC150 by its own lists; a leak check either way.

    Example: slmbench intent-split --name banking77 --in data/intent/banking77/validated.jsonl --train data/intent/banking77/train.jsonl
    --test data/intent/banking77/test.jsonl --metrics metrics/intent/banking77/split.json
    """
    from stages.data import intent_split as stage

    m = stage.main_params(name, params, inp, train, test, metrics)
    typer.echo(f"intent-split {name}: {m.get('train_rows', '?')} train, {m.get('test_rows', '?')} test -> {train}, {test}", err=True)


@app.command("intent-nlm")
@friendly
def intent_nlm(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (intent-split --train).")],
    labels: Annotated[Path, typer.Option(help="The label set (intent-import --labels): the model's outputs.")],
    out: Annotated[Path, typer.Option(help="Folder for model.onnx and nlm.json.")],
    metrics: Annotated[Path, typer.Option(help="The training facts (JSON): time, size, the ONNX check.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Train the NLM (hashed n-grams, an int8 embedding table, one linear layer), export it to ONNX and check it against torch.

    Example: slmbench intent-nlm --name banking77 --train data/intent/banking77/train.jsonl --labels data/intent/banking77/labels.json
    --out models/intent/banking77/nlm --metrics metrics/intent/banking77/nlm_train.json
    """
    from stages.train import intent_nlm_stage as stage

    m = stage.nlm_main(name, params, train, labels, out, metrics)
    typer.echo(f"intent-nlm {name}: {m['size_mb']:.2f} MB -> {out}", err=True)


@app.command("intent-baselines")
@friendly
def intent_baselines(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (intent-split --train).")],
    out: Annotated[Path, typer.Option(help="Folder for majority.json and the TF-IDF + LR files.")],
    metrics: Annotated[Path, typer.Option(help="The training facts (JSON).")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Fit the baselines: the majority class and TF-IDF + logistic regression (scikit-learn; saved as JSON and safetensors, no pickle).

    Example: slmbench intent-baselines --name banking77 --train data/intent/banking77/train.jsonl --out models/intent/banking77/baselines
    --metrics metrics/intent/banking77/baselines_train.json
    """
    from stages.train import intent_baselines_stage as stage

    stage.baselines_main(name, params, train, out, metrics)
    typer.echo(f"intent-baselines {name}: -> {out}", err=True)


@app.command("intent-evaluate")
@friendly
def intent_evaluate(
    name: IntentOpt,
    test: Annotated[Path, typer.Option(help="Test JSONL (intent-split --test).")],
    labels: Annotated[Path, typer.Option(help="The label set.")],
    nlm: Annotated[Path, typer.Option(help="The NLM folder (intent-nlm --out).")],
    baselines: Annotated[Path, typer.Option(help="The baselines folder (intent-baselines --out).")],
    out: Annotated[Path, typer.Option(help="eval.json to write: every model's figures.")],
    per_class: Annotated[Path, typer.Option(help="Per-class F1 of every model (JSON).")],
    plot: Annotated[Path, typer.Option(help="Accuracy against size, one point per model (JSON).")],
    card: Annotated[Path | None, typer.Option(help="The NLM's model card (markdown) to write.")] = None,
    mlm_eval: Annotated[Path | None, typer.Option(help="The MLM's eval.json (intent-mlm-evaluate --out), put in the same table.")] = None,
    mlm_per_class: Annotated[Path | None, typer.Option(help="The MLM's per-class F1 (intent-mlm-evaluate --per-class).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score the NLM and the baselines of one intent dataset on its test split, side by side, with intervals, size and latency.

    Example: slmbench intent-evaluate --name banking77 --test data/intent/banking77/test.jsonl --labels data/intent/banking77/labels.json
    --nlm models/intent/banking77/nlm --baselines models/intent/banking77/baselines --out metrics/intent/banking77/eval.json
    --per-class metrics/intent/banking77/per_class.json --plot metrics/intent/banking77/size_accuracy.json
    """
    from stages.evaluate import intent_stage as stage

    r = stage.main(name, params, test, labels, nlm, baselines, out, per_class, plot, card, mlm_eval, mlm_per_class)
    figures = ", ".join(f"{m} {v['accuracy']:.3f}" for m, v in r["models"].items())
    typer.echo(f"intent-evaluate {name}: n={r['n']} accuracy {figures}", err=True)


@app.command("intent-mlm-train")
@friendly
def intent_mlm_train(
    name: IntentOpt,
    train: Annotated[Path, typer.Option(help="Train JSONL (intent-split --train).")],
    labels: Annotated[Path, typer.Option(help="The label set.")],
    base: Annotated[Path, typer.Option(help="The base checkpoint (base-model --out), e.g. models/base/smollm2-135m-instruct.")],
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder to write.")],
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder to write.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive folder: the loss curve.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune the MLM of one intent dataset (intent.mlm): the query in, the label out.

    Example: slmbench intent-mlm-train --name banking77 --train data/intent/banking77/train.jsonl --labels data/intent/banking77/labels.json
    --base models/base/smollm2-135m-instruct --adapter models/intent/banking77/mlm/adapter --merged models/intent/banking77/mlm/merged
    --metrics metrics/intent/banking77/mlm/train.json --live metrics/intent/banking77/mlm/train_live
    """
    from stages.train.intent_mlm_stage import train_main

    r = train_main(name, params, train, labels, base, adapter, merged, metrics, live)
    typer.echo(f"intent-mlm-train {name}: {r['train_rows']} rows, {r['steps']} steps, {r['wall_s']:.0f} s, final loss {r['final_loss']:.4f}", err=True)


@app.command("intent-mlm-quantize")
@friendly
def intent_mlm_quantize(
    name: IntentOpt,
    merged: Annotated[Path, typer.Option(help="The merged model (intent-mlm-train --merged).")],
    test: Annotated[Path, typer.Option(help="Test JSONL: intent.mlm.check_rows of its rows, drawn with intent.mlm.seed, check the GGUF against the merged model.")],
    labels: Annotated[Path, typer.Option(help="The label set, copied beside the GGUF.")],
    out: Annotated[Path, typer.Option(help="Folder to write: model-<qtype>.gguf and labels.json.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert the merged MLM to GGUF and quantize it (intent.mlm.qtype), checked against the merged model's labels.

    Example: slmbench intent-mlm-quantize --name banking77 --merged models/intent/banking77/mlm/merged --test data/intent/banking77/test.jsonl
    --labels data/intent/banking77/labels.json --out models/intent/banking77/mlm/gguf --metrics metrics/intent/banking77/mlm/quantize.json
    """
    from stages.train.intent_mlm_quantize import quantize_main

    r = quantize_main(name, params, merged, test, labels, out, metrics)
    agree = f", agreement {r['agreement']:.3f} on {r['check_n']} rows" if "agreement" in r else ""
    typer.echo(f"intent-mlm-quantize {name}: {r['size_mb']:.1f} MB{agree} -> {out}", err=True)


@app.command("intent-mlm-evaluate")
@friendly
def intent_mlm_evaluate(
    name: IntentOpt,
    model: Annotated[Path, typer.Option(help="The MLM's GGUF (intent-mlm-quantize --out/model-q8_0.gguf) or an HF directory.")],
    test: Annotated[Path, typer.Option(help="Test JSONL (intent-split --test).")],
    labels: Annotated[Path, typer.Option(help="The label set: the grammar's alternatives.")],
    out: Annotated[Path, typer.Option(help="eval.json to write.")],
    per_class: Annotated[Path, typer.Option(help="Per-class F1 (JSON) to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score the MLM of one intent dataset on its test split: label-constrained decoding, intervals, latency, size, peak RSS.

    Example: slmbench intent-mlm-evaluate --name banking77 --model models/intent/banking77/mlm/gguf/model-q8_0.gguf
    --test data/intent/banking77/test.jsonl --labels data/intent/banking77/labels.json --out metrics/intent/banking77/mlm/eval.json
    --per-class metrics/intent/banking77/mlm/per_class.json
    """
    from stages.evaluate.intent_mlm_stage import main

    r = main(name, params, model, test, labels, out, per_class)
    typer.echo(f"intent-mlm-evaluate {name}: n={r['n']} accuracy {r['accuracy']:.3f} {r['accuracy_ci95']}, p50 {r.get('latency_ms_p50', 0):.1f} ms", err=True)


FuncCallOpt = Annotated[str, typer.Option("--name", help="EdgeFuncCall dataset, a key of `funccall.datasets` in params.yaml (e.g. edgefunccall).")]


@app.command("funccall-generate")
@friendly
def funccall_generate(
    name: FuncCallOpt,
    tools: Annotated[Path, typer.Option(help="The tool catalogue: one <domain>.json per domain (OpenAI tools format).")],
    out: Annotated[Path, typer.Option(help="Generated rows (JSONL) to write.")],
    metrics: Annotated[Path, typer.Option(help="generate.json to write: the row mix, the catalogue's hash, rows/s, the teacher's figures.")],
    teacher_cache: Annotated[Path | None, typer.Option(help="Teacher output cache (JSONL), read and rewritten.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Generate one EdgeFuncCall dataset (funccall.datasets.NAME): seeded Faker values in templated requests, the tools offered, the expected calls.

    Example: slmbench funccall-generate --name edgefunccall --tools tools --out data/funccall/edgefunccall/generated.jsonl
    --metrics metrics/funccall/edgefunccall/generate.json
    """
    from stages.data.funccall_generate import main_params

    r = main_params(name, params, tools, out, metrics, teacher_cache)
    teacher = f", {r['teacher']['teacher_rows']} teacher requests" if r["teacher"]["enabled"] else ""
    typer.echo(f"funccall-generate {name}: {r['rows']} rows ({r['rows_per_s']} rows/s){teacher} -> {out}", err=True)


@app.command("funccall-validate")
@friendly
def funccall_validate(
    name: FuncCallOpt,
    inp: Annotated[Path, typer.Option("--in", help="Generated rows (funccall-generate --out).")],
    tools: Annotated[Path, typer.Option(help="The tool catalogue the rows were made from.")],
    validated: Annotated[Path, typer.Option(help="Accepted rows to write (only when the gate passes).")],
    quarantine: Annotated[Path, typer.Option(help="Rejected rows to write, each with the checks it failed.")],
    metrics: Annotated[Path, typer.Option(help="quality.json to write.")],
    docs: Annotated[Path | None, typer.Option(help="Folder for the GX Data Docs site.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Gate EdgeFuncCall rows with Great Expectations: schema-valid calls, grounded values, offered tools, no leak, coverage per tool.

    Example: slmbench funccall-validate --name edgefunccall --in data/funccall/edgefunccall/generated.jsonl --tools tools
    --validated data/funccall/edgefunccall/validated.jsonl --quarantine data/funccall/edgefunccall/quarantine.jsonl
    --metrics metrics/funccall/edgefunccall/quality.json
    """
    from stages.core import params as P
    from stages.data.funccall_validate import main

    d = P.funccall_data(P.load(params), name)
    r = main(inp, tools, validated, quarantine, metrics, max_reject_rate=d.max_reject_rate, min_per_tool=d.min_per_tool, docs_dir=docs)
    typer.echo(f"funccall-validate {name}: {r['rows_accepted']} accepted, {r['rows_quarantined']} quarantined -> {validated}", err=True)


@app.command("funccall-split")
@friendly
def funccall_split(
    inp: Annotated[Path, typer.Option("--in", help="Validated rows (funccall-validate --validated).")],
    train: Annotated[Path, typer.Option(help="Train JSONL to write.")],
    test: Annotated[Path, typer.Option(help="Test JSONL to write.")],
    metrics: Annotated[Path, typer.Option(help="split.json to write.")],
) -> None:
    """Split validated EdgeFuncCall rows by the split each was generated for (test templates are test-only), with a leak check.

    Example: slmbench funccall-split --in data/funccall/edgefunccall/validated.jsonl --train data/funccall/edgefunccall/train.jsonl --test data/funccall/edgefunccall/test.jsonl
    --metrics metrics/funccall/edgefunccall/split.json
    """
    from stages.data.funccall_split import main

    r = main(inp, train, test, metrics)
    typer.echo(f"funccall-split: {r['train']['rows']} train, {r['test']['rows']} test, 0 leaks -> {train}, {test}", err=True)


@app.command("funccall-bfcl")
@friendly
def funccall_bfcl(
    src: Annotated[Path, typer.Option(help="Where .ci/bfcl.sh unpacked bfcl-eval (the folder holding bfcl_eval/data).")],
    out: Annotated[Path, typer.Option(help="Folder to write: bfcl_<category>.jsonl per category of funccall.bfcl.")],
    metrics: Annotated[Path, typer.Option(help="bfcl.json to write: rows per category.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert BFCL's single-call AST categories (funccall.bfcl) into EdgeFuncCall rows: the outside test.

    Example: slmbench funccall-bfcl --src .venv/share/slmbench/bfcl --out data/funccall/edgefunccall/bfcl --metrics metrics/funccall/edgefunccall/bfcl.json
    """
    from stages.data.funccall_bfcl import main

    r = main(params, src, out, metrics)
    counts = ", ".join(f"{c} {v['rows']}" for c, v in r["categories"].items())
    typer.echo(f"funccall-bfcl: {counts} rows -> {out}", err=True)


def bfcl_files(folder: Path, params: Path) -> list[Path]:
    """The converted BFCL files of funccall.bfcl's categories, in that order."""
    from stages.core import params as P

    return [Path(folder) / f"bfcl_{c}.jsonl" for c in P.funccall_bfcl(P.load(params))]


@app.command("funccall-mlm-train")
@friendly
def funccall_mlm_train(
    train: Annotated[Path, typer.Option(help="Train JSONL (funccall-split --train).")],
    bfcl: Annotated[Path, typer.Option(help="The converted BFCL folder (funccall-bfcl --out): no BFCL question may be a training request.")],
    base: Annotated[Path, typer.Option(help="The base checkpoint (base-model --out), e.g. models/base/smollm2-135m-instruct.")],
    adapter: Annotated[Path, typer.Option(help="LoRA adapter folder to write.")],
    merged: Annotated[Path, typer.Option(help="Merged safetensors folder to write.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive folder: the loss curve.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune EdgeFuncCall's MLM (funccall.mlm): the tools and the request in, the calls out as JSON.

    Example: slmbench funccall-mlm-train --train data/funccall/edgefunccall/train.jsonl --bfcl data/funccall/edgefunccall/bfcl --base models/base/smollm2-135m-instruct
    --adapter models/funccall/edgefunccall/mlm/adapter --merged models/funccall/edgefunccall/mlm/merged --metrics metrics/funccall/edgefunccall/mlm/train.json --live metrics/funccall/edgefunccall/mlm/train_live
    """
    from stages.train.funccall_mlm_stage import train_main

    r = train_main(params, train, bfcl_files(bfcl, params), base, adapter, merged, metrics, live)
    typer.echo(f"funccall-mlm-train: {r['train_rows']} rows, {r['steps']} steps, {r['wall_s']:.0f} s, final loss {r['final_loss']:.4f}", err=True)


@app.command("funccall-mlm-quantize")
@friendly
def funccall_mlm_quantize(
    merged: Annotated[Path, typer.Option(help="The merged model (funccall-mlm-train --merged).")],
    test: Annotated[Path, typer.Option(help="Test JSONL: funccall.mlm.check_rows of its rows check the GGUF against the merged model.")],
    out: Annotated[Path, typer.Option(help="Folder to write: model-<qtype>.gguf.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Convert the merged MLM to GGUF and quantize it (funccall.mlm.qtype), checked against the merged model's constrained answers.

    Example: slmbench funccall-mlm-quantize --merged models/funccall/edgefunccall/mlm/merged --test data/funccall/edgefunccall/test.jsonl --out models/funccall/edgefunccall/mlm/gguf
    --metrics metrics/funccall/edgefunccall/mlm/quantize.json
    """
    from stages.train.funccall_mlm_quantize import quantize_main

    r = quantize_main(params, merged, test, out, metrics)
    agree = f", agreement {r['agreement']:.3f} on {r['check_n']} rows" if "agreement" in r else ""
    typer.echo(f"funccall-mlm-quantize: {r['size_mb']:.1f} MB{agree} -> {out}", err=True)


@app.command("funccall-mlm-evaluate")
@friendly
def funccall_mlm_evaluate(
    model: Annotated[Path, typer.Option(help="The MLM's GGUF (funccall-mlm-quantize --out/model-q8_0.gguf) or an HF directory.")],
    test: Annotated[Path, typer.Option(help="Test JSONL (funccall-split --test).")],
    bfcl: Annotated[Path, typer.Option(help="The converted BFCL folder (funccall-bfcl --out).")],
    out: Annotated[Path, typer.Option(help="eval.json to write.")],
    predictions: Annotated[Path | None, typer.Option(help="Folder for each row set's answers (JSONL); none by default.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Score EdgeFuncCall's MLM on our test split and on BFCL's categories, free and constrained: AST match with intervals.

    Example: slmbench funccall-mlm-evaluate --model models/funccall/edgefunccall/mlm/gguf/model-q8_0.gguf --test data/funccall/edgefunccall/test.jsonl
    --bfcl data/funccall/edgefunccall/bfcl --out metrics/funccall/edgefunccall/mlm/eval.json
    """
    from stages.evaluate.funccall_stage import main

    r = main(params, model, test, bfcl_files(bfcl, params), out, predictions)
    parts = []
    for name, v in r.items():
        if isinstance(v, dict) and "constrained" in v:
            c = v["constrained"]
            parts.append(f"{name} n={c['n']} ast {c['ast_accuracy']:.3f}")
    typer.echo("funccall-mlm-evaluate: constrained " + "; ".join(parts), err=True)


@app.command("funccall-card")
@friendly
def funccall_card(
    eval_file: Annotated[Path, typer.Option("--eval", help="The MLM's eval.json (funccall-mlm-evaluate --out).")],
    train_file: Annotated[Path, typer.Option("--train", help="Its train.json.")],
    quantize_file: Annotated[Path, typer.Option("--quantize", help="Its quantize.json.")],
    quality: Annotated[Path, typer.Option(help="quality.json of its data (funccall-validate --metrics).")],
    out: Annotated[Path, typer.Option(help="Model card to write (Markdown with Hugging Face front matter).")],
    scores: Annotated[Path, typer.Option(help="Plot data to write: AST accuracy per row set and decoding.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write EdgeFuncCall's model card and the data of its score plot.

    Example: slmbench funccall-card --eval metrics/funccall/edgefunccall/mlm/eval.json --train metrics/funccall/edgefunccall/mlm/train.json
    --quantize metrics/funccall/edgefunccall/mlm/quantize.json --quality metrics/funccall/edgefunccall/quality.json --out models/funccall/edgefunccall/README.md
    --scores metrics/funccall/edgefunccall/mlm/scores.json
    """
    from stages.evaluate.funccall_card import main

    main(params, eval_file, train_file, quantize_file, quality, out, scores)
    typer.echo(f"funccall-card: -> {out}, {scores}", err=True)


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
    from stages.evaluate.web import build_site

    typer.echo(f"intent-page: {build_site(model, out)} (serve it over http; a file:// page cannot fetch the model)", err=True)


@app.command("base-model")
@friendly
def base_model(
    source: Annotated[str, typer.Option(help="The base: embedded:<name>, a local directory or a Hugging Face hub id (dvc.yaml passes `bases.<name>`).")],
    out: Annotated[Path, typer.Option(help="Output directory, e.g. models/base/smollm2-135m-instruct.")],
) -> None:
    """Convert a base model to an fp32 safetensors checkpoint with its tokenizer.

    Example: slmbench base-model --source embedded:smollm2-135m-instruct --out models/base/smollm2-135m-instruct
    """
    from stages.train import base_model as stage

    typer.echo(f"base-model {source}: -> {stage.main(source, out)}", err=True)


@app.command()
@friendly
def train(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    train_file: Annotated[Path, typer.Option("--train", help="Train split JSONL.")],
    base: Annotated[Path, typer.Option(help="Base checkpoint directory (safetensors).")],
    adapter: Annotated[Path, typer.Option(help="Output directory for the LoRA adapter.")],
    merged: Annotated[Path, typer.Option(help="Output directory for the merged model.")],
    metrics: Annotated[Path, typer.Option(help="train.json to write.")],
    live: Annotated[Path, typer.Option(help="dvclive directory for the per-step curves.")],
    schemas: Annotated[Path | None, typer.Option(help="The generated schemas some train rows use (generate --schemas-out).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """LoRA-tune a model on a train split and merge it.

    Example: slmbench train --model smollm2-135m-lora --train data/v3/train.jsonl --base models/base/smollm2-135m-instruct
    --adapter models/smollm2-135m-lora/adapter --merged models/smollm2-135m-lora/merged --metrics metrics/models/smollm2-135m-lora/train.json
    --live metrics/models/smollm2-135m-lora/train_live
    """
    from stages.train import train_stage as stage

    r = stage.main(model, params, train_file, base, adapter, merged, metrics, live, schemas)
    if r:  # under torchrun only process 0 reports
        typer.echo(f"train {model}: {r['steps']} steps, {r['tokens']} tokens at {r['tokens_per_s']} tok/s, final loss {r['final_loss']}", err=True)


@app.command()
@friendly
def quantize(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    merged: Annotated[Path, typer.Option(help="Merged model directory (safetensors).")],
    test: Annotated[Path, typer.Option(help="Test JSONL; quantize.check_rows_per_schema rows of each schema drive the greedy check.")],
    out: Annotated[Path, typer.Option(help="Output directory for the GGUF files.")],
    metrics: Annotated[Path, typer.Option(help="quantize.json to write.")],
    params: ParamsOpt = Path("params.yaml"),
    base: Annotated[Path | None, typer.Option(help="Base checkpoint directory: also write base-q8_0.gguf, the untuned base that evaluate scores as gguf_base.")] = None,
) -> None:
    """Convert a merged model to GGUF f16, then Q8_0, quantize.q4_type and quantize.check_types, and check greedy agreement.

    Example: slmbench quantize --model smollm2-135m-lora --merged models/smollm2-135m-lora/merged --test data/v3/test.jsonl
    --out models/smollm2-135m-lora/gguf --metrics metrics/models/smollm2-135m-lora/quantize.json
    """
    from stages.train import quantize as stage

    r = stage.main(model, params, merged, test, out, metrics, base)
    typer.echo(f"quantize {model}: " + ", ".join(f"{k.removesuffix('.size_mb')} {v} MB" for k, v in sorted(r.items()) if k.endswith(".size_mb")), err=True)


@app.command("evaluate-release")
@friendly
def evaluate_release(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    test: Annotated[Path, typer.Option(help="Test JSONL.")],
    base: Annotated[Path, typer.Option(help="Base checkpoint directory (the untuned variant).")],
    merged: Annotated[Path, typer.Option(help="Merged model directory.")],
    gguf: Annotated[Path, typer.Option(help="Directory with model-q8_0.gguf and model-q4*.gguf.")],
    out: Annotated[Path, typer.Option(help="eval.json to write (flat keys).")],
    by_schema: Annotated[Path, typer.Option(help="eval_by_schema.json to write.")],
    predictions: Annotated[Path, typer.Option(help="Per-row predictions JSONL.")],
    test_unseen: Annotated[Path | None, typer.Option(help="Test JSONL of the held-out schemas (test_unseen); the release variant scores every row.")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """The evaluate stage: every variant, free and constrained decoding, on test_seen; the release variant also on test_unseen.

    Example: slmbench evaluate-release --model smollm2-135m-lora --test data/v3/test.jsonl --test-unseen data/v3/test_unseen.jsonl
    --base models/base/smollm2-135m-instruct --merged models/smollm2-135m-lora/merged --gguf models/smollm2-135m-lora/gguf
    --out metrics/models/smollm2-135m-lora/eval.json --by-schema metrics/models/smollm2-135m-lora/eval_by_schema.json
    --predictions models/smollm2-135m-lora/predictions.jsonl
    """
    from stages.evaluate import evaluate as stage

    stage.main(model, params, test, base, merged, gguf, out, by_schema, predictions, test_unseen)


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
    ] = "edgejson",
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
    if task not in ("edgejson", "intent", "funccall"):
        raise SLMBenchError(f"--task {task!r}: expected edgejson, intent or funccall")
    if submit is not None:
        from stages.evaluate.submission import precheck

        precheck(params, task, data, submit)  # before the scoring, not after it
        predictions = predictions or out.with_name(out.stem + ".predictions.jsonl")
    decoding = "constrained" if constrained else "free"
    if task == "intent":
        from stages.evaluate import intent_stage

        r = intent_stage.main_any(model, data, out, bootstrap_samples, bootstrap_seed, labels, threads, parallel, predictions)
        keys = [k for k in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall") if k in r]
        typer.echo(f"evaluate: n={r['n']} " + " ".join(f"{k}={r[k]:.3f} [{r[k + '_ci95'][0]:.3f}, {r[k + '_ci95'][1]:.3f}]" for k in keys) + " (95% bootstrap intervals)")
        decoding = "argmax" if r.get("label_set") is None else "label-constrained"
    elif task == "funccall":
        from stages.evaluate.funccall import main_any as funccall_any

        r = funccall_any(model, data, answers, constrained, out, threads, max(parallel, 1), min(max_new_tokens, 384), bootstrap_samples, bootstrap_seed, limit, predictions_out=predictions)
        keys = [k for k in ("ast_accuracy", "irrelevance_accuracy", "parallel_accuracy", "argument_f1") if k in r]
        figures = " ".join(f"{k}={r[k]:.3f} [{r[k + '_ci95'][0]:.3f}, {r[k + '_ci95'][1]:.3f}]" for k in keys)
        typer.echo(f"evaluate: n={r['n']} {r['decoding']} {figures} (95% bootstrap intervals)")
    else:
        from stages.evaluate import evaluate as stage

        r = stage.main_any(model, data, schemas, constrained, limit, out, max_new_tokens, threads, enforce_formats, bootstrap_samples, bootstrap_seed, parallel, predictions)
        figures = " ".join(f"{m}={r[m]:.3f} [{r[m + '_ci_low']:.3f}, {r[m + '_ci_high']:.3f}]" for m in ("json_exact", "field_f1", "schema_valid", "json_parse"))
        typer.echo(f"evaluate: n={r['n']} {figures} (95% bootstrap intervals)")
    if submit is not None and predictions is not None:
        from stages.evaluate.submission import submit_main

        path = submit_main(params, submit, task, decoding, r, data, model, predictions, submissions, base, licence)
        typer.echo(f"evaluate: submission written to {path}; `dvc repro leaderboard` puts it on the site")


@app.command()
@friendly
def leaderboard(
    out: Annotated[Path, typer.Option(help="Folder of the static site to write (replaced whole).")] = Path("site"),
    submissions: Annotated[Path, typer.Option(help="Folder of submission files (*.json).")] = Path("leaderboard/submissions"),
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Build the leaderboard site: every model, baseline and submission on every task, from the metrics files.

    Example: slmbench leaderboard --out site --submissions leaderboard/submissions   (then open site/index.html)
    """
    from stages.evaluate import site as stage

    typer.echo(stage.main(params, submissions, out))


@app.command()
@friendly
def report(
    datasets_dir: Annotated[Path, typer.Option(help="Folder with one metrics folder per dataset version (quality.json, split.json).")] = Path("metrics/datasets"),
    models_dir: Annotated[Path, typer.Option(help="Folder with one metrics folder per model (eval.json, quantize.json).")] = Path("metrics/models"),
    out: Annotated[Path, typer.Option(help="Markdown report to write.")] = Path("metrics/report.md"),
    release: Annotated[Path, typer.Option(help="release.json to write: the release dataset's figures under stable keys.")] = Path("metrics/release.json"),
    quality: Annotated[Path, typer.Option(help="Per-version quality rows (JSON) for the plot.")] = Path("metrics/dataset_quality.json"),
    intent_dir: Annotated[Path | None, typer.Option(help="EdgeIntent metrics: one folder per intent dataset (eval.json).")] = None,
    funccall_dir: Annotated[Path | None, typer.Option(help="EdgeFuncCall metrics: one folder per dataset (quality.json, split.json, mlm/eval.json, train.json, quantize.json).")] = None,
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write the release summary: every model's scores and quantization check, every dataset version's quality, EdgeIntent's tables.

    Example: slmbench report --datasets-dir metrics/datasets --models-dir metrics/models --out metrics/report.md
    """
    from stages.evaluate import report as stage

    stage.main(params, datasets_dir, models_dir, out, release, quality, intent_dir, funccall_dir)


@app.command()
@friendly
def card(
    model: Annotated[str, typer.Option(help="Model name, a key of `models` in params.yaml.")],
    eval_file: Annotated[Path, typer.Option("--eval", help="The model's eval.json.")],
    train_file: Annotated[Path, typer.Option("--train", help="The model's train.json.")],
    quantize_file: Annotated[Path, typer.Option("--quantize", help="The model's quantize.json.")],
    quality: Annotated[Path, typer.Option(help="quality.json of the dataset version the model trained on.")],
    out: Annotated[Path, typer.Option(help="Model card to write (Markdown with Hugging Face front matter).")],
    tiers: Annotated[Path, typer.Option(help="Per-tier scores JSON to write, for the model's tier plot.")],
    params: ParamsOpt = Path("params.yaml"),
) -> None:
    """Write one model's card and its per-tier plot data.

    Example: slmbench card --model smollm2-135m-lora --eval metrics/models/smollm2-135m-lora/eval.json
    --train metrics/models/smollm2-135m-lora/train.json --quantize metrics/models/smollm2-135m-lora/quantize.json
    --quality metrics/datasets/v3/quality.json --out models/smollm2-135m-lora/README.md --tiers metrics/models/smollm2-135m-lora/tier_scores.json
    """
    from stages.evaluate import card as stage

    stage.main(model, params, eval_file, train_file, quantize_file, quality, out, tiers)


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
