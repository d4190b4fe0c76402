"""python benchmarks/bench_funccall.py [--rows 100] [--name edgefunccall] [--samples 1000] [--out benchmarks/results/bench_funccall.json]

EdgeFuncCall's targets side by side from one run, on this machine (run `dvc repro
funccall_mlm_quantize@edgefunccall` first):

- generation: the dataset's recipe generated here (stages/tasks/funccall/generate_stage.py), rows/s;
- the tuned MLM (the stage's Q8_0 GGUF, models/funccall/<name>/mlm/gguf) and the untuned base
  (`funccall.mlm.base`, converted here to a Q8_0 GGUF the same way: stages/inference/gguf_convert.py),
  each on our test split and on BFCL's simple (Python), multiple and irrelevance categories, free
  and constrained: every figure of stages/tasks/funccall/metrics.py with its n and 95% interval,
  generated tokens/s and rows/s (stages/tasks/funccall/evaluation.py; llama.cpp, `funccall.mlm.threads`
  threads, `funccall.mlm.parallel` sequences per step).

Each row set is the first `--rows` rows of a shuffle seeded with `funccall.mlm.seed`
(stages/tasks/funccall/rows.py: first_of_shuffle; 0: every row), the same rows for both models
and both decodings, so base against tuned and free against constrained are paired. BFCL's rows
come from the funccall_bfcl stage's files (data/funccall/<name>/bfcl/). Writes the results with
the command, date, git commit and CPU to --out, and prints a table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETS = ("edgefunccall", "bfcl_simple_python", "bfcl_multiple", "bfcl_irrelevance")
TARGETS = {  # issue targets, AST accuracy of the tuned model, constrained
    "edgefunccall": 0.90,
    "bfcl_simple_python": 0.60,
    "bfcl_multiple": 0.75,
    "bfcl_irrelevance": 0.70,
}


def generation_speed(name: str, params: Any, work: Path) -> dict[str, Any]:
    from stages.core import params as P
    from stages.tasks.funccall.generate_stage import main as generate

    d = P.funccall_data(params, name)
    start = time.perf_counter()
    m = generate(
        ROOT / d.tools_dir, work / "generated.jsonl", work / "generate.json", seed=d.seed, rows=d.rows, test_fraction=d.test_fraction,
        none_share=d.none_share, parallel_share=d.parallel_share, distractors=(d.distractors[0], d.distractors[1]), similar_share=d.similar_share,
        surfaces=d.surfaces,
    )  # fmt: skip
    return {"rows": m["rows"], "rows_per_s": m["rows_per_s"], "generation_seconds": m["generation_seconds"], "wall_s_with_writing": round(time.perf_counter() - start, 3)}


def base_gguf(params: Any, work: Path) -> Path:
    """The untuned base as a Q8_0 GGUF, converted as the quantize stage converts the tuned model."""
    from stages.core import params as P
    from stages.inference.gguf_convert import quantize_file, to_f16

    cfg = P.funccall_mlm(params)
    src = ROOT / "models" / "base" / cfg.base
    if not (src / "config.json").is_file():
        raise SystemExit(f"{src}: not built; run `dvc repro base_model@{cfg.base}` first")
    f16, out = work / "base-f16.gguf", work / "base-q8_0.gguf"
    to_f16(src, f16)
    quantize_file(f16, out, "Q8_0", cfg.threads)
    f16.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100, help="rows per row set, the first of a seeded shuffle (0: every row)")
    ap.add_argument("--name", default="edgefunccall", help="the funccall dataset, a key of funccall.datasets")
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples per interval")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_funccall.json")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_model import provenance

    from stages.core import params as P
    from stages.core.records import write_json
    from stages.tasks.funccall.evaluation import evaluate_calls
    from stages.tasks.funccall.rows import first_of_shuffle, read_call_rows

    params = P.load(ROOT / "params.yaml")
    cfg = P.funccall_mlm(params)
    data = ROOT / "data" / "funccall" / args.name
    tuned = ROOT / "models" / "funccall" / args.name / "mlm" / "gguf" / f"model-{cfg.qtype.lower()}.gguf"
    for need in (data / "test.jsonl", data / "bfcl", tuned):
        if not need.exists():
            raise SystemExit(f"{need}: not built; run `dvc repro funccall_mlm_quantize@{args.name}` first")
    files = {"edgefunccall": data / "test.jsonl", **{s: data / "bfcl" / f"{s}.jsonl" for s in SETS[1:]}}
    sets = {s: first_of_shuffle(read_call_rows(f), args.rows, cfg.seed) for s, f in files.items()}
    result: dict[str, Any] = {
        **provenance("bench_funccall.py"),
        "rows_per_set": {s: len(r) for s, r in sets.items()},
        "threads": cfg.threads,
        "parallel": cfg.parallel,
        "targets_constrained_ast_accuracy": TARGETS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result["generation"] = generation_speed(args.name, params, work)
        models = {"tuned": tuned, "base": base_gguf(params, work)}
        for model, path in models.items():
            result[model] = {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else f"{cfg.base} (Q8_0, converted here)"}
            for s, rows in sets.items():
                start = time.perf_counter()
                r = evaluate_calls(
                    path, rows, ["free", "constrained"], samples=args.samples, seed=params.funccall.bootstrap_seed, threads=cfg.threads,
                    parallel=cfg.parallel, n_ctx=cfg.n_ctx, max_new_tokens=cfg.max_new_tokens, max_calls=cfg.max_calls,
                )  # fmt: skip
                wall = time.perf_counter() - start
                r["rows_per_s"] = round(len(rows) / wall, 3)
                result[model][s] = r
                c, f = r["constrained"], r["free"]
                print(f"{model:5} {s:19} n={c['n']:4} ast free {f['ast_accuracy']:.3f} constrained {c['ast_accuracy']:.3f} {c['ast_accuracy_ci95']} tok/s {c['tokens_per_s']}", flush=True)
    result["cpu"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.out, result)
    print(f"\ngeneration: {result['generation']['rows_per_s']} rows/s (target 2000)")
    print("| rows | model | free AST | constrained AST | target | constrained tokens/s |")
    print("|---|---|---|---|---|---|")
    for s in SETS:
        for model in ("base", "tuned"):
            c, f = result[model][s]["constrained"], result[model][s]["free"]
            print(f"| {s} (n={c['n']}) | {model} | {f['ast_accuracy']:.3f} | {c['ast_accuracy']:.3f} [{c['ast_accuracy_ci95'][0]:.3f}, {c['ast_accuracy_ci95'][1]:.3f}] | {TARGETS[s] if model == 'tuned' else 'reported'} | {c['tokens_per_s']} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
