"""A language model that answers with one label of a fixed set: EdgeIntent's MLM.

    lm = LabelLM(Path("models/intent/banking77/mlm/model-q8_0.gguf"), labels, threads=2)
    lm.predict([messages, ...])  ->  ["card_arrival", ...]

`path` is a GGUF file (llama.cpp: greedy, constrained by a GBNF alternation of the labels, many
queries per decode step through stages/inference/gguf_parallel.py) or an HF model directory
(transformers: greedy, left-padded batches, constrained by llguidance's Lark alternation). Either
way the answer is one of `labels` or, when a decoding is cut off, "" (never a label). Prompts are
the chat template of the model's own tokenizer (the GGUF's embedded template, or the directory's),
rendered from the messages the caller builds (stages/tasks/intent/prompt.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.inference.generation import STOP
from stages.inference.gguf import check_gguf
from stages.inference.labels import gbnf_alternation, lark_alternation

Messages = list[dict[str, str]]


def model_kind(path: Path) -> str:
    """"gguf" for a GGUF file, "hf" for a transformers directory; one line for anything else."""
    path = Path(path)
    if path.is_dir():
        if (path / "config.json").is_file():
            return "hf"
        raise SLMBenchError(f"{path}: a directory without config.json; expected a GGUF file or an HF model directory")
    check_gguf(path)
    return "gguf"


class LabelLM:
    def __init__(self, path: Path, labels: Sequence[str], threads: int, parallel: int = 16, batch_size: int = 16, n_ctx: int = 512):
        self.path, self.labels = Path(path), sorted(set(labels))
        self.kind = model_kind(self.path)
        self.threads, self.parallel, self.batch_size, self.n_ctx = threads, parallel, batch_size, n_ctx
        self.max_new_tokens = max(len(lab) for lab in self.labels) + 1  # a label can take no more tokens than characters
        self._decoder: Any = None
        if self.kind == "gguf":
            self._init_gguf()
        else:
            self._init_hf()

    @property
    def files(self) -> list[Path]:
        """The files the model is deployed as: the GGUF, or the directory's weights, config and tokenizer."""
        if self.kind == "gguf":
            return [self.path]
        return sorted(p for p in self.path.iterdir() if p.is_file())

    def _init_gguf(self) -> None:
        from stages.inference.gguf import GGUFRunner, chat_formatter

        self.llm = GGUFRunner(self.path, self.threads, self.n_ctx).llm  # the same load (and one-line errors) as EdgeJSON's runner
        self._format = chat_formatter(self.llm, self.path)
        self.grammar = gbnf_alternation(self.labels)
        bos = self.llm.token_bos()
        self._bos = [bos] if self.llm._model.add_bos_token() and bos >= 0 else []

    def _init_hf(self) -> None:
        from stages.inference.hf import HFRunner

        self.runner = HFRunner(self.path, self.threads)
        self.grammar = lark_alternation(self.labels)

    def render(self, chats: Sequence[Messages]) -> list[str]:
        if self.kind == "gguf":
            return [self._format(messages=m).prompt for m in chats]
        return [self.runner.tok.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in chats]

    def predict(self, chats: Sequence[Messages]) -> list[str]:
        """One label per chat ("" where a decoding was cut off before a label was complete)."""
        prompts = self.render(chats)
        if self.kind == "hf":
            gens = self.runner.generate_lark(prompts, self.grammar, self.max_new_tokens, self.batch_size)
            return [self._label(g.text, g.finish) for g in gens]
        from stages.inference.gguf_parallel import ParallelDecoder

        jobs = [(self._bos + self.llm.tokenize(p.encode("utf-8"), add_bos=False, special=True), [self.grammar]) for p in prompts]
        # one context per sequence count, of n_ctx tokens each: a longer prompt is a failed row ("")
        parallel = max(1, min(self.parallel, len(jobs)))
        n_ctx = self.n_ctx
        if self._decoder is None or (self._decoder.parallel, self._decoder.n_ctx) != (parallel, n_ctx):
            if self._decoder is not None:
                self._decoder.close()
            self._decoder = ParallelDecoder(self.llm, parallel, n_ctx, self.threads)
        out = [""] * len(jobs)
        for j, _, text, _, _, finish in self._decoder.run(jobs, self.max_new_tokens, STOP):
            out[j] = self._label(text, finish)
        return out

    def _label(self, text: str, finish: str) -> str:
        return text if finish == "stop" and text in self.labels else ""

    @property
    def size_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in self.files)
