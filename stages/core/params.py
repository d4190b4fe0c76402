"""Load params.yaml into typed objects. Unknown or mistyped keys are errors that name the key.

Resolution order: the file, then CLI overrides (`-S key=value` style is DVC's job), then this
validation. Every section is a dataclass; its field comments give units and meaning.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stages.core.errors import SLMBenchError

T = TypeVar("T")
TASKS_DIR = Path(__file__).resolve().parents[1] / "tasks"  # stages/tasks/<task>/task.py: the registered tasks (looked at, not imported)

# The evaluated variants, in report order; each runs free and constrained.
VARIANTS = ("gguf_base", "hf_base", "hf_tuned", "gguf_q8_0", "gguf_q4")


@dataclass(frozen=True)
class SchemaGenerator:
    """Synthetic training schemas for one dataset version (stages/tasks/edgejson/templates/synth.py)."""

    schemas: int = 0  # generated schemas (0: none); their rows go to train only
    rows_per_schema: int = 2  # rows per generated schema
    styles: list[str] = field(default_factory=lambda: ["snake_case", "camelCase"])  # key naming styles, one per schema
    tiers: dict[str, float] = field(default_factory=lambda: {"simple": 0.4, "medium": 0.4, "complex": 0.2})  # share of schemas per tier


@dataclass(frozen=True)
class Recipe:
    """One dataset version: how it is generated and how it is gated."""

    seed: int  # base seed; every row's seed is derived from it, the schema id and the row index
    generator: str  # generator revision: "v2" (historical derived-totals bug) or "v3" (fixed)
    suite: str  # expectation suite that gates the version: "v2" (historical) or "full"
    rows_per_schema: int  # rows generated per schema (25 schemas x 32 = 800 rows)
    surfaces: list[str]  # surface forms, used round-robin per schema
    prompt_chars: list[int]  # [min, max] prompt length in characters
    max_reject_rate: float  # the gate fails when more than this share of generated rows is rejected
    min_per_schema: int  # coverage: accepted rows each schema must have
    regenerate: bool  # selective regeneration: replace rejected rows with fresh seeds
    max_attempts: int = 5  # regeneration attempts per rejected row before giving up
    teacher_fraction: float = 0.0  # target share of rows whose text comes from the teacher (ignored while teacher.backend is none)
    teacher_max_sent: float = 1.0  # most rows offered to the teacher, as a share of the version, however many fail
    known_defect: str = ""  # a documented historical defect: `slmbench audit` reports it but does not fail on it
    schema_generator: SchemaGenerator = field(default_factory=SchemaGenerator)  # synthetic training schemas (none by default)


@dataclass(frozen=True)
class SplitParams:
    test_fraction: float  # share of each schema's rows that goes to test
    seed: int
    unseen_schemas: int = 0  # schemas held out of training, all their rows in test_unseen (0: none)


@dataclass(frozen=True)
class TeacherModel:
    """One teacher: a backend and a model (and, for `openai`, the server)."""

    backend: str  # vllm | openai
    model: str  # vllm: a model directory, `embedded:<name>` or a hub id; openai: the served model name
    base_url: str = ""  # openai: e.g. http://127.0.0.1:8011/v1
    api_key_env: str = ""  # openai: the env var that holds the API key ("" = no key)
    allow_remote: bool = False  # openai: a base_url that is not loopback needs this


@dataclass(frozen=True)
class VLLMSettings:
    python: str = ""  # interpreter of the environment with vLLM ("" = .venv-teacher/bin/python, else this one)
    dtype: str = "float32"  # float32: the output does not depend on the batch (bfloat16 is ~1.5x faster but does)
    max_model_len: int = 1024
    tensor_parallel_size: int = 1  # GPUs per engine on a multi-GPU machine
    kv_cache_gib: int = 1  # VLLM_CPU_KVCACHE_SPACE on CPU
    worker_timeout_s: float = 3600.0


@dataclass(frozen=True)
class OpenAISettings:
    concurrency: int = 4  # requests in flight
    timeout_s: float = 60.0  # per request
    retries: int = 2  # after the first try, with exponential backoff
    backoff_s: float = 1.0


@dataclass(frozen=True)
class TeacherParams:
    backend: str  # none | vllm | openai: the default teacher's backend (none: no teacher at all)
    model: str = "embedded:smollm2-135m-instruct"
    base_url: str = ""
    api_key_env: str = ""
    allow_remote: bool = False
    teachers: dict[str, TeacherModel] = dataclasses.field(default_factory=dict)  # more teachers, by name
    routes: dict[str, str] = dataclasses.field(default_factory=dict)  # schema keyword or tier -> teacher name (first match wins)
    registers: list[str] = dataclasses.field(default_factory=lambda: ["email", "chat", "note", "report"])
    temperature: float = 0.7
    top_p: float = 0.9
    max_tokens: int = 384
    seed: int = 1234  # per-request seeds derive from it, the row id and the attempt
    attempts: int = 2  # paraphrase tries per row before it falls back to its template text
    vllm: VLLMSettings = dataclasses.field(default_factory=VLLMSettings)
    openai: OpenAISettings = dataclasses.field(default_factory=OpenAISettings)

    def default_model(self) -> TeacherModel:
        return TeacherModel(self.backend, self.model, self.base_url, self.api_key_env, self.allow_remote)

    def resolve(self, name: str) -> TeacherModel:
        return self.default_model() if name == "default" else self.teachers[name]


@dataclass(frozen=True)
class ReleaseParams:
    dataset: str  # the dataset version the models train and are scored on


@dataclass(frozen=True)
class ModelParams:
    """One fine-tuned model: its base and every LoRA training setting."""

    base: str  # a key of `bases`
    r: int  # LoRA rank
    alpha: int  # LoRA alpha (scale = alpha / r)
    dropout: float  # LoRA dropout
    target_modules: list[str]  # linear layers that get adapters
    lr: float  # peak learning rate
    scheduler: str  # transformers scheduler name: linear, cosine, constant_with_warmup, ...
    warmup_steps: int  # optimizer steps of warmup
    epochs: float  # passes over the train split (ignored when max_steps > 0)
    max_steps: int  # optimizer steps; -1 means run `epochs`
    batch_size: int  # examples per micro-batch (padded to the batch's longest)
    grad_accum: int  # micro-batches per optimizer step
    max_length: int  # tokens; longer examples are dropped and counted
    threads: int  # torch CPU threads
    precision: str  # "auto" (bf16 autocast where the CPU has native bf16, AVX512-BF16 or AMX; else fp32), "bf16" or "fp32"
    seed: int
    checkpoint_steps: int = 0  # a resumable checkpoint every this many optimizer steps (0: none); not part of the recipe a checkpoint must match
    top_layers: int = 0  # LoRA on the top N decoder layers only (0: every layer): the backward pass stops at the lowest adapted layer
    cache_lower: bool = False  # with top_layers: each example's output of the frozen lower layers is kept from its first pass and reused in every later epoch


@dataclass(frozen=True, kw_only=True)
class MLMScoring:
    """How a task's trained MLM is quantized, gated and scored: `<task>.mlm_scoring` (for a task run
    by the generic stages, `tasks.<task>.mlm_scoring`), apart from its training recipe (`mlm`) so
    that a change here reruns quantize and evaluate, never training."""

    test_rows: int = 0  # test rows scored, the task's own draw (0: every row)
    qtype: str = "Q8_0"  # the GGUF type made and scored
    check_rows: int = 300  # test rows the GGUF and the merged model both answer for the quantize gate (0: no check)
    min_agreement: float = 0.5  # the gate's floor: the share of the merged model's answers the GGUF reproduces (stages/core/gate.py)
    max_drop: float = 0.05  # the gate: the GGUF fails when its primary metric is below the merged model's by more than this, significantly
    parallel: int = 16  # llama.cpp sequences per decode step when scoring


@dataclass(frozen=True)
class MLMTraining(ModelParams):
    """The training recipe of a task's LoRA language model (`<task>.mlm`, or `tasks.<task>.mlm`):
    ModelParams' settings and the rows it trains on. All the train stage reads."""

    train_rows: int = 0  # training rows, the task's own draw (0: every row)


