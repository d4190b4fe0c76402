"""`slmbench evaluate-release --model smollm2-135m-lora ...` (the stage) and
`slmbench evaluate --model PATH --data FILE.jsonl --schemas DIR` (any model, any EdgeJSON file).

Every variant runs in its own spawned process: a crash in llama.cpp (its schema-constrained
decoding has segfaulted once on this stack) costs one row, scored as a failure, and the run
resumes at the next row. Peak RSS is per process, so it is per variant.

Variants: hf_base (the untuned base, transformers), hf_tuned (the merged model, transformers),
gguf_q8_0 and gguf_q4 (llama.cpp). Decodings: free, and constrained: llama.cpp's JSON-schema
grammar for GGUF, llguidance's for transformers, with `uniqueItems` enforced around either (see
stages/runtime.py).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from stages.catalog import SchemaEntry
from stages.errors import SLMBenchError
from stages.scoring import aggregate, higher_is_better, score_row

MAX_RESTARTS = 5


def _exit_with(parent: int) -> None:
    """Watchdog thread of a worker: end it when its parent is gone (a killed stage leaves no orphan)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker(kind: str, path: str, prompts: list[str], schemas: list[Any], start: int, max_new: int, threads: int, n_ctx: int, batch: int, out_file: str) -> None:
    from stages.runtime import GGUFRunner, HFRunner

    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()

    with open(out_file, "a", encoding="utf-8") as fh:
        if kind == "hf":
            runner = HFRunner(Path(path), threads)
            for i0 in range(start, len(prompts), batch):
                gens = runner.generate(prompts[i0 : i0 + batch], max_new, batch, schemas[i0 : i0 + batch])
                for j, g in enumerate(gens):
                    fh.write(json.dumps({"i": i0 + j, "text": g.text, "tokens": g.tokens, "seconds": g.seconds, "finish": g.finish}) + "\n")
                fh.flush()
        else:
            runner = GGUFRunner(Path(path), threads, n_ctx)
            for i in range(start, len(prompts)):
                g = runner.generate_one(prompts[i], max_new, schemas[i])
                fh.write(json.dumps({"i": i, "text": g.text, "tokens": g.tokens, "seconds": g.seconds, "finish": g.finish}) + "\n")
                fh.flush()
        fh.write(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "size_mb": runner.size_mb}) + "\n")


