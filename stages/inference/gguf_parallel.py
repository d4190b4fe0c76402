"""Greedy llama.cpp decoding of many sequences at once: `slmbench task-evaluate --task edgejson --evaluation release` runs its
GGUF variants through this (see stages/tasks/edgejson/evaluation.py), and `python benchmarks/bench_model.py`
measures it against one request at a time.

One decode step of a 135M model reads every weight once whatever the number of sequences in
the step, so on a CPU whose single-stream decoding is bound by memory bandwidth, decoding
several sequences per `llama_decode` call costs little more than one. This module keeps up to
`parallel` sequences in one `llama_batch`, each with its own KV-cache stream (`kv_unified` off:
the sequences share no prefix beyond one prompt), its own sampler chain (the JSON-Schema grammar
when constrained, then greedy) and its own position. A finished sequence frees its slot and the
next one enters in the same step (continuous batching).

A job is one prompt decoded once per entry of its `grammars` (None: free decoding). Its prompt
is evaluated once, and its decodings share one sequence for as long as they choose the same
tokens: greedy free decoding and greedy decoding under a grammar agree until the grammar first
rejects the free choice, which on many rows is late or never. There the sequence forks into one of the job's spare
slots, with a copy of its KV cache, and each branch goes on alone. So free and constrained
decoding of one row pay for its prompt once, and for the answer they share once. One more stream keeps the last
prompt evaluated: a job whose prompt begins like it (rows of one schema share the system prompt
with its schema skeleton, about 40% of the tokens) copies that cache and evaluates only the rest.
Callers put such jobs next to each other.

The sampling is that of `Llama.create_completion(temperature=0)` as GGUFRunner calls it: greedy
(argmax, the lowest token id on a tie) after the grammar, stop at an end-of-generation token
(not counted in `tokens`), `finish="length"` at `max_new_tokens` or at the end of the slot's
context, `finish="repeat"` when the answer falls into a loop (`stages.inference.loops.looping`). The
arithmetic of a batched step is not that of a single-stream step (other matrix shapes), so a
near-tie can go the other way: benchmarks/results/bench_model.json records how many
answers differ from single-stream decoding. Whatever `parallel` is, the same jobs in the same order
give the same answers.

Time: each `llama_decode` call's wall time (with the sampling after it) is shared by the sequences
in it in proportion to the tokens each put in: a prompt's tokens count for its job, split over its
sequences. A row's `seconds` is then its share of the machine's time, as for HF batches.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stages.core.errors import SLMBenchError
from stages.inference.loops import looping

Done = tuple[int, int, str, int, float, str]  # (job, grammar index, text, tokens, seconds, finish)
MIN_REUSE = 16  # prompt tokens worth a KV-cache copy (a whole-stream memcpy) instead of evaluating them


@dataclass
class _Seq:
    """One KV-cache stream and the decodings of one job that have chosen the same tokens so far."""

    job: int
    members: list[tuple[int, Any]]  # (index into the job's grammars, its sampler: a grammar-then-greedy chain, or None when free)
    pos: int  # position of the next token
    limit: int  # tokens this sequence may generate
    idx: int = -1  # batch index of the logits to sample from
    tokens: list[int] = field(default_factory=list)


class ParallelDecoder:
    """Decode jobs on `llm` (a llama_cpp.Llama: its model and tokenizer are shared, its context is
    not used) with up to `parallel` sequences in flight, each holding at most `n_ctx` tokens,
    prompt and answer (llama.cpp allots each stream a multiple of 256)."""

    def __init__(self, llm: Any, parallel: int, n_ctx: int, threads: int):
        import ctypes

        import llama_cpp as L
        import numpy as np

        if parallel < 1:
            raise SLMBenchError(f"parallel decoding needs at least one sequence, got {parallel}")
        self.L, self.llm, self.parallel = L, llm, parallel
        self.vocab = llm._model.vocab
        cp = L.llama_context_default_params()
        # llama.cpp rounds each stream's context up to a multiple of 256 tokens
        self.n_ctx = n_ctx
        self.n_ctx_seq = -(-n_ctx // 256) * 256
        self.cache_seq = parallel  # the stream that keeps the last prompt evaluated
        cp.n_ctx = self.n_ctx_seq * (parallel + 1)
        cp.n_seq_max = parallel + 1
        cp.kv_unified = False  # one KV stream per sequence: attention reads only its own cells
        cp.n_batch = self.n_ctx_seq + parallel  # one whole prompt plus a token from every other sequence
        cp.n_ubatch = 512  # as Llama's default, so prompts are evaluated in the same chunks
        cp.n_threads = cp.n_threads_batch = threads
        cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_ENABLED  # as GGUFRunner's Llama (docs/models.md)
        cp.no_perf = True
        self.ctx = L.llama_init_from_model(llm._model.model, cp)
        if not self.ctx:
            raise SLMBenchError(f"llama.cpp could not make a context for {parallel} sequences of {self.n_ctx_seq} tokens")
        self.mem = L.llama_get_memory(self.ctx)
        self.batch = L.llama_batch_init(cp.n_batch, 0, 1)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        self.np, self.ctypes = np, ctypes
        self._one = L.llama_token_data()  # a one-token candidate array for the grammar check
        self._one_arr = L.llama_token_data_array(data=ctypes.pointer(self._one), size=1, selected=-1, sorted=False)
        self.decode_seconds = 0.0  # time in llama_decode (with KV copies), for benchmarks (each run's)
        self.sample_seconds = 0.0  # time choosing tokens (grammar included)
        self.prompt_tokens_reused = 0  # prompt tokens copied from the cache instead of evaluated
        self.shared_tokens = 0  # answer tokens decoded once for more than one decoding (counted per extra decoding)
        self.moves = 0  # sequences moved down to keep the live ones in consecutive slots

    def close(self) -> None:
        if self.ctx:
            self.L.llama_batch_free(self.batch)
            self.L.llama_free(self.ctx)
            self.ctx = None

    def __enter__(self) -> ParallelDecoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sampler(self, grammar: str) -> Any:
        """A grammar-then-greedy sampler chain, or None when llama.cpp cannot parse the grammar."""
        L = self.L
        g = L.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")
        if not g:
            return None
        chain = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
        L.llama_sampler_chain_add(chain, g)
        L.llama_sampler_chain_add(chain, L.llama_sampler_init_greedy())
        return chain

    def _pick(self, idx: int, tok: int, logit: float, sampler: Any) -> int:
        """The greedy token of one decoding, given the logits' first highest token `tok`: that
        token when free, as llama.cpp's greedy sampler picks. With a grammar, that token alone is
        checked first; only when the grammar rejects it does the grammar filter the whole
        vocabulary (as llama.cpp's own common sampler does). Greedy over the grammar's survivors
        is the same token either way, at a fraction of the cost. The grammar accepts the pick."""
        L = self.L
        if sampler is None:
            return tok
        self._one.id, self._one.logit, self._one.p = tok, logit, 0.0
        self._one_arr.size, self._one_arr.selected, self._one_arr.sorted = 1, -1, False
        L.llama_sampler_apply(L.llama_sampler_chain_get(sampler, 0), self.ctypes.byref(self._one_arr))
        if self._one.logit != float("-inf"):
            L.llama_sampler_accept(sampler, tok)
            return tok
        return int(L.llama_sampler_sample(sampler, self.ctx, idx))  # filters, picks and accepts

    def _add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        b, n = self.batch, self.batch.n_tokens
        b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = token, pos, 1, int(logits)
        b.seq_id[n][0] = seq
        b.n_tokens = n + 1
        return n

    def _text(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="ignore")

    def run(self, jobs: list[tuple[list[int], list[str | None]]], max_new_tokens: int, stop: str, share: bool = True) -> Iterator[Done]:
        """Yield each decoding's result as it finishes. A job is (prompt tokens, grammars); a job
        reserves as many slots as it has grammars, and jobs enter in order. Text from `stop` on is
        cut off (an end-of-generation token already ends a decoding).

        A job's decodings share one sequence while they choose the same tokens: greedy free
        decoding and greedy decoding under a grammar agree until the grammar first rejects the
        free choice, and on many rows that is late or never. Where their choices part, the
        sequence forks: its KV cache is copied to a free slot (a job is admitted only when there
        is room for all its decodings) and each branch goes on with its own token. Each decoding
        gets the tokens it would get in a sequence of its own; the tokens before a fork are
        decoded once (`shared_tokens` counts them). With `share` off, every decoding forks at its
        first token (benchmarks/bench_model.py measures both)."""
        L = self.L
        if any(len(g) > self.parallel for _, g in jobs):
            raise SLMBenchError(f"a job with more decodings than the {self.parallel} parallel sequences")
        queue = deque(range(len(jobs)))
        live: dict[int, _Seq] = {}  # slot -> the sequence in it
        reserved = 0  # decodings admitted and not finished: each may come to need a slot of its own
        seconds: dict[tuple[int, int], float] = {}  # (job, grammar index) -> its share of the time so far
        cached: list[int] = []  # the prompt the cache stream holds
        L.llama_memory_clear(self.mem, True)
        self.decode_seconds = self.sample_seconds = 0.0
        self.prompt_tokens_reused = self.shared_tokens = self.moves = 0
        samplers: dict[tuple[int, int], Any] = {}  # (job, grammar index) -> its sampler chain, freed when it finishes
        while queue or live:
            self.batch.n_tokens = 0
            self._compact(live)
            step: dict[int, tuple[float, int, list[int]]] = {}  # slot -> (tokens it put in, job, its decodings)
            newest: tuple[int, list[int]] | None = None  # (slot, prompt) of the last job admitted in this step
            for slot in sorted(live):  # llama.cpp puts a run of consecutive streams in one ubatch
                s = live[slot]
                s.idx = self._add(s.tokens[-1], s.pos - 1, slot, True)
                step[slot] = (1, s.job, [k for k, _ in s.members])
                self.shared_tokens += len(s.members) - 1
            while queue and self.parallel - reserved >= len(jobs[queue[0]][1]):
                j = queue[0]
                prompt, grammars = jobs[j]
                if not prompt or len(prompt) >= self.n_ctx:  # no room to answer: a failed row, not a crash
                    queue.popleft()  # (checked first: such a prompt would never fit a batch either)
                    for k in range(len(grammars)):
                        yield j, k, "", 0, 0.0, "prompt_exceeds_context" if prompt else "error"
                    continue
                if len(prompt) + self.batch.n_tokens > self.batch_capacity:
                    break  # the next step takes it
                queue.popleft()
                members = []
                for k, g in enumerate(grammars):
                    smp = None if g is None else self._sampler(g)
                    if g is not None and smp is None:  # llama.cpp rejected the grammar: this decoding fails
                        yield j, k, "", 0, 0.0, "error"
                    else:
                        members.append((k, smp))
                if not members:
                    continue
                slot, reserved = self._vacant(live), reserved + len(members)
                # the cache holds a prompt evaluated in an earlier step; the last prompt token is
                # always evaluated here, for its logits
                reuse = min(_common_prefix(cached, prompt), len(prompt) - 1)
                if reuse >= MIN_REUSE:
                    L.llama_memory_seq_cp(self.mem, self.cache_seq, slot, -1, -1)
                    L.llama_memory_seq_rm(self.mem, slot, reuse, -1)
                    self.prompt_tokens_reused += reuse
                else:
                    reuse = 0
                for t in range(reuse, len(prompt)):
                    idx = self._add(prompt[t], t, slot, t == len(prompt) - 1)
                limit = min(max_new_tokens, self.n_ctx - len(prompt))
                live[slot] = _Seq(j, members, len(prompt), limit, idx)
                seconds.update({(j, k): 0.0 for k, _ in members})
                samplers.update({(j, k): smp for k, smp in members if smp is not None})
                step[slot] = (len(prompt) - reuse, j, [k for k, _ in members])
                newest = (slot, prompt)
            if not live:
                continue
            t0 = time.perf_counter()
            rc = L.llama_decode(self.ctx, self.batch)
            if rc != 0:
                raise SLMBenchError(f"llama_decode failed (code {rc}) with {len(live)} sequences in flight")
            if newest is not None:  # the copy runs at the next decode, before that step writes to the slot
                L.llama_memory_seq_cp(self.mem, newest[0], self.cache_seq, -1, -1)
                cached = newest[1]
            t1 = time.perf_counter()
            done: list[tuple[int, int, list[int], str]] = []  # (job, grammar index, tokens, finish)
            for slot, s in list(live.items()):
                logits = self.np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, s.idx), shape=(self.n_vocab,))
                top = int(logits.argmax())
                picks: dict[tuple[int, int], list[tuple[int, Any]]] = {}  # (token, 0 or the decoding when not sharing) -> decodings
                for k, smp in s.members:
                    tok = self._pick(s.idx, top, float(logits[top]), smp)
                    picks.setdefault((tok, 0 if share else k), []).append((k, smp))
                branches: list[tuple[int, _Seq]] = []  # (slot, sequence) of each branch, this one first
                before, pos = list(s.tokens), s.pos  # where every branch starts from
                for (tok, _), members in picks.items():
                    if L.llama_vocab_is_eog(self.vocab, tok):
                        done += [(s.job, k, before, "stop") for k, _ in members]
                        continue
                    if branches:  # a fork: this branch goes on in a vacant slot, from a copy of the cache
                        b, at = _Seq(s.job, members, pos, s.limit, -1, list(before)), self._vacant(live)
                        L.llama_memory_seq_cp(self.mem, slot, at, -1, -1)  # runs at the next decode, before it writes there
                        live[at] = b
                    else:
                        b, at = s, slot
                        s.members = members
                    b.tokens.append(tok)
                    b.pos += 1
                    branches.append((at, b))
                if not branches:
                    del live[slot]
                    L.llama_memory_seq_rm(self.mem, slot, -1, -1)
                for at, b in branches:
                    finish = "repeat" if looping(b.tokens) else "length" if len(b.tokens) >= b.limit else None
                    if finish is not None:
                        done += [(b.job, k, b.tokens, finish) for k, _ in b.members]
                        del live[at]
                        L.llama_memory_seq_rm(self.mem, at, -1, -1)
            t2 = time.perf_counter()
            self.decode_seconds += t1 - t0
            self.sample_seconds += t2 - t1
            total = sum(n for n, _, _ in step.values()) or 1.0
            for n, j, ks in step.values():  # a sequence's share of the step, split over the decodings it carries
                for k in ks:
                    seconds[(j, k)] += (t2 - t0) * n / total / len(ks)
            for j, k, tokens, finish in done:
                reserved -= 1
                if (j, k) in samplers:
                    L.llama_sampler_free(samplers.pop((j, k)))
                text = self._text(tokens)
                if stop in text:
                    text, finish = text[: text.index(stop)], "stop" if finish == "length" else finish
                yield j, k, text, len(tokens), seconds.pop((j, k)), finish

    def _vacant(self, live: dict[int, _Seq]) -> int:
        """The lowest slot no sequence holds (there is one: admission reserves a slot for every
        decoding that may come to need one)."""
        return next(i for i in range(self.parallel) if i not in live)

    def _compact(self, live: dict[int, _Seq]) -> None:
        """Move sequences down into vacant slots so that the n live ones hold slots 0..n-1.
        llama.cpp splits a step into one micro-batch per run of consecutive KV streams (without
        a unified cache, a micro-batch's streams must be consecutive), and each micro-batch reads
        every weight: gaps left by finished or not-yet-forked sequences would multiply the
        step's cost. A move is a stream copy (run at the next decode, in order with the other
        copies) and a removal."""
        n = len(live)
        for src in sorted((i for i in live if i >= n), reverse=True):
            dst = self._vacant(live)
            if dst >= src:
                break
            self.L.llama_memory_seq_cp(self.mem, src, dst, -1, -1)
            self.L.llama_memory_seq_rm(self.mem, src, -1, -1)
            live[dst] = live.pop(src)
            self.moves += 1

    @property
    def batch_capacity(self) -> int:
        return self.n_ctx_seq + self.parallel


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