@dataclass(frozen=True)
class MLMParams(MLMTraining, MLMScoring):
    """The LoRA language model of a task run by the generic stages (stages/pipeline/): its training
    recipe (`tasks.<task>.mlm`) and how it is quantized and scored (`tasks.<task>.mlm_scoring`),
    together: what the quantize and evaluate stages read."""


@dataclass(frozen=True, kw_only=True)
class IntentMLMScoring(MLMScoring):
    """How EdgeIntent's trained MLM is quantized, gated and scored (`intent.mlm_scoring`)."""

    test_rows: int = 0  # about this many test rows scored, the same number from each class, drawn with the MLM's `seed`; out-of-scope keeps all its rows (0: every row)
    latency_queries: int = 100  # test rows timed one query at a time


@dataclass(frozen=True)
class IntentMLMParams(MLMTraining, IntentMLMScoring):
    """EdgeIntent's MLM, one per dataset under `intent.datasets`: a LoRA fine-tune whose answer is
    the label, trained on about `train_rows` rows, the same number from each class, drawn with
    `seed` (`intent.mlm`), with its GGUF, gate and scoring (`intent.mlm_scoring`)."""


@dataclass(frozen=True)
class QuantizeParams:
    q4_type: str  # the 4-bit GGUF type the evaluate stage scores: Q4_K_M (a q5_0/q8_0 mix here) or Q4_0 (every tensor 4-bit)
    check_types: list[str]  # more GGUF types made and scored in the greedy check only (e.g. Q4_0 next to Q4_K_M)
    check_rows_per_schema: int  # test rows per schema in the greedy check (0: no check)
    check_max_tokens: int  # generation cap per check answer, tokens (whole answers, not prefixes)
    min_agreement: float  # the gate's floor: mean share of each merged-model answer every GGUF must reproduce from its start (a broken file's bar; stages/core/gate.py)
    threads: int
    max_drop: float = 0.05  # the gate: f16 and Q8_0 fail when their json_exact on the check rows is below the merged model's by more than this, significantly


