"""A language model that answers function-call rows (EdgeFuncCall, BFCL): greedy, free or
constrained by each row's answer schema (stages/inference/tool_calls.py).

    lm = CallLM(Path("models/funccall/mlm/gguf/model-q8_0.gguf"), threads=2)
    lm.answer(chats, schemas)  ->  {decoding: [Generation, ...]}

`path` is a GGUF file (llama.cpp: many rows per decode step through ParallelDecoder, each row's
grammar built from its own schema; a row's free and constrained answers share one sequence until
their tokens part) or an HF model directory (transformers, left-padded batches; llguidance masks
per row). Prompts are the chat template of the model's own tokenizer, rendered from the messages
the task builds (stages/tasks/funccall/prompt.py). Decodings: "free" and "constrained".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.inference.generation import Generation
from stages.inference.label_lm import model_kind

Messages = list[dict[str, str]]
DECODINGS = ("free", "constrained")


class CallLM:
    def __init__(self, path: Path, threads: int, parallel: int = 8, batch_size: int = 8, n_ctx: int = 2048, max_new_tokens: int = 192):
        self.path = Path(path)
        self.kind = model_kind(self.path)
        self.threads, self.parallel, self.batch_size, self.n_ctx, self.max_new_tokens = threads, parallel, batch_size, n_ctx, max_new_tokens
        if self.kind == "gguf":
            from stages.inference.gguf import GGUFRunner, chat_formatter

            self.runner: Any = GGUFRunner(self.path, threads, n_ctx)
            self._format = chat_formatter(self.runner.llm, self.path)
        else:
            from stages.inference.hf import HFRunner

            self.runner = HFRunner(self.path, threads)

    def render(self, chats: Sequence[Messages]) -> list[str]:
        if self.kind == "gguf":
            return [self._format(messages=m).prompt for m in chats]
        return [self.runner.tok.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in chats]

    def constraint(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema this runtime builds its grammar from (formats and patterns enforced)."""
        if self.kind == "gguf":
            from stages.inference.grammar import constraint
        else:
            from stages.inference.hf import constraint
        return constraint(schema, True)

    def answer(self, chats: Sequence[Messages], schemas: Sequence[dict[str, Any]], decodings: Sequence[str] = DECODINGS) -> dict[str, list[Generation]]:
        """Each decoding's greedy answer to every chat; `schemas[i]` is chat i's answer schema."""
        unknown = [d for d in decodings if d not in DECODINGS]
        if unknown:
            raise SLMBenchError(f"unknown decoding {unknown[0]!r}; expected one of {', '.join(DECODINGS)}")
        if len(chats) != len(schemas):
            raise SLMBenchError(f"{len(chats)} chats but {len(schemas)} answer schemas")
        prompts = self.render(chats)
        grammars = [[self.constraint(s) if d == "constrained" else None for d in decodings] for s in schemas]
        out: dict[str, list[Generation]] = {d: [Generation("", 0, 0.0, "error")] * len(prompts) for d in decodings}
        if not prompts:
            return out
        if self.kind == "gguf":
            # Prompts in text order, so rows offered the same tools first sit next to each other and
            # share the KV cache of that prefix (ParallelDecoder reuses the last prompt's); each
            # answer goes back to its row.
            order = sorted(range(len(prompts)), key=lambda i: (prompts[i], i))
            parallel = max(1, min(self.parallel, len(prompts)))
            for j, k, g in self.runner.generate_parallel([prompts[i] for i in order], [grammars[i] for i in order], self.max_new_tokens, parallel):
                out[decodings[k]][order[j]] = g
            return out
        for k, d in enumerate(decodings):
            out[d] = self.runner.generate(prompts, self.max_new_tokens, self.batch_size, [g[k] for g in grammars])
        return out

    @property
    def files(self) -> list[Path]:
        if self.kind == "gguf":
            return [self.path]
        return sorted(p for p in self.path.iterdir() if p.is_file())

    @property
    def size_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in self.files)
