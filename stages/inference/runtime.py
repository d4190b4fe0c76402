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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.inference.prompt import chat_messages, check_safetensors_dir, key_order

STOP = "<|im_end|>"
GGUF_MAGIC = b"GGUF"


@dataclass
class Generation:
    text: str
    tokens: int  # generated tokens
    seconds: float  # wall time attributed to this row
    finish: str  # "stop", "length", "repeat" (the repetition guard, stages/inference/loops.py), "prompt_exceeds_context" or "error"


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
                cut = first_duplicate(g.text, schema) if schema is not None and _has_unique(schema) else None
                if cut is not None:
                    forced = self.tok(g.text[:cut], add_special_tokens=False)["input_ids"]
                    guard = UniqueItemsGuard(self.vocab(), self._detokenize, schema, forced)
                    (again,) = self._generate([batch[i]], max_new_tokens, [schema], guard)
                    again.seconds += g.seconds
                    gens[i] = again
            out.extend(gens)
        return out

    def _generate(self, batch: list[str], max_new_tokens: int, schemas: list[dict[str, Any] | None] | None, guard: UniqueItemsGuard | None = None) -> list[Generation]:
        import torch
        from transformers import LogitsProcessorList

        eos = self.tok.eos_token_id
        enc = self.tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
        n_prompt = enc["input_ids"].shape[1]
        procs = LogitsProcessorList()
        if schemas is not None and any(s is not None for s in schemas):
            procs.append(_SchemaMask([None if s is None else self.grammars.matcher(s) for s in schemas], n_prompt, self.grammars.tokenizer.vocab_size))
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


def check_gguf(path: Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise SLMBenchError(f"{path}: GGUF file not found")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != GGUF_MAGIC:
        raise SLMBenchError(f"{path}: not a GGUF file (bad magic {head!r})")


# llama-cpp-python's schema converter lets any character but `"` and `\` into a string, raw
# newlines and other control characters included, which makes invalid JSON. llama.cpp's own
# converter excludes them; this is its rule.
LOOSE_CHAR = 'char ::= [^"\\\\] | '
STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] | '


def json_grammar(schema: dict[str, Any]) -> str:
    """GBNF for a JSON Schema: llama-cpp-python's converter with llama.cpp's string-character rule."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(schema))
    if LOOSE_CHAR in gbnf:
        gbnf = gbnf.replace(LOOSE_CHAR, STRICT_CHAR, 1)
    elif "char ::=" in gbnf and STRICT_CHAR not in gbnf:
        raise SLMBenchError("llama-cpp-python's JSON grammar has an unknown string-character rule; check stages/inference/runtime.py: json_grammar")
    return gbnf


def _has_unique(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("uniqueItems") is True or any(_has_unique(v) for v in node.values())
    return isinstance(node, list) and any(_has_unique(v) for v in node)


@dataclass
class _Frame:
    kind: str  # "obj" or "arr"
    node: dict[str, Any]
    key: str | None = None
    want_key: bool = False  # object: the next string is a key
    want_item: bool = False  # array: the next value is a new item
    items: set[str] | None = None  # array: the raw text of its string items so far
    sep: int = -1  # array: offset of its last `,`


UniqueState = tuple[str | None, set[str], list[str] | None]


def open_unique_item(text: str, schema: dict[str, Any]) -> UniqueState | None:
    """Where a JSON prefix stands with respect to a `uniqueItems` array of strings.

    Returns None unless `text` ends where a string item of such an array is being written, or
    is about to start (just after `[` or `,`). Otherwise `(prefix, used, enum)`: the raw text of
    the open string (None before its opening quote), the raw text of the array's earlier string
    items, and the items' enum as raw JSON text (or None)."""
    return scan_unique(text, schema)[0]


def first_duplicate(text: str, schema: dict[str, Any]) -> int | None:
    """Offset of the `,` that starts the first string item repeating an earlier item of its
    `uniqueItems` array, or None."""
    return scan_unique(text, schema)[1]


