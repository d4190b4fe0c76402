"""The llama.cpp (GGUF) runner: greedy, optionally constrained by a GBNF grammar
(stages/inference/grammar.py), one prompt at a time or many sequences per decode step
(stages/inference/gguf_parallel.py). Prompts are rendered with the chat template embedded in the
GGUF (`render_prompts_gguf`), the same text the HF runner gets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stages.core.catalog import entry_of
from stages.core.errors import SLMBenchError
from stages.inference.generation import STOP, Generation
from stages.inference.grammar import constraint, json_grammar
from stages.inference.prompt import chat_messages
from stages.inference.unique_items import UniqueItemsGuard, first_duplicate, has_unique

__all__ = ["GGUFRunner", "check_gguf", "constraint", "render_prompts_gguf"]

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise SLMBenchError(f"{path}: GGUF file not found")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != GGUF_MAGIC:
        raise SLMBenchError(f"{path}: not a GGUF file (bad magic {head!r})")


def chat_formatter(llm: Any, path: Path) -> Any:
    """The chat template embedded in a loaded GGUF (`path`, for the error), as a formatter of messages."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise SLMBenchError(f"{path}: the GGUF carries no chat template (tokenizer.chat_template)")
    return Jinja2ChatFormatter(template=template, eos_token=STOP, bos_token="")


