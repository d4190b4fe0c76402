"""`slmbench task-evaluate --task edgejson --name smollm2-135m-lora --evaluation release ...` (the stage) and
`slmbench evaluate --model PATH --data FILE.jsonl --schemas DIR` (any model, any EdgeJSON file).

Which rows: the release variant (`evaluate.release_variant`, gguf_q8_0) is scored on every test
row, free and constrained. The other variants are scored on a stratified subset of
`evaluate.rows_per_schema` rows per schema (0: every row), the same rows for all of them and a
subset of the release variant's rows, so any two variants can be compared row by row
(`slmbench compare`). The subset is chosen by the SHA-256 of each row's id, within each schema:
deterministic, and independent of the file's order and of how the rows were generated.

Every quality figure comes with its n and a 95% bootstrap interval over rows (stages/core/stats.py);
per-row scores go to the predictions file.

Every variant runs in its own spawned process: a crash in llama.cpp (its schema-constrained
decoding has segfaulted once on this stack) costs one row, scored as a failure, and the run
resumes. A worker that crashes while decoding several sequences at once is restarted to decode
one at a time, so the crash lands on one row. Peak RSS is that worker's own high-water mark
(VmHWM), so it is per variant.

Variants: gguf_base (the untuned base in Q8_0, llama.cpp), hf_base (the untuned base,
transformers), hf_tuned (the merged model, transformers), gguf_q8_0 and gguf_q4 (llama.cpp). Decodings: free, and constrained: llama.cpp's JSON-schema
grammar for GGUF, llguidance's for transformers, with `uniqueItems` enforced around either (see
stages/inference/hf.py, gguf.py). A GGUF variant decodes both of a row's decodings from one evaluation of its
prompt, `evaluate.gguf_parallel` sequences per llama.cpp step (stages/inference/gguf_parallel.py).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from stages.core.catalog import SchemaEntry, entry_of
from stages.core.errors import SLMBenchError
from stages.core.memory import peak_rss_mb
from stages.tasks.edgejson.scoring import METRICS, aggregate, higher_is_better, score_row

MAX_RESTARTS = 5
DECODINGS = ("free", "constrained")


# ---------------------------------------------------------------------------------------------
# generation in a worker process


def _exit_with(parent: int) -> None:
    """Watchdog thread of a worker: end it when its parent is gone (a killed stage leaves no orphan)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker(
    kind: str,
    path: str,
    prompts: list[str],
    schemas: list[list[Any]],
    todo: list[tuple[int, int]],
    max_new: int,
    threads: int,
    n_ctx: int,
    batch: int,
    parallel: int,
    out_file: str,
) -> None:
    """Generate each (prompt, decoding) in `todo`; one JSON line per result, appended as it is done.

    Lines: {"i", "k", "text", "tokens", "seconds", "finish"} per result; {"fatal": message} when
    the model does not load; last, {"rss_mb", "size_mb"}."""
    from stages.inference.gguf import GGUFRunner
    from stages.inference.hf import HFRunner

    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()

    def emit(fh: Any, rec: dict[str, Any]) -> None:
        fh.write(json.dumps(rec) + "\n")
        fh.flush()

    with open(out_file, "a", encoding="utf-8") as fh:
        try:
            runner: Any = HFRunner(Path(path), threads) if kind == "hf" else GGUFRunner(Path(path), threads, n_ctx)
        except SLMBenchError as exc:
            emit(fh, {"fatal": str(exc)})
            return
        except Exception as exc:  # a model that passed the checks but does not load: its own words, one line
            emit(fh, {"fatal": f"{path}: cannot load the model: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"})
            return
        if kind == "hf":
            # A prompt that leaves no room to answer in `n_ctx` tokens fails as it does in llama.cpp.
            idx = sorted({i for i, _ in todo})
            encoded = runner.tok([prompts[i] for i in idx], add_special_tokens=False)["input_ids"]
            lengths = {i: len(ids) for i, ids in zip(idx, encoded, strict=True)}
            for i, k in todo:
                if lengths[i] >= n_ctx:
                    emit(fh, {"i": i, "k": k, "text": "", "tokens": 0, "seconds": 0.0, "finish": "prompt_exceeds_context"})
            todo = [(i, k) for i, k in todo if lengths[i] < n_ctx]
            for k in sorted({k for _, k in todo}):
                rows = [i for i, kk in todo if kk == k]
                for i0 in range(0, len(rows), batch):
                    ids = rows[i0 : i0 + batch]
                    gens = runner.generate([prompts[i] for i in ids], max_new, batch, [schemas[i][k] for i in ids])
                    for i, g in zip(ids, gens, strict=True):
                        emit(fh, {"i": i, "k": k, "text": g.text, "tokens": g.tokens, "seconds": g.seconds, "finish": g.finish})
        else:
            if parallel > 1:  # a row's decodings share its prompt evaluation
                jobs: dict[int, list[int]] = {}
                for i, k in todo:
                    jobs.setdefault(i, []).append(k)
                groups = list(jobs.items())
            else:  # one sequence at a time: a crash names its row
                groups = [(i, [k]) for i, k in todo]
            for j, kk, g in runner.generate_parallel(
                [prompts[i] for i, _ in groups], [[schemas[i][k] for k in ks] for i, ks in groups], max_new, max(parallel, 1)
            ):
                i, k = groups[j][0], groups[j][1][kk]
                emit(fh, {"i": i, "k": k, "text": g.text, "tokens": g.tokens, "seconds": g.seconds, "finish": g.finish})
        emit(fh, {"rss_mb": peak_rss_mb(), "size_mb": runner.size_mb})