@dataclass(frozen=True)
class EvaluateParams:
    release_variant: str  # the variant scored on every test row, both decodings (one of VARIANTS)
    rows_per_schema: int  # test rows per schema for the other variants, stratified (0: every row, every variant)
    max_rows: int  # cap on scored rows after that, every variant (0: no cap; tests only)
    bootstrap_samples: int  # resamples of the scored rows for each 95% interval
    bootstrap_seed: int  # seed of those resamples
    max_new_tokens: int  # generation cap per answer, tokens
    hf_batch_size: int  # HF generate batch (left-padded)
    gguf_parallel: int  # KV-cache slots llama.cpp decodes per step; a row's free and constrained decodings share one until their tokens part, and reserve two
    threads: int
    n_ctx: int  # llama.cpp context, tokens
    enforce_formats: bool  # constrained decoding also forces `pattern` and the formats llama.cpp implements
    variants: list[str] = dataclasses.field(default_factory=lambda: list(VARIANTS))  # which of VARIANTS to score
    tiers: list[str] = dataclasses.field(default_factory=lambda: ["simple", "medium", "complex"])  # test rows of these tiers only


@dataclass(frozen=True)
class IntentRecipe:
    """One EdgeIntent dataset (stages/tasks/intent): real queries imported from a source folder."""

    task: str  # the task the recipe belongs to (its folder under stages/tasks/), checked by the generic stages
    format: str  # how the source folder is laid out: banking77 (train.csv) or clinc150 (data_train_val.json)
    min_chars: int  # a query shorter than this is quarantined
    max_chars: int  # a query longer than this is quarantined
    min_per_class: int  # the gate fails when a class keeps fewer accepted rows
    drop_conflicts: bool  # the same normalised query under two labels: drop every copy (true) or keep one per label
    max_reject_rate: float  # the gate fails when more than this share of rows is quarantined
    seed: int = 0  # seed of the stratified split (banking77)
    test_fraction: float = 0.2  # banking77: share of each class in test; clinc150 tests on its val and oos_val lists
    include_oos_train: bool = True  # clinc150: train on oos_train too, with the label oos


@dataclass(frozen=True)
class IntentParams:
    """EdgeIntent: datasets and the settings of its models (one of each per dataset)."""

    datasets: dict[str, IntentRecipe] = dataclasses.field(default_factory=dict)
    nlm: dict[str, Any] = dataclasses.field(default_factory=dict)  # the NLM's settings (stages/train/nlm.py: NLMConfig; absent keys take its defaults)
    tfidf: dict[str, Any] = dataclasses.field(default_factory=dict)  # the TF-IDF + LR baseline's (stages/train/intent_baselines.py: TfidfLRConfig)
    mlm: dict[str, Any] = dataclasses.field(default_factory=dict)  # the MLM's training recipe (MLMTraining, checked by `intent_mlm_training`)
    mlm_scoring: dict[str, Any] = dataclasses.field(default_factory=dict)  # how it is quantized and scored (IntentMLMScoring; `intent_mlm` checks both)
    bootstrap_samples: int = 1000  # resamples of the test rows for each 95% interval
    bootstrap_seed: int = 0
    latency_queries: int = 200  # test rows timed one query at a time per model


