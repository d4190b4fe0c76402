"""The vLLM teacher on a GPU machine with the regular CUDA `vllm` wheel: the same code path.

Runs stages/inference/teacher_vllm.py (the worker the generate stage uses) through VLLMBackend with this
interpreter, on a model directory, and checks what the CPU tests check: every request answered,
per-request seeds repeatable across two engines, and the five-level pass rates of real
paraphrases of v3 rows. Prints throughput.

    pip install vllm          # CUDA build, in an environment of its own (see .ci/teacher.sh)
    python benchmarks/gpu_teacher_check.py --model /path/to/SmolLM2-135M-Instruct [--rows 64] [--tp 1]

Exit code 0 when every check passes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.core import params as P  # noqa: E402
from stages.core.catalog import load_catalog  # noqa: E402
from stages.inference.teacher import VLLMBackend, derived_seed, request_prompt, stable_unit  # noqa: E402
from stages.tasks.edgejson.checks import LEVELS, five_levels, prompt_text  # noqa: E402
from stages.tasks.edgejson.generate import run as generate_rows  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="an HF model directory (or a hub id where the hub is reachable)")
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--tp", type=int, default=1, help="tensor_parallel_size")
    ap.add_argument("--dtype", default="bfloat16")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: this check is for a GPU machine", file=sys.stderr)
        return 2
    p = P.load(ROOT / "params.yaml")
    recipe, t = p.datasets["v3"], p.teacher
    catalog = load_catalog(ROOT / p.schemas_dir)
    rows = sorted(generate_rows("v3", recipe, catalog, progress=False), key=lambda r: stable_unit("gpu", r["id"]))[: args.rows]
    prompts = [request_prompt(prompt_text(r["prompt"]), t.registers[i % len(t.registers)]) for i, r in enumerate(rows)]
    samplings = [{"temperature": t.temperature, "top_p": t.top_p, "max_tokens": t.max_tokens, "seed": derived_seed(t.seed, r["id"], 0)} for r in rows]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        b = VLLMBackend("gpu", args.model, Path(tmp), sys.executable, args.dtype, 2048, args.tp, 4, 3600)
        start = time.perf_counter()
        res = b.generate(prompts, samplings)
        wall = time.perf_counter() - start
        answered = sum(1 for r in res if r.text)
        tokens = sum(r.tokens for r in res)
        print(f"{torch.cuda.get_device_name(0)}: {len(rows)} rows in {wall:.1f} s incl. engine start, {len(rows) / wall:.2f} rows/s, {tokens / wall:.0f} tok/s, answered {answered}")
        ok &= answered == len(rows)
        again = b.generate(prompts[:4], samplings[:4])  # a smaller batch: same-seed text should repeat (bf16 may differ by batch)
        same = sum(1 for x, y in zip(again, res[:4]) if x.text == y.text)
        print(f"seeded repeat in another engine and batch: {same}/4 identical ({args.dtype})")
        cands = [dict(r, prompt=r["prompt"].split("\n\n", 1)[0] + "\n\n" + (x.text or "").strip(), source="teacher") for r, x in zip(rows, res)]
        levels = five_levels(cands, catalog, (recipe.prompt_chars[0], recipe.prompt_chars[1]))
        print("pass rate per level: " + "  ".join(f"{lvl} {sum(1 for f in levels if lvl not in f) / len(levels):.2f}" for lvl in LEVELS)
              + f"  all five {sum(1 for f in levels if not f) / len(levels):.2f}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
