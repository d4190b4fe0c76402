"""Generation runtimes shared by quantize (its greedy check) and evaluate.

* `HFRunner`: transformers generate on a safetensors directory, greedy, left-padded batches.
* `GGUFRunner`: llama.cpp through llama-cpp-python, greedy, optionally constrained by the
  JSON Schema turned into a llama.cpp grammar.
Both take the same prompt text: the tokenizer's chat template rendered once, so the two
runtimes see identical tokens.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.errors import SLMBenchError
from stages.models import chat_messages, check_safetensors_dir

STOP = "<|im_end|>"
GGUF_MAGIC = b"GGUF"


@dataclass
class Generation:
    text: str
    tokens: int  # generated tokens
    seconds: float  # wall time attributed to this row
    finish: str  # "stop", "length" or "error"


def render_prompts(tok: Any, rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[str]:
    prompts = []
    for row in rows:
        entry = catalog.get(row["schema_id"])
        if entry is None:
            raise SLMBenchError(f"row {row.get('id')}: no schema {row['schema_id']!r} in the schema directory")
        prompts.append(tok.apply_chat_template(chat_messages(row["prompt"], row["schema_id"], entry.schema), add_generation_prompt=True, tokenize=False))
    return prompts


def render_prompts_gguf(path: Path, rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[str]:
    """Prompts rendered with the chat template embedded in the GGUF itself (same template as HF's)."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    check_gguf(path)
    try:
        llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise SLMBenchError(f"{path}: llama.cpp cannot load it ({str(exc)[:120]}); truncated or corrupt GGUF?") from None
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise SLMBenchError(f"{path}: the GGUF carries no chat template (tokenizer.chat_template)")
    fmt = Jinja2ChatFormatter(template=template, eos_token=STOP, bos_token="")
    prompts = []
    for row in rows:
        entry = catalog.get(row["schema_id"])
        if entry is None:
            raise SLMBenchError(f"row {row.get('id')}: no schema {row['schema_id']!r} in the schema directory")
        prompts.append(fmt(messages=chat_messages(row["prompt"], row["schema_id"], entry.schema)).prompt)
    return prompts


GRAMMAR_FORMATS = ("date", "time", "date-time", "uuid")  # the string formats llama.cpp's grammar builder implements
# Formats it lacks, as patterns that pass jsonschema's format checkers.
FORMAT_PATTERNS = {
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}$",
    "ipv4": r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$",
}
MAX_INT_ENUM = 101  # an integer range with at most this many values becomes an enum (the builder ignores bounds)


def grammar_pattern(pattern: str) -> str:
    """A regex rewritten for llama.cpp's grammar builder. The builder copies an escaped literal
    such as `\\.` or `\\/` into a GBNF string, where the GBNF parser rejects the escape (and
    llama.cpp 0.3.36 then crashes at the first sampled token). Outside a character class such an
    escape becomes a one-character class (`[.]`); inside one it loses the backslash (except `\\-`, a range dash). Escapes the
    builder handles itself (quantifiers, brackets, `|`) are kept."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in ".-/:,;!@#%&='<>~`_ " and not (in_class and nxt == "-"):
                out.append(nxt if in_class else f"[{nxt}]")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def grammar_schema(schema: dict[str, Any], enforce_formats: bool) -> dict[str, Any]:
    """The schema a grammar is built from. Structure and types always. With `enforce_formats`,
    also `pattern`s, the `format`s llama.cpp implements (date, time, date-time, uuid), `email` and
    `ipv4` as patterns, and integer ranges of at most MAX_INT_ENUM values as enums; without it,
    these are scored but not forced. Number bounds and `uniqueItems` have no grammar form.
    Annotations are dropped."""

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if k.startswith("x-") or k in ("$id", "$schema"):
                continue
            if k == "format" and not (enforce_formats and v in GRAMMAR_FORMATS):
                if enforce_formats and v in FORMAT_PATTERNS and "pattern" not in node:
                    out["pattern"] = FORMAT_PATTERNS[v]
                continue
            if k == "pattern" and isinstance(v, str):
                if enforce_formats:
                    out[k] = grammar_pattern(v)
                continue
            if k in ("properties", "patternProperties", "$defs", "definitions") and isinstance(v, dict):
                out[k] = {name: strip(sub) for name, sub in v.items()}  # names here are data, not keywords
            else:
                out[k] = v if k in ("enum", "const", "required", "default", "examples") else strip(v)
        lo, hi = node.get("minimum"), node.get("maximum")
        if enforce_formats and node.get("type") == "integer" and "enum" not in node and isinstance(lo, int) and isinstance(hi, int) and 0 < hi - lo + 1 <= MAX_INT_ENUM:
            out["enum"] = list(range(lo, hi + 1))
        return out

    return strip(copy.deepcopy(schema))


class HFRunner:
    def __init__(self, model_dir: Path, threads: int):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_safetensors_dir(model_dir)
        torch.set_num_threads(threads)
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.tok.padding_side = "left"
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, use_safetensors=True).eval()
        self.size_mb = sum(p.stat().st_size for p in Path(model_dir).glob("*.safetensors")) / 1e6

    def generate(self, prompts: list[str], max_new_tokens: int, batch_size: int) -> list[Generation]:
        import torch

        out: list[Generation] = []
        eos = self.tok.eos_token_id
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            enc = self.tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
            t0 = time.perf_counter()
            with torch.inference_mode():
                gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos, pad_token_id=self.tok.pad_token_id)
            dt = time.perf_counter() - t0
            new = gen[:, enc["input_ids"].shape[1] :]
            for seq in new.tolist():
                n = len(seq)
                stopped = eos in seq
                if stopped:
                    n = seq.index(eos)
                text = self.tok.decode(seq[:n], skip_special_tokens=True)
                # A batch's time is shared by its rows in proportion to their tokens; see README.
                out.append(Generation(text, n + int(stopped), 0.0, "stop" if stopped else "length"))
            total = sum(g.tokens for g in out[-len(batch) :]) or 1
            for g in out[-len(batch) :]:
                g.seconds = dt * g.tokens / total
        return out


def check_gguf(path: Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise SLMBenchError(f"{path}: GGUF file not found")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != GGUF_MAGIC:
        raise SLMBenchError(f"{path}: not a GGUF file (bad magic {head!r})")


class GGUFRunner:
    def __init__(self, path: Path, threads: int, n_ctx: int):
        check_gguf(path)
        from llama_cpp import Llama

        try:
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, seed=0, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise SLMBenchError(f"{path}: llama.cpp cannot load it ({str(exc)[:120]}); truncated or corrupt GGUF?") from None
        self.size_mb = os.path.getsize(path) / 1e6

    def generate_one(self, prompt: str, max_new_tokens: int, schema: dict[str, Any] | None = None) -> Generation:
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False) if schema is not None else None
        t0 = time.perf_counter()
        res = self.llm.create_completion(prompt, max_tokens=max_new_tokens, temperature=0.0, top_k=1, stop=[STOP], grammar=grammar, seed=0)
        dt = time.perf_counter() - t0
        choice = res["choices"][0]
        return Generation(choice["text"], int(res["usage"]["completion_tokens"]), dt, str(choice.get("finish_reason") or "stop"))
