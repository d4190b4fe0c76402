"""python benchmarks/bench_hf_dtype.py [--model smollm2-135m-lora] [--dtypes float32 bfloat16]

HF generate on the evaluate stage's rows (free decoding, its batch size, rows in its length
order), once per dtype, in one process and one run: seconds, tokens/s, json_exact, and how many
greedy answers each dtype shares with the first. Why the evaluate stage keeps HF in fp32.
Needs a finished `dvc repro` (models/<model>/merged and data/<release>/test.jsonl).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-lora")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = ap.parse_args()

    import torch

    from stages.core import params as P
    from stages.core.catalog import load_catalog
    from stages.core.records import read_rows
    from stages.inference.hf import HFRunner, render_prompts
    from stages.tasks.edgejson.evaluation import length_order, select_rows
    from stages.tasks.edgejson.scoring import score_row

    p = P.load(args.params)
    ev = p.evaluate
    catalog = load_catalog(Path(p.schemas_dir))
    rows = select_rows(read_rows(Path("data") / p.release.dataset / "test.jsonl"), ev.rows_per_schema)
    runner = HFRunner(Path("models") / args.model / "merged", ev.threads)
    prompts = render_prompts(runner.tok, rows, catalog)
    order = length_order(prompts)
    prompts, rows = [prompts[i] for i in order], [rows[i] for i in order]
    first: list[str] | None = None
    print(f"HF generate, {len(rows)} rows, batch {ev.hf_batch_size}, {ev.threads} threads, free decoding")
    for name in args.dtypes:
        runner.model.to(getattr(torch, name))
        start = time.perf_counter()
        gens = runner.generate(prompts, ev.max_new_tokens, ev.hf_batch_size)
        secs = time.perf_counter() - start
        texts = [g.text for g in gens]
        tokens = sum(g.tokens for g in gens)
        exact = sum(score_row(t, r["expected_output"], catalog[r["schema_id"]])["json_exact"] for t, r in zip(texts, rows)) / len(rows)
        first = first or texts
        same = sum(a == b for a, b in zip(first, texts))
        print(f"  {name:9s} {secs:7.1f} s  {tokens / secs:7.1f} tok/s  json_exact {exact:.2f}  answers as {args.dtypes[0]}: {same}/{len(rows)}")


if __name__ == "__main__":
    main()