@dataclass(frozen=True)
class FuncCallData:
    """One EdgeFuncCall dataset (stages/tasks/funccall/generate.py): Faker values in templated
    requests over a tool catalogue, gated by GX (stages/tasks/funccall/gate.py)."""

    tools_dir: str  # the tool catalogue: <dir>/<domain>.json (OpenAI tools format)
    seed: int  # rows derive their seeds from it and their index
    rows: int  # rows generated, train and test together
    test_fraction: float  # share of rows made from test-only templates (each tool keeps some templates for test only)
    none_share: float  # share of rows where no offered tool fits (the answer is no call)
    parallel_share: float  # share of rows with two calls
    distractors: list[int]  # [min, max] tools offered besides the right one(s)
    similar_share: float  # share of rows offered a distractor with a similar name
    surfaces: list[str]  # request phrasings drawn from
    max_reject_rate: float  # the gate fails above this share of quarantined rows
    min_per_tool: int  # the gate fails when a tool has fewer accepted rows in train or in test
    teacher_fraction: float = 0.0  # share of rows whose request the teacher paraphrases (stages/tasks/funccall/teacher.py; none while teacher.backend is none)


@dataclass(frozen=True, kw_only=True)
class FuncCallMLMScoring(MLMScoring):
    """How EdgeFuncCall's trained MLM is quantized, gated and scored (`funccall.mlm_scoring`)."""

    test_rows: int = 0  # test rows scored, the first of a seeded shuffle (0: every row)
    bfcl_rows: int = 0  # rows scored per BFCL category, the first of a seeded shuffle (0: every row)
    decodings: list[str] = dataclasses.field(default_factory=lambda: ["free", "constrained"])  # how the test split is scored
    check_rows: int = 96  # test rows the GGUF and the merged model both answer, with the gate decoding (free: stages/tasks/funccall/pipeline.py GATE_DECODING), for the quantize gate (0: no check)
    max_calls: int = 4  # calls an answer may hold (the grammar's bound)
    max_new_tokens: int = 160  # generation cap per answer, tokens
    n_ctx: int = 2048  # llama.cpp context per sequence, tokens (BFCL's longest prompts)
    parallel: int = 8  # llama.cpp sequences per decode step when scoring


@dataclass(frozen=True)
class FuncCallMLMParams(MLMTraining, FuncCallMLMScoring):
    """EdgeFuncCall's MLM: a LoRA fine-tune answering with the calls as JSON, trained on the first
    `train_rows` rows of a seeded shuffle (`funccall.mlm`), with its GGUF, gate and scoring
    (`funccall.mlm_scoring`)."""


@dataclass(frozen=True)
class FuncCallParams:
    """EdgeFuncCall: its datasets (one per tool catalogue or recipe), BFCL as the outside test, the MLM (one per dataset)."""

    datasets: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # name -> FuncCallData, checked by `funccall_data`
    mlm: dict[str, Any] = dataclasses.field(default_factory=dict)  # the MLM's training recipe (MLMTraining, checked by `funccall_mlm_training`)
    mlm_scoring: dict[str, Any] = dataclasses.field(default_factory=dict)  # how it is quantized and scored (FuncCallMLMScoring; `funccall_mlm` checks both)
    bfcl: list[str] = dataclasses.field(default_factory=lambda: ["simple_python", "multiple", "irrelevance"])  # BFCL v4 categories converted and scored
    bootstrap_samples: int = 1000  # resamples of the scored rows for each 95% interval
    bootstrap_seed: int = 0


@dataclass(frozen=True)
class Params:
    schemas_dir: str  # folder of schemas: <dir>/<tier>/<schema_id>.json
    datasets: dict[str, Recipe]
    split: SplitParams
    teacher: TeacherParams
    release: ReleaseParams
    bases: dict[str, str]  # name -> embedded:<name>, a local directory, or a hub id
    models: dict[str, ModelParams]
    quantize: QuantizeParams
    evaluate: EvaluateParams
    intent: IntentParams = dataclasses.field(default_factory=IntentParams)  # EdgeIntent (none when absent)
    funccall: FuncCallParams = dataclasses.field(default_factory=FuncCallParams)  # EdgeFuncCall (none when absent)
    # Tasks run by the generic stages (stages/pipeline/): task name (a folder stages/tasks/<task>/
    # with a task.py) -> its section, which the task's own `recipe` and `mlm` parts check.
    tasks: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