def generate_jobs(
    kind: str, path: Path, prompts: list[str], schemas: list[list[Any]], max_new: int, threads: int, n_ctx: int, batch: int, parallel: int = 1
) -> tuple[dict[tuple[int, int], dict[str, Any]], dict[str, float]]:
    """Every prompt i decoded once per entry k of schemas[i] (None: free), in child processes.

    Returns {(i, k): generation} and {"rss_mb", "size_mb", "crashes"}. After a crash,
    the rest runs one sequence (HF: one row) at a time; a crash then costs that one (i, k),
    recorded as an error row."""
    ctx = mp.get_context("spawn")
    done: dict[tuple[int, int], dict[str, Any]] = {}
    info: dict[str, float] = {"rss_mb": 0.0, "size_mb": 0.0}
    want = [(i, k) for i in range(len(prompts)) for k in range(len(schemas[i]))]
    # the order the worker runs them in, so that after a crash the first one missing is the one that
    # crashed: HF one decoding after the other; llama.cpp by prompt text, so rows of a schema are
    # neighbours and share their system prompt's KV cache (stages/inference/gguf_parallel.py)
    want.sort(key=(lambda ik: (ik[1], ik[0])) if kind == "hf" else (lambda ik: (prompts[ik[0]], ik[0], ik[1])))
    lost, restarts = 0, 0
    with tempfile.TemporaryDirectory(prefix="eval-") as tmp:
        out_file = Path(tmp) / "gen.jsonl"
        todo = want
        while todo:
            out_file.unlink(missing_ok=True)
            proc = ctx.Process(target=_worker, args=(kind, str(path), prompts, schemas, todo, max_new, threads, n_ctx, batch, parallel, str(out_file)))
            proc.start()
            proc.join()
            for line in out_file.read_text(encoding="utf-8").splitlines() if out_file.exists() else []:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by the crash
                    continue
                if "fatal" in rec:
                    raise SLMBenchError(rec["fatal"])
                if "i" in rec:
                    done[(rec["i"], rec["k"])] = rec
                elif "rss_mb" in rec:
                    info.update(rss_mb=max(info["rss_mb"], rec["rss_mb"]), size_mb=rec["size_mb"])
            todo = [ik for ik in want if ik not in done]
            if not todo:
                break
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise SLMBenchError(f"{path}: generation crashed {restarts} times (exit code {proc.exitcode}); giving up")
            if parallel > 1 or batch > 1:
                parallel, batch = 1, 1  # rerun what was in flight one at a time, to find the row that crashes
            else:
                done[todo[0]] = {"i": todo[0][0], "k": todo[0][1], "text": "", "tokens": 0, "seconds": 0.0, "finish": "error", "crash": True}
                lost += 1
                todo = todo[1:]
    info.update(crashes=float(lost))
    return done, info