def scan_unique(text: str, schema: dict[str, Any]) -> tuple[UniqueState | None, int | None]:
    stack: list[_Frame] = []
    i, n = 0, len(text)
    dup: int | None = None

    def child() -> dict[str, Any]:
        if not stack:
            return schema
        top = stack[-1]
        sub = top.node.get("items") if top.kind == "arr" else top.node.get("properties", {}).get(top.key or "")
        return sub if isinstance(sub, dict) else {}

    def value_done() -> None:
        if stack and stack[-1].kind == "arr":
            stack[-1].want_item = False

    while i < n:
        c = text[i]
        if c == '"':
            j, esc = i + 1, False
            while j < n and (esc or text[j] != '"'):
                esc = not esc and text[j] == "\\"
                j += 1
            top = stack[-1] if stack else None
            if j >= n:  # the text ends inside this string
                if top is not None and top.kind == "arr" and top.node.get("uniqueItems") is True and not esc:
                    return (text[i + 1 :], set(top.items or ()), _raw_enum(top.node)), dup
                return None, dup
            raw = text[i + 1 : j]
            if top is not None and top.kind == "obj" and top.want_key:
                top.key, top.want_key = raw, False
            else:
                if top is not None and top.kind == "arr":
                    if dup is None and top.node.get("uniqueItems") is True and raw in (top.items or ()) and top.sep >= 0:
                        dup = top.sep
                    top.items = (top.items or set()) | {raw}
                value_done()
            i = j + 1
            continue
        if c in "{[":
            node = child()
            value_done()
            stack.append(_Frame("obj", node, want_key=True) if c == "{" else _Frame("arr", node, want_item=True, items=set()))
        elif c in "}]":
            if stack:
                stack.pop()
        elif c == "," and stack:
            if stack[-1].kind == "obj":
                stack[-1].want_key = True
            else:
                stack[-1].want_item, stack[-1].sep = True, i
        elif not c.isspace() and c != ":":
            value_done()  # a number or literal
        i += 1
    top = stack[-1] if stack else None
    if top is not None and top.kind == "arr" and top.want_item and top.node.get("uniqueItems") is True:
        return (None, set(top.items or ()), _raw_enum(top.node)), dup
    return None, dup


def _raw_enum(node: dict[str, Any]) -> list[str] | None:
    items = node.get("items")
    enum = items.get("enum") if isinstance(items, dict) else None
    return [json.dumps(v, ensure_ascii=False)[1:-1] for v in enum if isinstance(v, str)] if isinstance(enum, list) else None


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


class UniqueItemsGuard:
    """A llama.cpp logits processor for the second pass of a generation whose first pass repeated
    an item of a `uniqueItems` array of strings (a constraint the grammar cannot express).

    It replays `forced` (the first pass's text up to the `,` that began the repeat), then, at the
    `,`, pushes every token starting a new item below the alternatives, so the grammar ends the
    array there when its `minItems` allows. From then on a token that would close a string item
    equal to an earlier item of the same array is pushed down, and for an `enum` of items so is
    a token that leads only to values already used. Pushed-down tokens keep a finite score: if
    the grammar allows nothing else, the duplicate is generated and scored invalid rather than
    the decoder failing. Items are compared as raw JSON text; tokens carrying a backslash are not
    judged."""

    BANNED = -1e30  # finite, so a grammar-rejected token (-inf) still ranks below it

    def __init__(self, vocab: list[tuple[int, str]], detokenize: Any, schema: dict[str, Any], forced: list[int]):
        self.vocab = vocab
        self.quoted = [(t, s) for t, s in vocab if '"' in s]
        self.commas = [t for t, s in vocab if s.lstrip().startswith(",") or (s and not s.strip())]
        self.detokenize = detokenize
        self.schema = schema
        self.forced = forced
        self.n_prompt: int | None = None

    def banned(self, prefix: str | None, used: set[str], enum: list[str] | None) -> list[int]:
        live = None if enum is None else [v for v in enum if v not in used]
        out = []
        for tid, s in self.quoted if live is None else self.vocab:
            if prefix is None:
                s = s.lstrip()
                if not s.startswith('"'):
                    continue
                s, base = s[1:], ""
            else:
                base = prefix
            if "\\" in s:
                continue
            q = s.find('"')
            if q >= 0:
                if base + s[:q] in used:
                    out.append(tid)
            elif live is not None and not any(v.startswith(base + s) for v in live):
                out.append(tid)
        return out

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.n_prompt is None:
            self.n_prompt = len(input_ids)
        k = len(input_ids) - self.n_prompt
        if k < len(self.forced):
            keep = scores[self.forced[k]]
            scores[:] = self.BANNED
            scores[self.forced[k]] = keep
            return scores
        if k == len(self.forced) or not self.detokenize(list(input_ids[self.n_prompt + len(self.forced) :])).strip():
            scores[self.commas] = self.BANNED  # and blanks, which would only put the `,` off a token
            return scores
        text = self.detokenize(list(input_ids[self.n_prompt :])).decode("utf-8", errors="ignore")
        state = open_unique_item(text, self.schema)
        if state is not None:
            ids = self.banned(*state)
            if ids:
                scores[ids] = self.BANNED
        return scores


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
            cut = first_duplicate(text, schema) if schema is not None and self.unique_items and finish != "error" and _has_unique(schema) else None
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
        if schema is None or not self.unique_items or not _has_unique(schema):
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
