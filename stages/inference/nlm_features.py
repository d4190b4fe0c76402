"""The NLM's featuriser: text -> hashed feature ids, specified so that web/intent/featurize.js
computes the same ids byte for byte.

The specification (version FEATURES_VERSION; `nlm.json` carries it under "features"):

1. Lone UTF-16 surrogates become U+FFFD (what the browser's TextEncoder does), then ASCII
   lowercasing: only A-Z change. No Unicode case folding or normalization, whose tables differ
   between Python's and the browser's Unicode versions.
2. Tokens are the maximal runs of token characters, in order: a-z, 0-9 and the code points
   U+00C0-U+1FFF, U+2070-U+2FFF and U+3040-U+10FFFF (letters of every script, digits,
   combining marks, symbols and emoji). Everything else separates tokens: ASCII punctuation and
   whitespace, Latin-1 punctuation and symbols (U+0080-U+00BF: no-break space, pound sign),
   General Punctuation (U+2000-U+206F: typographic quotes and apostrophes, dashes, ellipsis) and
   CJK punctuation (U+3000-U+303F). Only the first `max_tokens` tokens count.
3. Feature strings, in this order, each once per occurrence (no deduplication):
   - "w " + token for every token (word unigrams);
   - "b " + token_i + " " + token_{i+1} for every adjacent pair (bigrams; `word_ngrams` 2), and
     likewise longer runs joined by single spaces when `word_ngrams` is larger;
   - "c " + g for every character n-gram g of "<" + token + ">", n from `char_min` to `char_max`,
     over code points, token by token, shorter n first, left to right.
   The prefixes keep the three kinds apart ("w ab" never collides with the char gram "ab").
4. id = FNV-1a 32-bit (offset basis 2166136261, prime 16777619) of the feature string's UTF-8
   bytes, mod `buckets`. The first `max_ids` ids are kept; a text with no token gets no id.

The model averages the embeddings of a text's ids, so padding (id 0, mask 0) never counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

FEATURES_VERSION = 1
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
TOKEN = re.compile("[a-z0-9\u00c0-\u1fff\u2070-\u2fff\u3040-\U0010ffff]+")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class FeatureSpec:
    buckets: int = 2**18  # rows of the embedding table; ids are in [0, buckets)
    word_ngrams: int = 2  # longest run of words hashed as one feature (1: unigrams only)
    char_min: int = 3  # shortest character n-gram, in code points, of "<token>"
    char_max: int = 5  # longest character n-gram (0 with char_min 0: none)
    max_tokens: int = 64  # tokens read per text; the rest is ignored
    max_ids: int = 512  # ids kept per text (the ONNX input is at most this wide)
    version: int = FEATURES_VERSION

    def to_json(self) -> dict[str, Any]:
        return {"hash": "fnv1a32-utf8-mod-buckets", "token_pattern": TOKEN.pattern.encode("unicode_escape").decode("ascii"), **asdict(self)}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> FeatureSpec:
        fields = {k: int(obj[k]) for k in ("buckets", "word_ngrams", "char_min", "char_max", "max_tokens", "max_ids", "version")}
        if fields["version"] != FEATURES_VERSION:
            raise ValueError(f"featuriser version {fields['version']}; this code reads version {FEATURES_VERSION}")
        return cls(**fields)


def fnv1a32(data: bytes) -> int:
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def tokens(text: str, max_tokens: int) -> list[str]:
    text = _SURROGATE.sub("\ufffd", text).translate(_LOWER)
    return TOKEN.findall(text)[:max_tokens]


def feature_strings(text: str, spec: FeatureSpec) -> list[str]:
    toks = tokens(text, spec.max_tokens)
    out = ["w " + t for t in toks]
    for n in range(2, spec.word_ngrams + 1):
        out.extend("b " + " ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
    if spec.char_max >= spec.char_min > 0:
        for t in toks:
            marked = "<" + t + ">"
            for n in range(spec.char_min, spec.char_max + 1):
                out.extend("c " + marked[i : i + n] for i in range(len(marked) - n + 1))
    return out


class Featurizer:
    """`spec` applied to texts, with a cache of feature string -> id (hashing in Python is the slow part)."""

    def __init__(self, spec: FeatureSpec):
        self.spec = spec
        self._ids: dict[str, int] = {}

    def ids(self, text: str) -> list[int]:
        cache, buckets = self._ids, self.spec.buckets
        out = []
        for f in feature_strings(text, self.spec)[: self.spec.max_ids]:
            i = cache.get(f)
            if i is None:
                i = cache[f] = fnv1a32(f.encode("utf-8")) % buckets
            out.append(i)
        return out

    def batch(self, texts: Sequence[str] | Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """The ONNX inputs for `texts`: ids (int64, n x width) and mask (float32, 1 where an id counts).
        width is the longest row's id count (at least 1), so a text without ids is all padding."""
        rows = [self.ids(t) for t in texts]
        width = max([1, *(len(r) for r in rows)])
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.float32)
        for k, r in enumerate(rows):
            ids[k, : len(r)] = r
            mask[k, : len(r)] = 1.0
        return ids, mask