def generate_isolated(
    kind: str, path: Path, prompts: list[str], schemas: list[Any], max_new: int, threads: int, n_ctx: int, batch: int
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """One generation per prompt (schemas[i]: its schema, or None for free decoding), in a child process."""
    done, info = generate_jobs(kind, path, prompts, [[s] for s in schemas], max_new, threads, n_ctx, batch, 1)
    return [done[(i, 0)] for i in range(len(prompts))], info


# ---------------------------------------------------------------------------------------------
# scoring


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def with_intervals(agg: dict[str, Any], scored: list[dict[str, Any]], samples: int, seed: int) -> dict[str, Any]:
    """`agg` (from stages.tasks.edgejson.scoring.aggregate) with `<metric>_ci95: [lo, hi]` and `<metric>_n`
    for every metric, overall, per tier and per schema: a seeded bootstrap over the rows of each
    group (the one metrics layout, docs/design.md)."""
    from stages.core.stats import bootstrap_intervals

    names = list(METRICS)

    def add(target: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        for name, (lo, hi) in zip(names, bootstrap_intervals([[r[m] for m in names] for r in rows], samples, seed), strict=True):
            target[f"{name}_ci95"], target[f"{name}_n"] = [lo, hi], len(rows)

    add(agg, scored)
    for tier, vals in agg["by_tier"].items():
        add(vals, [r for r in scored if r.get("tier") == tier])
    for sid, vals in agg["by_schema"].items():
        add(vals, [r for r in scored if r["schema_id"] == sid])
    return agg


def score_variant(
    rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], gens: list[dict[str, Any]], info: dict[str, float], samples: int = 1000, seed: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    scored, preds = [], []
    for row, g in zip(rows, gens, strict=True):
        entry = entry_of(row, catalog)
        s = score_row(g["text"], row["expected_output"], entry)
        tier = row.get("complexity") or (entry.tier if entry else None)
        scored.append({"schema_id": row["schema_id"], "tier": tier, **s})
        preds.append({"id": row["id"], "schema_id": row["schema_id"], "tier": tier, "prediction": g["text"], "finish": g["finish"], "tokens": g["tokens"], **s})
    agg = with_intervals(aggregate(scored), scored, samples, seed)
    secs = [g["seconds"] for g in gens if g["finish"] not in ("error", "prompt_exceeds_context")]
    toks = sum(g["tokens"] for g in gens)
    agg.update(
        {
            "latency_ms_p50": round(1000 * _percentile(secs, 0.5), 2),
            "latency_ms_p95": round(1000 * _percentile(secs, 0.95), 2),
            "tokens_per_s": round(toks / sum(secs), 2) if sum(secs) > 0 else 0.0,
            "peak_rss_mb": round(info.get("rss_mb", 0.0), 1),
            "size_mb": round(info.get("size_mb", 0.0), 2),
            "finish_length_rate": round(sum(g["finish"] == "length" for g in gens) / max(1, len(gens)), 6),
            # answers the repetition guard ended (stages/inference/loops.py): they would have run to the cap
            "finish_repeat_rate": round(sum(g["finish"] == "repeat" for g in gens) / max(1, len(gens)), 6),
            "crashes": int(info.get("crashes", 0)),
            # rows whose prompt leaves no room to answer in n_ctx tokens: scored as failures
            "prompt_exceeds_context": sum(g["finish"] == "prompt_exceeds_context" for g in gens),
            # sequences decoded together (HF batch, llama.cpp parallel sequences): latency and
            # tokens/s are each row's share of that work, and peak RSS includes their KV caches
            "parallel": int(info.get("parallel", 1)),
        }
    )
    return agg, preds


def check_hf_model(model: Path) -> Any:
    """An HF directory the worker can load: safetensors weights whose headers read, and a
    tokenizer. Returns the tokenizer; a one-line error otherwise."""
    from safetensors import SafetensorError, safe_open
    from transformers import AutoTokenizer

    from stages.inference.prompt import check_safetensors_dir

    check_safetensors_dir(model)
    for f in sorted(model.glob("*.safetensors")):
        try:
            with safe_open(str(f), framework="pt") as fh:
                fh.keys()
        except (SafetensorError, OSError, ValueError) as exc:
            raise SLMBenchError(f"{f}: not a readable safetensors file ({str(exc)[:120]}); truncated or corrupt?") from None
    if not any((model / n).is_file() for n in ("tokenizer.json", "tokenizer.model", "vocab.json")):
        raise SLMBenchError(f"{model}: no tokenizer (expected tokenizer.json, tokenizer.model or vocab.json next to config.json)")
    try:
        return AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise SLMBenchError(f"{model}: no usable tokenizer (expected tokenizer.json or tokenizer_config.json with its files: {first})") from None


def evaluate_variant(
    model: Path,
    rows: list[dict[str, Any]],
    catalog: dict[str, SchemaEntry],
    decodings: tuple[str, ...],
    max_new: int,
    threads: int,
    n_ctx: int,
    batch: int,
    enforce_formats: bool,
    parallel: int = 1,
    samples: int = 1000,
    seed: int = 0,
) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Score one model (an HF directory or a .gguf) on rows, once per decoding: {decoding: (aggregate, predictions)}."""
    from stages.inference.gguf import render_prompts_gguf
    from stages.inference.hf import render_prompts

    model = Path(model)
    missing = sorted({r["schema_id"] for r in rows if r["schema_id"] not in catalog})
    if missing:
        raise SLMBenchError(f"no schema for {len(missing)} schema_id(s) in the data: {', '.join(missing[:5])}")
    if model.suffix == ".gguf":
        kind = "gguf"
        prompts = render_prompts_gguf(model, rows, catalog)
    else:
        kind = "hf"
        prompts = render_prompts(check_hf_model(model), rows, catalog)
    per_row = [[constraint_schema(kind, entry_of(r, catalog, required=True).schema, enforce_formats) if d == "constrained" else None for d in decodings] for r in rows]
    order = length_order(prompts) if kind == "hf" else list(range(len(rows)))
    done, info = generate_jobs(kind, model, [prompts[i] for i in order], [per_row[i] for i in order], max_new, threads, n_ctx, batch, parallel)
    at = {i: o for o, i in enumerate(order)}
    out = {}
    for k, d in enumerate(decodings):
        gens = [done[(at[i], k)] for i in range(len(rows))]
        lost = float(sum(1 for g in gens if g.get("crash")))
        out[d] = score_variant(rows, catalog, gens, dict(info, crashes=lost, parallel=float(parallel if kind == "gguf" else batch)), samples, seed)
    return out


def evaluate_model(
    model: Path,
    rows: list[dict[str, Any]],
    catalog: dict[str, SchemaEntry],
    constrained: bool,
    max_new: int,
    threads: int,
    n_ctx: int,
    batch: int,
    enforce_formats: bool,
    parallel: int = 1,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score one model on rows with one decoding; the CLI and the benchmarks use this."""
    d = "constrained" if constrained else "free"
    return evaluate_variant(model, rows, catalog, (d,), max_new, threads, n_ctx, batch, enforce_formats, parallel)[d]


def length_order(prompts: list[str]) -> list[int]:
    """Row indices by prompt length (input only). HF batches run until their longest row ends,
    so in this order a batch holds rows of like length; callers put results back in row order."""
    return sorted(range(len(prompts)), key=lambda i: len(prompts[i]))


def constraint_schema(kind: str, schema: dict[str, Any], enforce_formats: bool) -> dict[str, Any]:
    """The schema a runner's grammar is built from: each runner translates the task's constraint
    itself (stages/inference/gguf.py, hf.py: `constraint`)."""
    if kind == "gguf":
        from stages.inference.gguf import constraint
    else:
        from stages.inference.hf import constraint
    return constraint(schema, enforce_formats)


# ---------------------------------------------------------------------------------------------
# which rows


def _id_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(str(row["id"]).encode("utf-8")).hexdigest()


def stratified_order(rows: list[dict[str, Any]]) -> list[int]:
    """Row indices, round-robin over schemas (sorted by id): each schema's first row, then each
    one's second, and so on; within a schema, rows in the order of the SHA-256 of their ids. A
    prefix of this order is a stratified sample, and a longer prefix contains a shorter one."""
    by_schema: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_schema.setdefault(str(r["schema_id"]), []).append(i)
    queues = [sorted(ix, key=lambda i: (_id_hash(rows[i]), i)) for _, ix in sorted(by_schema.items())]
    out: list[int] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        out.extend(q[rank] for q in queues if rank < len(q))
    return out


def select_rows(rows: list[dict[str, Any]], per_schema: int, max_rows: int = 0) -> list[dict[str, Any]]:
    """`per_schema` rows of each schema (0: all), at most `max_rows` in all (0: no cap), chosen in
    `stratified_order`; returned in the order of `rows`."""
    order = stratified_order(rows)
    if per_schema > 0:
        n_schemas = len({str(r["schema_id"]) for r in rows})
        # a schema with fewer rows than per_schema drops out of the later rounds, so count by rank
        rank: dict[str, int] = {}
        keep = []
        for i in order:
            sid = str(rows[i]["schema_id"])
            rank[sid] = rank.get(sid, 0) + 1
            if rank[sid] <= per_schema:
                keep.append(i)
        order = keep
        assert len(order) <= per_schema * n_schemas, "stratified selection over-filled"
    if max_rows > 0:
        order = order[:max_rows]
    return [rows[i] for i in sorted(order)]


def plan_rows(rows: list[dict[str, Any]], variants: list[str], release_variant: str, per_schema: int, max_rows: int) -> dict[str, list[dict[str, Any]]]:
    """The rows each variant is scored on: every row for the release variant, the stratified
    subset for the others (every row for all when per_schema is 0); `max_rows` caps each."""
    full = select_rows(rows, 0, max_rows)
    subset = select_rows(rows, per_schema, max_rows)
    return {v: full if v == release_variant else subset for v in variants}


# ---------------------------------------------------------------------------------------------
# the stage and the command


def nest(agg: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(eval.json's object, eval_by_schema.json's object) of one variant and decoding: the figures,
    with one `tier_<tier>` object per tier; and one object per schema."""
    figures = {k: v for k, v in agg.items() if not isinstance(v, dict)}
    figures.update({f"tier_{tier}": dict(vals) for tier, vals in agg["by_tier"].items()})
    return figures, {sid: dict(vals) for sid, vals in agg["by_schema"].items()}


def place(out: dict[str, Any], split: str, variant: str, decoding: str, figures: dict[str, Any]) -> None:
    """`out[variant][decoding]` on test_seen, `out["test_unseen"][variant][decoding]` on test_unseen."""
    target = out.setdefault("test_unseen", {}) if split == "test_unseen" else out
    target.setdefault(variant, {})[decoding] = figures


def model_paths(base_dir: Path, merged: Path, gguf_dir: Path, variants: list[str], q4_type: str = "Q4_K_M") -> dict[str, Path]:
    """The file or folder of each variant; `gguf_q4` is the `quantize.q4_type` file (the folder also
    holds the check-only types, such as Q4_0)."""
    paths = {"hf_base": Path(base_dir), "hf_tuned": Path(merged), "gguf_q8_0": Path(gguf_dir) / "model-q8_0.gguf"}
    if "gguf_base" in variants:
        paths["gguf_base"] = Path(gguf_dir) / "base-q8_0.gguf"
        if not paths["gguf_base"].is_file():
            raise SLMBenchError(f"{gguf_dir}: no base-q8_0.gguf for the gguf_base variant; run the quantize stage with --base")
    if "gguf_q4" in variants:
        q4 = Path(gguf_dir) / f"model-{q4_type.lower()}.gguf"
        if not q4.is_file():
            raise SLMBenchError(f"{gguf_dir}: no {q4.name} (quantize.q4_type {q4_type}); rerun the quantize stage")
        paths["gguf_q4"] = q4
    return {v: paths[v] for v in variants}


def run_release(
    model: str,
    base_dir: Path,
    merged: Path,
    gguf_dir: Path,
    rows: list[dict[str, Any]],
    catalog: dict[str, SchemaEntry],
    cfg: Any,
    unseen: list[dict[str, Any]] | None = None,
    q4_type: str = "Q4_K_M",
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Score every variant on its rows of the test_seen split (`rows`), and the release variant
    also on every row of the test_unseen split (`unseen`, schemas held out of training). Returns
    (eval.json, eval_by_schema.json, predictions): `{<variant>: {<decoding>: figures}}` on
    test_seen and the same under `test_unseen` for test_unseen."""
    paths = model_paths(base_dir, merged, gguf_dir, cfg.variants, q4_type)
    plan = plan_rows(rows, cfg.variants, cfg.release_variant, cfg.rows_per_schema, cfg.max_rows)
    jobs = [(v, path, plan[v], "test_seen") for v, path in paths.items()]
    if unseen and cfg.release_variant in paths:
        jobs.insert(0, (cfg.release_variant, paths[cfg.release_variant], select_rows(unseen, 0, cfg.max_rows), "test_unseen"))
    ev: dict[str, Any] = {}
    by_schema: dict[str, Any] = {}
    preds: list[dict[str, Any]] = []
    for variant, path, job_rows, split in jobs:
        t0 = time.perf_counter()
        results = evaluate_variant(
            path,
            job_rows,
            catalog,
            DECODINGS,
            cfg.max_new_tokens,
            cfg.threads,
            cfg.n_ctx,
            cfg.hf_batch_size,
            cfg.enforce_formats,
            cfg.gguf_parallel,
            cfg.bootstrap_samples,
            cfg.bootstrap_seed,
        )
        for decoding in DECODINGS:
            agg, p = results[decoding]
            f, s = nest(agg)
            place(ev, split, variant, decoding, f)
            place(by_schema, split, variant, decoding, s)
            preds.extend({"variant": variant, "decoding": decoding, "split": split, **r} for r in p)
            print(
                f"evaluate {model} {split} {variant}/{decoding}: n={agg['n']} "
                f"json_exact {agg['json_exact']:.3f} [{agg['json_exact_ci95'][0]:.3f}, {agg['json_exact_ci95'][1]:.3f}] "
                f"field_f1 {agg['field_f1']:.3f} schema_valid {agg['schema_valid']:.3f}",
                flush=True,
            )
        print(
            f"evaluate {model} {split} {variant}: {len(job_rows)} rows x {len(DECODINGS)} decodings in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return ev, by_schema, preds


def main(
    model: str,
    params_path: Path,
    test_file: Path,
    base_dir: Path,
    merged: Path,
    gguf_dir: Path,
    out: Path,
    by_schema_out: Path,
    predictions: Path,
    unseen_file: Path | None = None,
) -> dict[str, Any]:
    from stages.core import params as P
    from stages.core.catalog import load_catalog
    from stages.core.records import read_rows, write_json, write_rows

    p = P.load(params_path)
    if model not in p.models:
        raise SLMBenchError(f"params.yaml: no model {model!r} under models")
    rows = [r for r in read_rows(test_file) if r.get("complexity") in p.evaluate.tiers]
    if not rows:
        raise SLMBenchError(f"{test_file}: no test rows of the tiers {', '.join(p.evaluate.tiers)} (evaluate.tiers)")
    unseen: list[dict[str, Any]] = []
    # test_unseen.jsonl is empty when split.unseen_schemas is 0; a missing file is read_rows' one-line error
    if unseen_file is not None and not (Path(unseen_file).is_file() and Path(unseen_file).stat().st_size == 0):
        unseen = [r for r in read_rows(unseen_file) if r.get("complexity") in p.evaluate.tiers]
    ev, by_schema, preds = run_release(model, base_dir, merged, gguf_dir, rows, load_catalog(Path(p.schemas_dir)), p.evaluate, unseen, p.quantize.q4_type)
    write_rows(predictions, preds)
    write_json(by_schema_out, by_schema)
    write_json(out, ev)
    return ev


def main_any(
    model: Path,
    data: Path,
    schemas: Path,
    constrained: bool,
    limit: int,
    out: Path,
    max_new_tokens: int,
    threads: int,
    enforce_formats: bool = True,
    bootstrap_samples: int = 1000,
    bootstrap_seed: int = 0,
    parallel: int = 1,
    predictions_out: Path | None = None,
) -> dict[str, Any]:
    """`slmbench evaluate`: one decoding of any model on any EdgeJSON file; the figures go to `out`,
    the per-row predictions to `predictions_out` (JSONL) when given."""
    from stages.core.catalog import load_catalog
    from stages.core.records import read_rows, write_json, write_rows

    if limit < 0:
        raise SLMBenchError(f"--limit: expected 0 (every row) or a positive row count, got {limit}")
    for name, value, least in (
        ("--max-new-tokens", max_new_tokens, 1),
        ("--threads", threads, 1),
        ("--bootstrap-samples", bootstrap_samples, 1),
        ("--parallel", parallel, 1),
    ):
        if value < least:
            raise SLMBenchError(f"{name}: expected an integer >= {least}, got {value}")
    data = Path(data)
    if data.is_dir():
        raise SLMBenchError(f"{data}: is a directory; expected a JSONL file, one JSON object per line")
    rows = read_rows(data)
    rows = rows[:limit] if limit > 0 else rows
    catalog = load_catalog(schemas)
    d = "constrained" if constrained else "free"
    agg, preds = evaluate_variant(model, rows, catalog, (d,), max_new_tokens, threads, 2048, 8, enforce_formats, parallel, bootstrap_samples, bootstrap_seed)[d]
    agg["higher_is_better"] = higher_is_better()
    if predictions_out is not None:
        write_rows(Path(predictions_out), preds)
    write_json(out, agg)
    return agg
