"""llama.cpp's translation of a JSON Schema constraint into a GBNF grammar.

`constraint` is what the GGUF runner builds its grammar from: `grammar_schema` rewrites what
llama.cpp's builder lacks (formats as patterns, short integer ranges as enums) and drops
annotations; `json_grammar` turns it into GBNF with llama.cpp's own string-character rule.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from stages.core.errors import SLMBenchError

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
        raise SLMBenchError("llama-cpp-python's JSON grammar has an unknown string-character rule; check stages/inference/grammar.py: json_grammar")
    return gbnf


def constraint(schema: dict[str, Any], enforce_formats: bool) -> dict[str, Any]:
    """The schema the GGUF runner's grammar is built from (`grammar_schema`'s rewrites)."""
    return grammar_schema(schema, enforce_formats)