def generate_isolated(kind: str, path: Path, prompts: list[str], schemas: list[Any], max_new: int, threads: int, n_ctx: int, batch: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Generations for every prompt, in a child process; a crashed row becomes an error row."""
    ctx = mp.get_context("spawn")
    done: dict[int, dict[str, Any]] = {}
    info: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="eval-") as tmp:
        out_file = Path(tmp) / "gen.jsonl"
        start, restarts = 0, 0
        while start < len(prompts):
            proc = ctx.Process(target=_worker, args=(kind, str(path), prompts, schemas, start, max_new, threads, n_ctx, batch, str(out_file)))
            proc.start()
            proc.join()
            for line in out_file.read_text(encoding="utf-8").splitlines() if out_file.exists() else []:
                rec = json.loads(line)
                if "i" in rec:
                    done[rec["i"]] = rec
                else:
                    info = {"rss_mb": max(info.get("rss_mb", 0.0), rec["rss_mb"]), "size_mb": rec["size_mb"]}
            missing = [i for i in range(len(prompts)) if i not in done]
            if proc.exitcode == 0 or not missing:
                break
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise SLMBenchError(f"{path}: generation crashed {restarts} times (exit code {proc.exitcode}); giving up")
            done[missing[0]] = {"i": missing[0], "text": "", "tokens": 0, "seconds": 0.0, "finish": "error"}
            start = missing[0] + 1
    info["crashes"] = float(restarts)
    return [done[i] for i in range(len(prompts))], info


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def score_variant(rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], gens: list[dict[str, Any]], info: dict[str, float]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    scored, preds = [], []
    for row, g in zip(rows, gens):
        entry = catalog.get(row["schema_id"])
        s = score_row(g["text"], row["expected_output"], entry)
        tier = row.get("complexity") or (entry.tier if entry else None)
        scored.append({"schema_id": row["schema_id"], "tier": tier, **s})
        preds.append({"id": row["id"], "schema_id": row["schema_id"], "prediction": g["text"], "finish": g["finish"], "tokens": g["tokens"], **s})
    agg = aggregate(scored)
    secs = [g["seconds"] for g in gens if g["finish"] != "error"]
    toks = sum(g["tokens"] for g in gens)
    agg.update(
        {
            "latency_ms_p50": round(1000 * _percentile(secs, 0.5), 2),
            "latency_ms_p95": round(1000 * _percentile(secs, 0.95), 2),
            "tokens_per_s": round(toks / sum(secs), 2) if sum(secs) > 0 else 0.0,
            "peak_rss_mb": round(info.get("rss_mb", 0.0), 1),
            "size_mb": round(info.get("size_mb", 0.0), 2),
            "finish_length_rate": round(sum(g["finish"] == "length" for g in gens) / max(1, len(gens)), 6),
            "crashes": int(info.get("crashes", 0)),
        }
    )
    return agg, preds


def evaluate_model(model: Path, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], constrained: bool, max_new: int, threads: int, n_ctx: int, batch: int, enforce_formats: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score one model (an HF directory or a .gguf) on rows; the CLI and the stage both use this."""
    from transformers import AutoTokenizer

    from stages.models import check_safetensors_dir
    from stages.runtime import render_prompts, render_prompts_gguf

    model = Path(model)
    missing = sorted({r["schema_id"] for r in rows if r["schema_id"] not in catalog})
    if missing:
        raise SLMBenchError(f"no schema for {len(missing)} schema_id(s) in the data: {', '.join(missing[:5])}")
    if model.suffix == ".gguf":
        kind = "gguf"
        prompts = render_prompts_gguf(model, rows, catalog)
    else:
        check_safetensors_dir(model)
        kind = "hf"
        prompts = render_prompts(AutoTokenizer.from_pretrained(model), rows, catalog)
    schemas = [constraint_schema(kind, catalog[r["schema_id"]].schema, enforce_formats) if constrained else None for r in rows]
    order = length_order(prompts) if kind == "hf" else list(range(len(rows)))
    gens, info = generate_isolated(kind, model, [prompts[i] for i in order], [schemas[i] for i in order], max_new, threads, n_ctx, batch)
    at = {i: k for k, i in enumerate(order)}
    return score_variant(rows, catalog, [gens[at[i]] for i in range(len(rows))], info)


def length_order(prompts: list[str]) -> list[int]:
    """Row indices by prompt length (input only). HF batches run until their longest row ends,
    so in this order a batch holds rows of like length; callers put results back in row order."""
    return sorted(range(len(prompts)), key=lambda i: len(prompts[i]))


def constraint_schema(kind: str, schema: dict[str, Any], enforce_formats: bool) -> dict[str, Any]:
    """The schema a runtime's grammar is built from. llama.cpp's builder needs `grammar_schema`'s
    rewrites; llguidance takes the schema itself (its formats, patterns and number bounds
    included), or with `enforce_formats` off, the schema without formats and patterns."""
    from stages.runtime import grammar_schema

    return grammar_schema(schema, enforce_formats) if kind == "gguf" or not enforce_formats else schema


def select_rows(rows: list[dict[str, Any]], per_schema: int) -> list[dict[str, Any]]:
    """The first `per_schema` rows of each schema in id order (all rows when 0)."""
    if per_schema <= 0:
        return rows
    out, seen = [], {}
    for r in sorted(rows, key=lambda r: str(r["id"])):
        n = seen.get(r["schema_id"], 0)
        if n < per_schema:
            out.append(r)
            seen[r["schema_id"]] = n + 1
    return out


def flatten(variant: str, decoding: str, agg: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """(eval.json keys, eval_by_schema.json keys): `<variant>.<decoding>.<metric>` and tiers/schemas below."""
    head = f"{variant}.{decoding}"
    flat = {f"{head}.{k}": v for k, v in agg.items() if not isinstance(v, dict)}
    for tier, vals in agg["by_tier"].items():
        flat.update({f"{head}.tier_{tier}.{k}": v for k, v in vals.items()})
    by_schema = {f"{head}.{sid}.{k}": v for sid, vals in agg["by_schema"].items() for k, v in vals.items()}
    return flat, by_schema


def run_release(model: str, base_dir: Path, merged: Path, gguf_dir: Path, rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], cfg: Any) -> tuple[dict[str, float], dict[str, float], list[dict[str, Any]]]:
    paths: dict[str, tuple[Path, tuple[str, ...]]] = {
        "hf_base": (base_dir, ("free", "constrained")),
        "hf_tuned": (merged, ("free", "constrained")),
        "gguf_q8_0": (Path(gguf_dir) / "model-q8_0.gguf", ("free", "constrained")),
    }
    if "gguf_q4" in cfg.variants:
        q4 = sorted(p for p in Path(gguf_dir).glob("model-q4*.gguf"))
        if not q4:
            raise SLMBenchError(f"{gguf_dir}: no model-q4*.gguf; rerun the quantize stage")
        paths["gguf_q4"] = (q4[0], ("free", "constrained"))
    variants = [(v, *paths[v]) for v in cfg.variants]
    flat: dict[str, float] = {}
    by_schema: dict[str, float] = {}
    preds: list[dict[str, Any]] = []
    for variant, path, decodings in variants:
        for decoding in decodings:
            agg, p = evaluate_model(path, rows, catalog, decoding == "constrained", cfg.max_new_tokens, cfg.threads, cfg.n_ctx, cfg.hf_batch_size, cfg.enforce_formats)
            f, s = flatten(variant, decoding, agg)
            flat.update(f)
            by_schema.update(s)
            preds.extend({"variant": variant, "decoding": decoding, **r} for r in p)
            print(f"evaluate {model} {variant}/{decoding}: json_exact {agg['json_exact']:.3f} field_f1 {agg['field_f1']:.3f} schema_valid {agg['schema_valid']:.3f}", flush=True)
    return flat, by_schema, preds


def main(model: str, params_path: Path, test_file: Path, base_dir: Path, merged: Path, gguf_dir: Path, out: Path, by_schema_out: Path, predictions: Path) -> dict[str, float]:
    from stages import params as P
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json, write_rows

    p = P.load(params_path)
    if model not in p.models:
        raise SLMBenchError(f"params.yaml: no model {model!r} under models")
    rows = [r for r in read_rows(test_file) if r.get("complexity") in p.evaluate.tiers]
    rows = select_rows(rows, p.evaluate.rows_per_schema)
    rows = rows[: p.evaluate.max_rows] if p.evaluate.max_rows > 0 else rows
    flat, by_schema, preds = run_release(model, base_dir, merged, gguf_dir, rows, load_catalog(Path(p.schemas_dir)), p.evaluate)
    write_rows(predictions, preds)
    write_json(by_schema_out, by_schema)
    write_json(out, flat)
    return flat


def main_any(model: Path, data: Path, schemas: Path, constrained: bool, limit: int, out: Path, max_new_tokens: int, threads: int, enforce_formats: bool = True) -> dict[str, Any]:
    from stages.catalog import load_catalog
    from stages.records import read_rows, write_json

    rows = read_rows(data)
    rows = rows[:limit] if limit > 0 else rows
    catalog = load_catalog(schemas)
    agg, _ = evaluate_model(model, rows, catalog, constrained, max_new_tokens, threads, 2048, 8, enforce_formats)
    agg["higher_is_better"] = higher_is_better()
    write_json(out, agg)
    return agg