def _check_type(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)  # type: ignore[arg-type]
    if origin in (list,):
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise SLMBenchError(f"params.yaml: {where}: expected a list, got {value!r}")
        return [_check_type(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, inner = typing.get_args(tp)
        if not isinstance(value, dict):
            raise SLMBenchError(f"params.yaml: {where}: expected a mapping, got {value!r}")
        return {str(k): _check_type(v, inner, f"{where}.{k}") for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return value
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool) or not isinstance(value, tp):
        raise SLMBenchError(f"params.yaml: {where}: expected {tp.__name__}, got {value!r}")
    return value


def build(cls: type[T], data: Any, where: str) -> T:
    """Construct dataclass `cls` from a mapping, rejecting unknown keys with a suggestion."""
    if not isinstance(data, dict):
        raise SLMBenchError(f"params.yaml: {where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields or key == "extra":
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of {', '.join(sorted(fields))}"
            raise SLMBenchError(f"params.yaml: unknown key {where + '.' if where else ''}{key}{hint}")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _check_type(data[name], hints[name], f"{where}.{name}" if where else name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SLMBenchError(f"params.yaml: missing key {where + '.' if where else ''}{name}")
    return cls(**kwargs)


def load(path: Path = Path("params.yaml")) -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: params file not found") from None
    except yaml.YAMLError as exc:
        raise SLMBenchError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise SLMBenchError(f"{path}: expected a mapping at the top level")
    try:
        params = build(Params, raw, "")
        _semantic_checks(params)
        _check_tasks(params, path.resolve().parent / "stages" / "tasks")
    except SLMBenchError as exc:
        # Messages are written against "params.yaml"; name the file actually read.
        msg = str(exc)
        raise SLMBenchError(f"{path}{msg[len('params.yaml'):]}" if msg.startswith("params.yaml") else msg) from None
    return params


def _check_model(m: ModelParams, w: str) -> None:
    """A fine-tuned model's precision and length of training; `w` names it in the error."""
    if m.precision not in ("auto", "bf16", "fp32"):
        raise SLMBenchError(f"{w}.precision: expected auto, bf16 or fp32, got {m.precision!r}")
    if m.checkpoint_steps < 0:
        raise SLMBenchError(f"{w}.checkpoint_steps: expected 0 (no checkpoints) or a positive count of optimizer steps, got {m.checkpoint_steps}")
    if m.top_layers < 0:
        raise SLMBenchError(f"{w}.top_layers: expected 0 (every layer) or the number of top decoder layers that get adapters, got {m.top_layers}")
    if m.cache_lower and m.top_layers == 0:
        raise SLMBenchError(f"{w}.cache_lower: needs top_layers > 0 (with every layer adapted there are no frozen lower layers to keep)")
    if m.max_steps == 0 or (m.max_steps < 0 and m.epochs <= 0):
        raise SLMBenchError(f"{w}: set max_steps > 0, or max_steps: -1 with epochs > 0")


def _check_tasks(p: Params, tasks_dir: Path) -> None:
    """Each key of `tasks` names a task folder (stages/tasks/<task>/task.py beside the params file,
    else this package's): looked at, not imported."""
    if not tasks_dir.is_dir():
        tasks_dir = TASKS_DIR
    for name in p.tasks:
        if not (tasks_dir / name / "task.py").is_file():
            found = sorted(d.name for d in tasks_dir.iterdir() if (d / "task.py").is_file())
            raise SLMBenchError(f"params.yaml: tasks.{name}: no task {name!r} (a folder stages/tasks/{name}/ with a task.py); expected one of {', '.join(found)}")


def _semantic_checks(p: Params) -> None:
    """What params.yaml alone can tell. A value that only the code above this floor can judge
    (a generator revision, a suite, a surface, a teacher register or URL) is checked by its owner
    when its stage loads that section: stages.tasks.edgejson.recipes and stages.inference.teacher.check_params."""
    for name, r in p.datasets.items():
        w = f"params.yaml: datasets.{name}"
        if len(r.prompt_chars) != 2 or r.prompt_chars[0] > r.prompt_chars[1]:
            raise SLMBenchError(f"{w}.prompt_chars: expected [min, max], got {r.prompt_chars!r}")
        if r.rows_per_schema < 1:
            raise SLMBenchError(f"{w}.rows_per_schema: expected a positive count of rows per schema, got {r.rows_per_schema}")
        if r.max_attempts < 0:
            raise SLMBenchError(f"{w}.max_attempts: expected 0 or more attempts per rejected row, got {r.max_attempts}")
        if r.min_per_schema < 0:
            raise SLMBenchError(f"{w}.min_per_schema: expected 0 or more rows, got {r.min_per_schema}")
        for key in ("max_reject_rate", "teacher_fraction", "teacher_max_sent"):
            if not 0.0 <= getattr(r, key) <= 1.0:
                raise SLMBenchError(f"{w}.{key}: expected a share in [0, 1], got {getattr(r, key)}")
    bad = [v for v in p.evaluate.variants if v not in VARIANTS]
    if bad or not p.evaluate.variants:
        raise SLMBenchError(f"params.yaml: evaluate.variants: expected a non-empty subset of {', '.join(VARIANTS)}, got {p.evaluate.variants!r}")
    bad = [t for t in p.evaluate.tiers if t not in ("simple", "medium", "complex")]
    if bad or not p.evaluate.tiers:
        raise SLMBenchError(f"params.yaml: evaluate.tiers: expected a non-empty subset of simple, medium, complex, got {p.evaluate.tiers!r}")
    for name, m in p.models.items():
        w = f"params.yaml: models.{name}"
        if m.base not in p.bases:
            raise SLMBenchError(f"{w}.base: {m.base!r} is not one of bases: {', '.join(p.bases) or '(none)'}")
        _check_model(m, w)
    q4 = ("Q4_0", "Q4_1", "Q4_K_M", "Q4_K_S")
    if p.quantize.q4_type.upper() not in q4:
        raise SLMBenchError(f"params.yaml: quantize.q4_type: expected one of {', '.join(q4)}, got {p.quantize.q4_type!r}")
    bad = [t for t in p.quantize.check_types if t.upper() not in q4]
    if bad:
        raise SLMBenchError(f"params.yaml: quantize.check_types: expected types among {', '.join(q4)}, got {bad!r}")
    if p.quantize.check_rows_per_schema < 0:
        raise SLMBenchError(f"params.yaml: quantize.check_rows_per_schema: expected 0 (no check) or a positive count, got {p.quantize.check_rows_per_schema}")
    if p.quantize.check_max_tokens < 1:
        raise SLMBenchError(f"params.yaml: quantize.check_max_tokens: expected a positive token count, got {p.quantize.check_max_tokens}")
    if not 0.0 <= p.quantize.min_agreement <= 1.0:
        raise SLMBenchError(f"params.yaml: quantize.min_agreement: expected a share in [0, 1], got {p.quantize.min_agreement}")
    if not 0.0 <= p.quantize.max_drop <= 1.0:
        raise SLMBenchError(f"params.yaml: quantize.max_drop: expected a share in [0, 1], got {p.quantize.max_drop}")
    if p.evaluate.release_variant not in p.evaluate.variants:
        raise SLMBenchError(
            f"params.yaml: evaluate.release_variant: expected one of evaluate.variants ({', '.join(p.evaluate.variants)}), got {p.evaluate.release_variant!r}"
        )
    if p.evaluate.rows_per_schema < 0:
        raise SLMBenchError(f"params.yaml: evaluate.rows_per_schema: expected 0 (every row) or a positive count, got {p.evaluate.rows_per_schema}")
    if p.evaluate.max_rows < 0:
        raise SLMBenchError(f"params.yaml: evaluate.max_rows: expected 0 (no cap) or a positive count, got {p.evaluate.max_rows}")
    if p.evaluate.bootstrap_samples < 100:
        raise SLMBenchError(f"params.yaml: evaluate.bootstrap_samples: expected an integer >= 100, got {p.evaluate.bootstrap_samples}")
    if p.evaluate.gguf_parallel < 1 or p.evaluate.hf_batch_size < 1:
        raise SLMBenchError(f"params.yaml: evaluate.gguf_parallel and evaluate.hf_batch_size: expected integers >= 1, got {p.evaluate.gguf_parallel} and {p.evaluate.hf_batch_size}")
    if p.evaluate.bootstrap_seed < 0:
        raise SLMBenchError(f"params.yaml: evaluate.bootstrap_seed: expected a non-negative integer, got {p.evaluate.bootstrap_seed}")
    if not 0.0 < p.split.test_fraction < 1.0:
        raise SLMBenchError(f"params.yaml: split.test_fraction: expected a share in (0, 1), got {p.split.test_fraction}")
    if p.split.unseen_schemas < 0:
        raise SLMBenchError(f"params.yaml: split.unseen_schemas: expected 0 or more schemas to hold out, got {p.split.unseen_schemas}")
    if p.intent.datasets:
        intent_mlm(p)
    for name in p.funccall.datasets:
        funccall_data(p, name)
    if p.funccall.datasets:
        funccall_mlm(p)
        funccall_bfcl(p)
    for name, ir in p.intent.datasets.items():
        w = f"params.yaml: intent.datasets.{name}"
        if not 0.0 < ir.test_fraction < 1.0:
            raise SLMBenchError(f"{w}.test_fraction: expected a share in (0, 1), got {ir.test_fraction}")
        if not 1 <= ir.min_chars <= ir.max_chars:
            raise SLMBenchError(f"{w}: expected 1 <= min_chars <= max_chars, got {ir.min_chars} and {ir.max_chars}")
        if ir.min_per_class < 1:
            raise SLMBenchError(f"{w}.min_per_class: expected 1 or more rows, got {ir.min_per_class}")
        if not 0.0 <= ir.max_reject_rate < 1.0:
            raise SLMBenchError(f"{w}.max_reject_rate: expected a share in [0, 1), got {ir.max_reject_rate}")
    if p.release.dataset not in p.datasets:
        raise SLMBenchError(f"params.yaml: release.dataset: {p.release.dataset!r} is not one of datasets: {', '.join(p.datasets)}")


def recipe(p: Params, version: str) -> Recipe:
    if version not in p.datasets:
        raise SLMBenchError(f"params.yaml: no dataset version {version!r}; expected one of {', '.join(p.datasets)}")
    return p.datasets[version]


MLM_QTYPES = ("Q8_0", "Q4_K_M", "Q4_0")


def _training(p: Params, raw: Any, where: str) -> MLMTraining:
    """A task MLM's training recipe (`raw`, the section `where`) checked: one line for an unknown or
    missing key, a wrong type, a base outside `bases`, a bad precision or length of training."""
    w = f"params.yaml: {where}"
    m = build(MLMTraining, raw, where)
    if m.base not in p.bases:
        raise SLMBenchError(f"{w}.base: {m.base!r} is not one of bases: {', '.join(p.bases) or '(none)'}")
    _check_model(m, w)
    if m.train_rows < 0:
        raise SLMBenchError(f"{w}.train_rows: expected 0 (every row) or more, got {m.train_rows}")
    return m


def _with_scoring(cls: type[T], training: MLMTraining, scoring_cls: type, raw: Any, where: str) -> T:
    """`cls` (a task's MLM settings): `training` and its scoring section (`raw`, the section
    `where`, as `scoring_cls`), checked: counts, a GGUF type the quantize stage makes, shares in [0, 1]."""
    w = f"params.yaml: {where}"
    s = build(scoring_cls, {} if raw is None else raw, where)
    counts = {k: v for k, v in dataclasses.asdict(s).items() if k.endswith(("_rows", "_queries"))}
    bad = [k for k, v in counts.items() if v < 0]
    if bad:
        raise SLMBenchError(f"{w}.{bad[0]}: expected 0 or more, got {counts[bad[0]]}")
    for key in ("parallel", "max_calls", "max_new_tokens", "n_ctx"):
        if getattr(s, key, 1) < 1:
            raise SLMBenchError(f"{w}.{key}: expected 1 or more, got {getattr(s, key)}")
    if s.qtype.upper() not in MLM_QTYPES:
        raise SLMBenchError(f"{w}.qtype: expected one of {', '.join(MLM_QTYPES)}, got {s.qtype!r}")
    for key in ("min_agreement", "max_drop"):
        if not 0.0 <= getattr(s, key) <= 1.0:
            raise SLMBenchError(f"{w}.{key}: expected a share in [0, 1], got {getattr(s, key)}")
    decodings = getattr(s, "decodings", list(DECODINGS))
    if not decodings or [d for d in decodings if d not in DECODINGS]:
        raise SLMBenchError(f"{w}.decodings: expected some of {', '.join(DECODINGS)}, got {decodings}")
    return cls(**dataclasses.asdict(training), **dataclasses.asdict(s))


def intent_mlm_training(p: Params) -> MLMTraining:
    """`intent.mlm`: the training recipe of EdgeIntent's MLM, all its train stage reads."""
    return _training(p, p.intent.mlm, "intent.mlm")


def intent_mlm(p: Params) -> IntentMLMParams:
    """`intent.mlm` and `intent.mlm_scoring`: EdgeIntent's MLM as quantize and evaluate read it."""
    return _with_scoring(IntentMLMParams, _training(p, p.intent.mlm, "intent.mlm"), IntentMLMScoring, p.intent.mlm_scoring, "intent.mlm_scoring")


def intent_recipe(p: Params, name: str) -> IntentRecipe:
    if name not in p.intent.datasets:
        raise SLMBenchError(f"params.yaml: no intent dataset {name!r}; expected one of {', '.join(p.intent.datasets) or '(none)'}")
    return p.intent.datasets[name]


BFCL_CATEGORIES = ("simple_python", "multiple", "irrelevance")  # the single-call BFCL v4 categories the bfcl stage converts
DECODINGS = ("free", "constrained")


def funccall_data(p: Params, name: str) -> FuncCallData:
    """`funccall.datasets.<name>` as FuncCallData, its shares and bounds checked, one line for the first wrong key."""
    if name not in p.funccall.datasets:
        raise SLMBenchError(f"params.yaml: no funccall dataset {name!r}; expected one of {', '.join(p.funccall.datasets) or '(none)'}")
    w = f"params.yaml: funccall.datasets.{name}"
    d = build(FuncCallData, p.funccall.datasets[name], f"funccall.datasets.{name}")
    if d.rows < 1:
        raise SLMBenchError(f"{w}.rows: expected 1 or more, got {d.rows}")
    for key in ("test_fraction", "none_share", "parallel_share", "similar_share", "max_reject_rate", "teacher_fraction"):
        v = getattr(d, key)
        if not 0.0 <= v < 1.0:
            raise SLMBenchError(f"{w}.{key}: expected a share in [0, 1), got {v}")
    if d.none_share + d.parallel_share >= 1.0:
        raise SLMBenchError(f"{w}: none_share + parallel_share is {d.none_share + d.parallel_share}; expected below 1 (single-call rows need a share)")
    if len(d.distractors) != 2 or not 0 <= d.distractors[0] <= d.distractors[1]:
        raise SLMBenchError(f"{w}.distractors: expected [min, max] with 0 <= min <= max, got {d.distractors}")
    if not d.surfaces:
        raise SLMBenchError(f"{w}.surfaces: expected at least one surface form")
    if d.min_per_tool < 1:
        raise SLMBenchError(f"{w}.min_per_tool: expected 1 or more, got {d.min_per_tool}")
    return d


def funccall_mlm_training(p: Params) -> MLMTraining:
    """`funccall.mlm`: the training recipe of EdgeFuncCall's MLM, all its train stage reads."""
    return _training(p, p.funccall.mlm, "funccall.mlm")


def funccall_mlm(p: Params) -> FuncCallMLMParams:
    """`funccall.mlm` and `funccall.mlm_scoring`: EdgeFuncCall's MLM as quantize and evaluate read it."""
    return _with_scoring(FuncCallMLMParams, _training(p, p.funccall.mlm, "funccall.mlm"), FuncCallMLMScoring, p.funccall.mlm_scoring, "funccall.mlm_scoring")


def task_section(p: Params, task: str) -> dict[str, Any]:
    """`tasks.<task>`: the section of a task run by the generic stages."""
    if task not in p.tasks:
        raise SLMBenchError(f"params.yaml: no section tasks.{task}; expected one of {', '.join(p.tasks) or '(none)'}")
    return p.tasks[task]


def task_bootstrap(p: Params, task: str) -> tuple[int, int]:
    """(resamples, seed) of every 95% interval a pipeline task's stages write: `tasks.<task>.bootstrap_samples` (1000) and `bootstrap_seed` (0)."""
    s = task_section(p, task)
    samples, seed = s.get("bootstrap_samples", 1000), s.get("bootstrap_seed", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 100 or not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SLMBenchError(f"params.yaml: tasks.{task}: bootstrap_samples: expected an integer >= 100, bootstrap_seed: a non-negative integer; got {samples!r} and {seed!r}")
    return samples, seed


def task_mlm_training(p: Params, task: str) -> MLMTraining:
    """`tasks.<task>.mlm`: the training recipe of a pipeline task's MLM, all its train stage reads."""
    return _training(p, task_section(p, task).get("mlm"), f"tasks.{task}.mlm")


def task_mlm(p: Params, task: str) -> MLMParams:
    """`tasks.<task>.mlm` and `tasks.<task>.mlm_scoring`: a pipeline task's MLM as quantize and evaluate read it."""
    section = task_section(p, task)
    return _with_scoring(MLMParams, _training(p, section.get("mlm"), f"tasks.{task}.mlm"), MLMScoring, section.get("mlm_scoring"), f"tasks.{task}.mlm_scoring")


def funccall_bfcl(p: Params) -> list[str]:
    bad = [c for c in p.funccall.bfcl if c not in BFCL_CATEGORIES]
    if bad:
        raise SLMBenchError(f"params.yaml: funccall.bfcl: unknown category {bad[0]!r}; expected some of {', '.join(BFCL_CATEGORIES)}")
    return list(p.funccall.bfcl)
