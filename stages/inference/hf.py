"""The transformers (HF) runner: greedy, left-padded batches, constrained by llguidance.

`constraint` is HF's translation of a task's JSON Schema: llguidance takes the schema itself
(formats, patterns and number bounds included); with `enforce_formats` off, the schema without
formats and patterns. Prompts are the tokenizer's chat template rendered once
(`render_prompts`), the same text the GGUF runner gets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from stages.core.catalog import entry_of
from stages.core.errors import SLMBenchError
from stages.inference.generation import Generation
from stages.inference.grammar import grammar_schema
from stages.inference.prompt import chat_messages, check_safetensors_dir, key_order, load_tokenizer
from stages.inference.unique_items import UniqueItemsGuard, first_duplicate, has_unique


def render_prompts(tok: Any, rows: list[dict[str, Any]], catalog: dict[str, Any]) -> list[str]:
    prompts = []
    for row in rows:
        entry = entry_of(row, catalog, required=True)
        prompts.append(tok.apply_chat_template(chat_messages(row["prompt"], row["schema_id"], entry.schema), add_generation_prompt=True, tokenize=False))
    return prompts


def constraint(schema: dict[str, Any], enforce_formats: bool) -> dict[str, Any]:
    """The schema llguidance builds HF's grammar from."""
    return schema if enforce_formats else grammar_schema(schema, False)


class HFRunner:
    def __init__(self, model_dir: Path, threads: int):
        import torch
        from transformers import AutoModelForCausalLM

        check_safetensors_dir(model_dir)
        torch.set_num_threads(threads)
        self.tok = load_tokenizer(model_dir)
        self.tok.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, use_safetensors=True).eval()
        self._grammars: LLGuidanceGrammars | None = None
        self._vocab: list[tuple[int, str]] | None = None
        self.size_mb = sum(p.stat().st_size for p in Path(model_dir).glob("*.safetensors")) / 1e6

    def generate(self, prompts: list[str], max_new_tokens: int, batch_size: int, schemas: list[dict[str, Any] | None] | None = None) -> list[Generation]:
        """Greedy, left-padded batches. With `schemas` (one per prompt, a schema or None), each
        row is constrained by llguidance's JSON-schema grammar; an answer that repeats an item of
        a `uniqueItems` array is generated again alone from just before the repeat, as in
        `GGUFRunner.generate_one`, and its time counts both passes."""
        out: list[Generation] = []
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            rows = None if schemas is None else schemas[start : start + batch_size]
            gens = self._generate(batch, max_new_tokens, rows)
            for i, g in enumerate(gens):
                schema = rows[i] if rows else None
                cut = first_duplicate(g.text, schema) if schema is not None and has_unique(schema) else None
                if cut is not None:
                    forced = self.tok(g.text[:cut], add_special_tokens=False)["input_ids"]
                    guard = UniqueItemsGuard(self.vocab(), self._detokenize, schema, forced)
                    (again,) = self._generate([batch[i]], max_new_tokens, [schema], guard)
                    again.seconds += g.seconds
                    gens[i] = again
            out.extend(gens)
        return out

    def generate_lark(self, prompts: list[str], lark: str, max_new_tokens: int, batch_size: int) -> list[Generation]:
        """Greedy, left-padded batches, every answer constrained by one Lark grammar (llguidance):
        EdgeIntent's label alternation (stages/inference/labels.py)."""
        out: list[Generation] = []
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start : start + batch_size]
            out.extend(self._generate(batch, max_new_tokens, None, matchers=[self.grammars.lark_matcher(lark) for _ in batch]))
        return out

    def _generate(
        self, batch: list[str], max_new_tokens: int, schemas: list[dict[str, Any] | None] | None, guard: UniqueItemsGuard | None = None,
        matchers: list[Any] | None = None,
    ) -> list[Generation]:  # fmt: skip
        import torch
        from transformers import LogitsProcessorList

        eos = self.tok.eos_token_id
        enc = self.tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
        n_prompt = enc["input_ids"].shape[1]
        procs = LogitsProcessorList()
        if matchers is None and schemas is not None and any(s is not None for s in schemas):
            matchers = [None if s is None else self.grammars.matcher(s) for s in schemas]
        if matchers is not None:
            procs.append(_SchemaMask(matchers, n_prompt, self.grammars.tokenizer.vocab_size))
        if guard is not None:
            procs.append(_OneRow(guard))
        stops = _LoopStop(n_prompt, eos)
        t0 = time.perf_counter()
        with torch.inference_mode():
            gen = self.model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos, pad_token_id=self.tok.pad_token_id,
                logits_processor=procs or None, stopping_criteria=[stops],
            )  # fmt: skip
        dt = time.perf_counter() - t0
        out = []
        for row, seq in enumerate(gen[:, n_prompt:].tolist()):
            n = len(seq)
            if row in stops.rows:  # the repetition guard ended it; what follows is padding
                n = stops.rows[row]
            stopped = eos in seq[:n]
            if stopped:
                n = seq.index(eos)
            text = self.tok.decode(seq[:n], skip_special_tokens=True)
            out.append(Generation(text, n + int(stopped), 0.0, "repeat" if row in stops.rows else "stop" if stopped else "length"))
        # A batch's time is shared by its rows in proportion to their tokens; see README.
        total = sum(g.tokens for g in out) or 1
        for g in out:
            g.seconds = dt * g.tokens / total
        return out

    @property
    def grammars(self) -> "LLGuidanceGrammars":
        if self._grammars is None:
            self._grammars = LLGuidanceGrammars(self.tok, self.model.config.vocab_size)
        return self._grammars

    def vocab(self) -> list[tuple[int, str]]:
        """Every token's text (tokens that are not whole UTF-8 on their own are left out)."""
        if self._vocab is None:
            texts = self.tok.batch_decode([[t] for t in range(len(self.tok))], skip_special_tokens=False)
            self._vocab = [(t, s) for t, s in enumerate(texts) if "\ufffd" not in s]
        return self._vocab

    def _detokenize(self, ids: list[int]) -> bytes:
        return self.tok.decode(ids, skip_special_tokens=True).encode("utf-8")


