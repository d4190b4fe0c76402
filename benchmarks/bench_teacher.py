"""Teacher throughput, side by side in one run: in-process vLLM vs an OpenAI-compatible server.

Both backends get the same paraphrase requests (the same v3 rows, registers and seeds) and the
same sampling; the answers go through the five-level validator. Prints rows/s, new tokens/s and
the pass rate per level for each. No cache: every request is a real call.

    python benchmarks/bench_teacher.py --rows 24 [--max-tokens 192]

Needs `.venv-teacher` (bash .ci/teacher.sh) for vLLM and llama-cpp-python[server] for the
server (llama.cpp's OpenAI-compatible server on the embedded GGUF, started on 127.0.0.1 and
stopped by PID). The two runtimes differ in weights too: vLLM runs the fp32 checkpoint
converted from the embedded GGUF, the server runs that Q4_1 GGUF itself.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stages.core import params as P  # noqa: E402
from stages.core.catalog import load_catalog  # noqa: E402
from stages.inference.teacher import OpenAIBackend, VLLMBackend, derived_seed, request_prompt, stable_unit  # noqa: E402
from stages.tasks.edgejson.checks import LEVELS, five_levels, prompt_text  # noqa: E402
from stages.tasks.edgejson.generate import run as generate_rows  # noqa: E402


def start_server(gguf: Path, threads: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                             "--n_threads", str(threads), "--model_alias", "teacher"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("llama.cpp server did not start")


def score(name: str, rows: list[dict], results: list, seconds: float, catalog: dict, bounds: tuple[int, int]) -> None:
    cands = []
    for r, res in zip(rows, results):
        if res.text is not None:
            cands.append(dict(r, prompt=r["prompt"].split("\n\n", 1)[0] + "\n\n" + res.text.strip(), source="teacher"))
    levels = five_levels(cands, catalog, bounds)
    tokens = sum(x.tokens for x in results)
    n = max(1, len(cands))
    rates = "  ".join(f"{lvl.split('_')[0]} {sum(1 for f in levels if lvl not in f) / n:.2f}" for lvl in LEVELS)
    print(f"{name:<28} {len(rows) / seconds:6.2f} rows/s  {tokens / seconds:7.1f} tok/s  {seconds:6.1f} s  answered {len(cands)}/{len(rows)}  "
          f"all five {sum(1 for f in levels if not f) / n:.2f}  | {rates}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    p = P.load(ROOT / "params.yaml")
    recipe = p.datasets["v3"]
    catalog = load_catalog(ROOT / p.schemas_dir)
    rows = generate_rows("v3", recipe, catalog, progress=False)
    rows = sorted(rows, key=lambda r: stable_unit("bench", r["id"]))[: args.rows]
    t = p.teacher
    registers = [t.registers[int(stable_unit(recipe.seed, "register", r["id"]) * len(t.registers))] for r in rows]
    prompts = [request_prompt(prompt_text(r["prompt"]), reg) for r, reg in zip(rows, registers)]
    samplings = [{"temperature": t.temperature, "top_p": t.top_p, "max_tokens": args.max_tokens, "seed": derived_seed(t.seed, r["id"], 0)} for r in rows]
    bounds = (recipe.prompt_chars[0], recipe.prompt_chars[1])
    print(f"{len(rows)} v3 rows, max_tokens {args.max_tokens}, temperature {t.temperature}, top_p {t.top_p}, {os.cpu_count()} CPUs")

    from stages.inference.prompt import embedded_gguf
    from stages.train.base_model import run as convert

    with tempfile.TemporaryDirectory() as tmp:
        model = convert("embedded:smollm2-135m-instruct", Path(tmp) / "smollm2")
        for dtype in ("float32", "bfloat16"):
            b = VLLMBackend("bench", str(model), Path(tmp), t.vllm.python, dtype, t.vllm.max_model_len, 1, t.vllm.kv_cache_gib, 3600)
            start = time.perf_counter()
            res = b.generate(prompts, samplings)
            score(f"vllm in-process ({dtype})", rows, res, time.perf_counter() - start, catalog, bounds)
        proc, url = start_server(embedded_gguf("smollm2-135m-instruct"), args.threads)
        try:
            for conc in (1, 4):
                b2 = OpenAIBackend("bench", "teacher", url, "", False, conc, 600, 0, 0)
                start = time.perf_counter()
                res = b2.generate(prompts, samplings)
                score(f"llama.cpp server (conc {conc})", rows, res, time.perf_counter() - start, catalog, bounds)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
    print("vllm figures include its engine start (a few seconds) in each run: the stage pays it once per generate.")


if __name__ == "__main__":
    main()
