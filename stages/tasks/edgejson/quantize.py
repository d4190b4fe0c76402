"""EdgeJSON's own `quantize` part (stages/tasks/registry.py: PIPELINE_PARTS), which the generic quantize
stage (stages/pipeline/quantize.py, whose TASK_MODULE is `quantize`) calls for quantize@<model>:
`slmbench task-quantize --task edgejson --name smollm2-135m-lora --merged models/smollm2-135m-lora/merged
--base models/base/smollm2-135m-instruct --test data/v4/test.jsonl --out models/smollm2-135m-lora/gguf
--metrics metrics/models/smollm2-135m-lora/quantize.json`. A stage's `--name` is a model of `models:`.

merged safetensors -> GGUF f16 (llama.cpp's own convert_hf_to_gguf.py, fetched from the
llama-cpp-python sdist at setup time, never committed) -> Q8_0, `q4_type` and each of
`check_types`, through `llama_cpp.llama_model_quantize`. No quantization math is written here.

The output folder holds `model-q8_0.gguf`, `model-<q4_type lower>.gguf` (the file evaluate scores
as gguf_q4; Q4_K_M by default, which for this model is a q4_K/q5_0/q8_0 mix because its
576-wide tensors are not multiples of 256) and `model-<type lower>.gguf` for each check type
(Q4_0 by default: 4-bit in every tensor, the smallest file). The f16 file is temporary.
With `--base` (the model's base checkpoint, models/base/<base>), the folder also holds
`base-q8_0.gguf`, the untuned base through the same conversion and Q8_0 quantization: evaluate
scores it as `gguf_base`, so the base and the fine-tuned model are compared in the same runtime
and precision as the release file, at llama.cpp's speed rather than transformers'.

The greedy check compares whole answers. On `check_rows_per_schema` test rows of every schema
(`check_rows`: stratified, fixed, and among the rows evaluate scores) the merged model answers
greedily, up to `check_max_tokens` tokens, and each GGUF answers the same prompt text with
llama.cpp, both generating as evaluate does (`evaluate.hf_batch_size` prompts of similar length
per transformers batch, `evaluate.gguf_parallel` sequences per llama.cpp step), so the check
judges the answers evaluate will score. quantize.json holds one object per type: `exact_agreement`
(share of answers identical to the merged model's), `prefix_agreement` (mean share of each
merged answer's characters the GGUF reproduces from its start), `json_exact` against the
expected output (and `merged`'s `json_exact`), and `json_exact_diff` (the GGUF minus the merged
model on the same rows) with its paired p-value `json_exact_diff_p`, each figure with `_n` and a
seeded 95% bootstrap interval over rows, `_ci95` (`stages.core.stats`, with evaluate's
`bootstrap_samples` and `bootstrap_seed`), plus `n`, `size_mb` and `gated`.

Gate (stages/core/gate.py, the rule every task's quantize stage shares): every gated file (f16,
Q8_0 and `q4_type`) must reach a mean prefix agreement of `min_agreement`, a floor a broken file
cannot reach (a wrong tokenizer, template or tensor agrees on next to nothing; an honest
conversion only flips near-ties, and a quantized file may take another branch at one, key order
say). f16 and Q8_0, which only round, also fail when their json_exact is below the merged
model's by more than `max_drop` and a paired test (McNemar) calls the drop significant. The
4-bit file is gated on the floor only: what 4 bits cost in quality is a finding to report, not a
broken file. The `check_types` files are reported, not gated (their `gated` is 0): they exist so
a user who picks the smallest file sees what it costs.
"""

from __future__ import annotations

import gc
import hashlib
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core.catalog import entry_of
from stages.core.errors import SLMBenchError
from stages.core.gate import CheckRows, GateRule, prefix_share  # noqa: F401 (prefix_share: tests import it from here)
from stages.core.params import QuantizeParams
from stages.core.records import atomic_dir

