"""The uniqueItems guard: a constraint neither grammar can express.

A constrained answer that repeats an item of a `uniqueItems` array of strings is generated again
from just before the repeat, with `UniqueItemsGuard` pushing duplicates down. Both runners use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def has_unique(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("uniqueItems") is True or any(has_unique(v) for v in node.values())
    return isinstance(node, list) and any(has_unique(v) for v in node)


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