def render_prompts_gguf(path: Path, rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[str]:
    """Prompts rendered with the chat template embedded in the GGUF itself (same template as HF's)."""
    from llama_cpp import Llama

    check_gguf(path)
    try:
        llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise SLMBenchError(f"{path}: llama.cpp cannot load it ({str(exc)[:120]}); truncated or corrupt GGUF?") from None
    fmt = chat_formatter(llm, path)
    prompts = []
    for row in rows:
        entry = entry_of(row, catalog, required=True)
        prompts.append(fmt(messages=chat_messages(row["prompt"], row["schema_id"], entry.schema)).prompt)
    return prompts


class GGUFRunner:
    def __init__(self, path: Path, threads: int, n_ctx: int, unique_items: bool = True):
        check_gguf(path)
        self.unique_items = unique_items
        self.n_ctx, self.threads = n_ctx, threads
        self._vocab: list[tuple[int, str]] | None = None
        self._decoder: Any = None  # a ParallelDecoder, made on first use
        from llama_cpp import Llama

        try:
            # flash attention, as ParallelDecoder's context: faster batched decoding here (docs/models.md)
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, seed=0, flash_attn=True, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise SLMBenchError(f"{path}: llama.cpp cannot load it ({str(exc)[:120]}); truncated or corrupt GGUF?") from None
        self.size_mb = os.path.getsize(path) / 1e6

    def vocab(self) -> list[tuple[int, str]]:
        """Every token's text (tokens that are not whole UTF-8 on their own are left out)."""
        if self._vocab is None:
            self._vocab = []
            for t in range(self.llm.n_vocab()):
                try:
                    self._vocab.append((t, self.llm.detokenize([t]).decode("utf-8")))
                except UnicodeDecodeError:
                    continue
        return self._vocab

    def generate_parallel(
        self, prompts: list[str], schemas: list[list[dict[str, Any] | None]], max_new_tokens: int, parallel: int, share: bool = True
    ) -> Iterator[tuple[int, int, Generation]]:
        """Greedy generations of every prompt once per entry of its `schemas` (None: free), up to
        `parallel` sequences per llama.cpp decode step (stages/inference/gguf_parallel.py); yields
        (prompt index, schema index, Generation) as each finishes. A prompt's decodings share one
        sequence until their tokens part (`share`, see ParallelDecoder.run). A constrained answer that
        repeats a `uniqueItems` item gets its second pass alone, as in `generate_one`."""
        from stages.inference.gguf_parallel import ParallelDecoder

        bos = [self.llm.token_bos()] if self.llm._model.add_bos_token() and self.llm.token_bos() >= 0 else []
        jobs = [
            (bos + self.llm.tokenize(p.encode("utf-8"), add_bos=False, special=True), [None if s is None else json_grammar(s) for s in ss])
            for p, ss in zip(prompts, schemas, strict=True)
        ]
        # each sequence's KV cache holds the longest prompt and a whole answer, within n_ctx (the
        # cache is allocated for every slot, so this keeps the worker's memory to what it needs)
        n_ctx = min(self.n_ctx, max((len(t) for t, _ in jobs), default=0) + max_new_tokens)
        if self._decoder is None or (self._decoder.parallel, self._decoder.n_ctx) != (parallel, n_ctx):
            if self._decoder is not None:
                self._decoder.close()
            self._decoder = ParallelDecoder(self.llm, parallel, n_ctx, self.threads)
        for j, k, text, tokens, seconds, finish in self._decoder.run(jobs, max_new_tokens, STOP, share):
            g = Generation(text, tokens, seconds, finish)
            schema = schemas[j][k]
            cut = first_duplicate(text, schema) if schema is not None and self.unique_items and finish != "error" and has_unique(schema) else None
            if cut is not None:
                forced = self.llm.tokenize(text[:cut].encode("utf-8"), add_bos=False, special=False)
                second = self._complete(prompts[j], max_new_tokens, schema, UniqueItemsGuard(self.vocab(), self.llm.detokenize, schema, forced))
                second.seconds += g.seconds
                g = second
            yield j, k, g

    def generate_one(self, prompt: str, max_new_tokens: int, schema: dict[str, Any] | None = None) -> Generation:
        """Greedy; with a schema, grammar-constrained. A constrained answer that repeats an item
        of a `uniqueItems` array is generated again from just before the repeat
        (`UniqueItemsGuard`); its time counts both passes."""
        first = self._complete(prompt, max_new_tokens, schema, None)
        if schema is None or not self.unique_items or not has_unique(schema):
            return first
        cut = first_duplicate(first.text, schema)
        if cut is None:
            return first
        forced = self.llm.tokenize(first.text[:cut].encode("utf-8"), add_bos=False, special=False)
        second = self._complete(prompt, max_new_tokens, schema, UniqueItemsGuard(self.vocab(), self.llm.detokenize, schema, forced))
        second.seconds += first.seconds
        return second

    def _complete(self, prompt: str, max_new_tokens: int, schema: dict[str, Any] | None, guard: UniqueItemsGuard | None) -> Generation:
        from llama_cpp import LlamaGrammar, LogitsProcessorList, StoppingCriteriaList

        from stages.inference.loops import looping

        grammar = LlamaGrammar.from_string(json_grammar(schema), verbose=False) if schema is not None else None
        n_prompt = len(self.llm.tokenize(prompt.encode("utf-8"), special=True))  # as create_completion tokenizes it
        looped: list[bool] = []

        def loop_stop(input_ids: Any, logits: Any) -> bool:  # the repetition guard (stages/inference/loops.py)
            if looping(input_ids[n_prompt:].tolist()):
                looped.append(True)
                return True
            return False

        if n_prompt >= self.llm.n_ctx():  # no room to answer: a failed row, not a crash
            return Generation("", 0, 0.0, "prompt_exceeds_context")
        t0 = time.perf_counter()
        res = self.llm.create_completion(
            prompt, max_tokens=max_new_tokens, temperature=0.0, top_k=1, stop=[STOP], grammar=grammar,
            logits_processor=LogitsProcessorList([guard]) if guard else None, stopping_criteria=StoppingCriteriaList([loop_stop]), seed=0,
        )  # fmt: skip
        dt = time.perf_counter() - t0
        choice = res["choices"][0]
        finish = "repeat" if looped else str(choice.get("finish_reason") or "stop")
        return Generation(choice["text"], int(res["usage"]["completion_tokens"]), dt, finish)