# the conversion (tests and benchmarks import these names from here too)
from stages.inference.gguf_convert import FTYPES, converter, gguf_name, quantize_file, to_f16  # noqa: F401
from stages.tasks.edgejson.model_entry import NAME, TITLE, recipe  # noqa: F401 (the interface's lookup of a model)

BASE_GGUF = "base-q8_0.gguf"  # the untuned base in Q8_0, evaluate's gguf_base


def check_rows(rows: list[dict[str, Any]], per_schema: int) -> list[dict[str, Any]]:
    """`per_schema` rows of every schema, in the order of `rows`: within a schema, the rows whose
    ids have the smallest SHA-256. Stratified, fixed for a test file, and the rows evaluate's
    `select_rows` picks for the same count, so the check's rows are among those every variant
    is scored on (tests/model/test_quantize_check.py holds the two to it)."""
    by_schema: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_schema.setdefault(str(row["schema_id"]), []).append(i)
    keep = [i for ix in by_schema.values() for i in sorted(ix, key=lambda i: (hashlib.sha256(str(rows[i]["id"]).encode("utf-8")).hexdigest(), i))[:per_schema]]
    return [rows[i] for i in sorted(keep)]


@dataclass(frozen=True)
class Agreement:
    """One GGUF type's answers on the check rows, against the merged model's."""

    name: str  # f16, q8_0, q4_k_m, ...
    path: Path
    gated: bool
    exact: list[float]  # per row: 1.0 when the whole answer equals the merged model's
    prefix: list[float]  # per row: prefix_share(merged answer, this answer)
    json_exact: list[float]  # per row: the answer against the expected output
    texts: list[str]