def llg_schema(schema: dict[str, Any], relax: bool = False) -> dict[str, Any]:
    """The schema llguidance builds its grammar from: every object's properties in `key_order`
    (llguidance emits them in declaration order; training answers use required-first). With
    `relax`, strings that have a `pattern` lose their length bounds: llguidance gives up on
    intersecting some patterns with a length (`^/api/v[0-9]+(/[a-z0-9_-]+)+$` within 120)."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if relax and "pattern" in node and k in ("minLength", "maxLength"):
                continue
            if k in ("properties", "patternProperties", "$defs", "definitions") and isinstance(v, dict):
                keys = key_order(node) if k == "properties" else list(v)
                out[k] = {name: walk(v[name]) for name in keys}
            else:
                out[k] = v if k in ("enum", "const", "required", "default", "examples") else walk(v)
        return out

    return walk(schema)


class LLGuidanceGrammars:
    """llguidance matchers for JSON Schemas, on a transformers tokenizer: compact JSON (no
    whitespace between tokens, as the training answers), unknown keywords such as `uniqueItems`
    left to the caller (`lenient`)."""

    OPTIONS = {"whitespace_flexible": False, "lenient": True}

    def __init__(self, tok: Any, n_vocab: int | None):
        import llguidance.hf

        self.tokenizer = llguidance.hf.from_tokenizer(tok, n_vocab=n_vocab)
        self._grammars: dict[str, str] = {}

    def matcher(self, schema: dict[str, Any]) -> Any:
        from llguidance import LLMatcher

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            for relax in (False, True):
                grammar = LLMatcher.grammar_from_json_schema(llg_schema(schema, relax), defaults=self.OPTIONS)
                m = LLMatcher(self.tokenizer, grammar, log_level=0)
                if not m.is_error():
                    break
            if m.is_error():
                raise SLMBenchError(f"llguidance cannot build a grammar for schema {schema.get('title') or schema.get('$id') or '?'}: {m.get_error()[:160]}")
            self._grammars[key] = grammar
        return LLMatcher(self.tokenizer, self._grammars[key], log_level=0)

    def lark_matcher(self, lark: str) -> Any:
        """A matcher of a Lark grammar (`start:` rule), built once per grammar text."""
        from llguidance import LLMatcher

        key = "lark:" + lark
        if key not in self._grammars:
            grammar = LLMatcher.grammar_from_lark(lark)
            m = LLMatcher(self.tokenizer, grammar, log_level=0)
            if m.is_error():
                raise SLMBenchError(f"llguidance cannot build the Lark grammar {lark[:60]!r}...: {m.get_error()[:160]}")
            self._grammars[key] = grammar
        return LLMatcher(self.tokenizer, self._grammars[key], log_level=0)


class _SchemaMask:
    """A transformers logits processor: each row's llguidance matcher masks the tokens its
    grammar forbids. A row without a schema, or whose matcher has stopped, is left free."""

    def __init__(self, matchers: list[Any], n_prompt: int, vocab_size: int):
        import llguidance.torch

        self.matchers = matchers
        self.n_prompt = n_prompt
        self.live = [m is not None for m in matchers]
        self.mask = llguidance.torch.allocate_token_bitmask(len(matchers), vocab_size)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import llguidance.torch

        for i, m in enumerate(self.matchers):
            if self.live[i] and input_ids.shape[1] > self.n_prompt:
                if m.is_stopped():
                    self.live[i] = False
                else:
                    m.consume_token(int(input_ids[i, -1]))
                    self.live[i] = not m.is_error()
            if self.live[i]:
                llguidance.torch.fill_next_token_bitmask(m, self.mask, i)
            else:
                self.mask[i].fill_(-1)  # all tokens allowed
        llguidance.torch.apply_token_bitmask_inplace(scores, self.mask)
        return scores


class _OneRow:
    """A one-row transformers logits processor around `UniqueItemsGuard` (which works on one
    row's token ids and a numpy view of its scores)."""

    def __init__(self, guard: UniqueItemsGuard):
        self.guard = guard

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self.guard(input_ids[0].tolist(), scores[0].numpy())
        return scores


class _LoopStop:
    """transformers stopping criterion: ends each row of a batch whose answer falls into a loop
    (`stages.inference.loops.looping`), and records at how many generated tokens (`rows`: row -> tokens)."""

    def __init__(self, n_prompt: int, eos: int):
        self.n_prompt, self.eos = n_prompt, eos
        self.rows: dict[int, int] = {}

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        from stages.inference.loops import looping

        done = torch.zeros(input_ids.shape[0], dtype=torch.bool)
        for row, ids in enumerate(input_ids[:, self.n_prompt :].tolist()):
            if row in self.rows:
                done[row] = True
            elif self.eos in ids:  # ended at EOS: what follows is padding, which repeats, not a loop
                continue
            elif looping(ids):
                self.rows[row] = len(ids)
                done[row] = True
        return done