def _json_exact(texts: list[str], rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[float]:
    from stages.tasks.edgejson.scoring import json_exact, parse_prediction

    return [json_exact(parse_prediction(t), r["expected_output"], entry_of(r, catalog)) for t, r in zip(texts, rows, strict=True)]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


Rows = list[dict[str, Any]]


def greedy_answers(
    merged: Path, ggufs: dict[str, Path], rows: Rows, catalog: dict[str, Any], cfg: QuantizeParams, hf_batch: int = 1, parallel: int = 1, n_ctx: int = 2048
) -> tuple[list[str], dict[str, list[str]]]:
    """(merged model's answers, each GGUF's answers) on `rows`, greedy, whole answers up to
    `check_max_tokens`, generated as the evaluate stage generates: transformers in left-padded
    batches of `hf_batch` prompts of similar length, llama.cpp with `parallel` sequences per decode
    step (`GGUFRunner.generate_parallel`), `n_ctx` tokens of context each."""
    from stages.inference.gguf import GGUFRunner
    from stages.inference.hf import HFRunner, render_prompts

    start = time.perf_counter()
    hf = HFRunner(merged, cfg.threads)
    prompts = render_prompts(hf.tok, rows, catalog)
    # Prompts of similar length share a batch, so a batch pads little; the answers go back to row order.
    lengths = [len(ids) for ids in hf.tok(prompts, add_special_tokens=False)["input_ids"]]
    order = sorted(range(len(prompts)), key=lambda i: (lengths[i], i))
    ref = [""] * len(prompts)
    for i, g in zip(order, hf.generate([prompts[i] for i in order], cfg.check_max_tokens, batch_size=hf_batch), strict=True):
        ref[i] = g.text
    del hf
    gc.collect()
    seconds = {"merged": time.perf_counter() - start}
    got: dict[str, list[str]] = {}
    for name, path in ggufs.items():
        start = time.perf_counter()
        runner = GGUFRunner(path, cfg.threads, n_ctx=n_ctx)
        texts = [""] * len(prompts)
        for j, _, g in runner.generate_parallel(prompts, [[None]] * len(prompts), cfg.check_max_tokens, parallel):
            texts[j] = g.text
        got[name] = texts
        del runner
        gc.collect()
        seconds[name] = time.perf_counter() - start
    # Wall times go to the log, not to quantize.json, which stays byte-identical for the same inputs.
    print(f"quantize: greedy check on {len(rows)} rows, seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()), file=sys.stderr, flush=True)
    return ref, got


def compare(ref: list[str], got: dict[str, list[str]], ggufs: dict[str, Path], gated: set[str], rows: Rows, catalog: dict[str, Any]) -> list[Agreement]:
    return [
        Agreement(
            name,
            ggufs[name],
            name in gated,
            [float(a.strip() == b.strip()) for a, b in zip(ref, texts, strict=True)],
            [prefix_share(a, b) for a, b in zip(ref, texts, strict=True)],
            _json_exact(texts, rows, catalog),
            texts,
        )
        for name, texts in got.items()
    ]


QUALITY_GATED = ("f16", "q8_0")  # types that only round: gated on a significant json_exact drop too


def check_rows_of(a: Agreement, ref: list[str], rows: Rows, merged_json_exact: list[float]) -> CheckRows:
    return CheckRows(f"{a.path.name} ({a.name})", [str(r["id"]) for r in rows], merged_json_exact, a.json_exact, a.prefix, ref, a.texts)


def gate(agreements: list[Agreement], ref: list[str], rows: Rows, merged_json_exact: list[float], cfg: QuantizeParams, samples: int, seed: int) -> None:
    """Every gated type must clear the floor `min_agreement`; f16 and Q8_0 must also show no
    significant json_exact drop beyond `max_drop` (stages.core.gate)."""
    from stages.core.gate import check, figures

    for a in agreements:
        if not a.gated:
            continue
        rows_a = check_rows_of(a, ref, rows, merged_json_exact)
        rule = GateRule(cfg.min_agreement, cfg.max_drop if a.name in QUALITY_GATED else None, "quantize")
        check(rows_a, rule, figures(rows_a, samples, seed))


def summarize(agreements: list[Agreement], merged_json_exact: list[float], sizes: dict[str, float], samples: int, seed: int) -> dict[str, Any]:
    """quantize.json, nested per type: `{<type>: {<figure>: .., <figure>_ci95: [lo, hi], <figure>_n: .., n, size_mb, gated}}`
    (the one metrics layout, docs/design.md; stats.bootstrap_intervals: one seeded set of row
    resamples, so every interval covers the same resampled rows), and `json_exact_diff_p`."""
    from stages.core.stats import DIGITS, bootstrap_intervals, paired_test

    out: dict[str, dict[str, Any]] = {name: {"size_mb": round(mb, 2)} for name, mb in sizes.items()}

    def put(head: str, figures: dict[str, list[float]]) -> None:
        group = out.setdefault(head, {})
        n = len(next(iter(figures.values())))
        group["n"] = n
        columns = list(figures.values())
        table = [list(row) for row in zip(*columns, strict=True)]
        for (figure, values), (low, high) in zip(figures.items(), bootstrap_intervals(table, samples, seed), strict=True):
            group[figure] = round(_mean(values), DIGITS)
            group[f"{figure}_ci95"] = [low, high]
            group[f"{figure}_n"] = n

    if agreements:
        put("merged", {"json_exact": merged_json_exact})
    for a in agreements:
        out.setdefault(a.name, {})["gated"] = int(a.gated)
        diff = [g - r for g, r in zip(a.json_exact, merged_json_exact, strict=True)]
        put(a.name, {"exact_agreement": a.exact, "prefix_agreement": a.prefix, "json_exact": a.json_exact, "json_exact_diff": diff})
        out[a.name]["json_exact_diff_p"] = paired_test(merged_json_exact, a.json_exact, samples, seed)["p_value"]
    return out


def run(
    merged: Path,
    out_dir: Path,
    rows: Rows,
    catalog: dict[str, Any],
    cfg: QuantizeParams,
    bootstrap_samples: int,
    bootstrap_seed: int,
    hf_batch: int = 1,
    parallel: int = 1,
    n_ctx: int = 2048,
    base: Path | None = None,
) -> dict[str, Any]:
    """Make the GGUF files in `out_dir` (atomically), run the greedy check on the test `rows`, and
    return quantize.json's figures. A failed check leaves the previous `out_dir` as it was.
    `hf_batch`, `parallel` and `n_ctx`: how the check generates (`greedy_answers`). `base`: also
    write BASE_GGUF, the base checkpoint in Q8_0."""
    q4 = cfg.q4_type.upper()
    extra = [t.upper() for t in cfg.check_types if t.upper() not in ("Q8_0", q4)]
    types = ["Q8_0", q4, *dict.fromkeys(extra)]
    sample = check_rows(rows, cfg.check_rows_per_schema)
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as staging:
        # The temporary f16 file sits in the staging folder: a killed run leaves it where the next run's atomic_dir clears it.
        scratch = staging / "f16"
        scratch.mkdir()
        f16 = scratch / gguf_name("f16")
        to_f16(Path(merged), f16)
        files = {t.lower(): staging / gguf_name(t) for t in types}
        for t in types:
            quantize_file(f16, files[t.lower()], t, cfg.threads)
        ggufs = {"f16": f16, **files}
        sizes = {name: path.stat().st_size / 1e6 for name, path in ggufs.items()}
        if base is not None:
            base_f16 = scratch / "base-f16.gguf"
            to_f16(Path(base), base_f16)
            quantize_file(base_f16, staging / BASE_GGUF, "Q8_0", cfg.threads)
            base_f16.unlink()
            sizes["base_q8_0"] = (staging / BASE_GGUF).stat().st_size / 1e6
        agreements: list[Agreement] = []
        merged_json_exact: list[float] = []
        if sample:
            ref, got = greedy_answers(Path(merged), ggufs, sample, catalog, cfg, hf_batch, parallel, n_ctx)
            gated = {"f16", "q8_0", q4.lower()}
            agreements = compare(ref, got, ggufs, gated, sample, catalog)
            merged_json_exact = _json_exact(ref, sample, catalog)
            gate(agreements, ref, sample, merged_json_exact, cfg, bootstrap_samples, bootstrap_seed)
        shutil.rmtree(scratch)
    return summarize(agreements, merged_json_exact, sizes, bootstrap_samples, bootstrap_seed)


def main(model: str, params_path: Path, merged: Path, test_file: Path, out_dir: Path, metrics: Path, base: Path | None = None) -> dict[str, Any]:
    from stages.core import params as P
    from stages.core.catalog import load_catalog
    from stages.core.records import read_rows, write_json
    from stages.inference.prompt import check_safetensors_dir

    p = P.load(params_path)
    if model not in p.models:
        raise SLMBenchError(f"params.yaml: no model {model!r} under models")
    check_safetensors_dir(Path(merged))
    if "gguf_base" not in p.evaluate.variants:
        base = None  # only the gguf_base variant reads the base's GGUF: not made unless it is scored
    if base is not None:
        check_safetensors_dir(Path(base))
    catalog = load_catalog(Path(p.schemas_dir))
    # The check generates as evaluate does (its batch, parallelism and context) and draws its intervals as evaluate does.
    ev = (p.evaluate.bootstrap_samples, p.evaluate.bootstrap_seed, p.evaluate.hf_batch_size, p.evaluate.gguf_parallel, p.evaluate.n_ctx)
    result = run(Path(merged), out_dir, read_rows(test_file), catalog, p.quantize, *ev, base=base)
    write_json(metrics, result)
    return result


def quantize(name: str, params_path: Path, merged: Path, test_file: Path, out_dir: Path, metrics: Path, base: Path | None) -> dict[str, Any]:
    """The part the generic stage calls: `main` for the model `name`."""
    return main(name, params_path, merged, test_file, out_dir, metrics, base)
