"""The repetition guard: a generation that has fallen into a loop is stopped, not run to its cap.

A small model decoding greedily can repeat itself until `max_new_tokens`: the same array item
again and again, a string that never closes, a key sequence that restarts. Such an answer is
already a failure; running it to the cap costs most of an evaluation's time and says nothing
more. `looping` is True when the generated tokens end in one block repeated: the last `SPAN`
tokens (or three repeats, for a block longer than a third of that) all have the same period of
at most `MAX_PERIOD` tokens. Every runtime (transformers, llama.cpp one at a time and batched)
checks it after each token and ends the answer with finish reason "repeat"; the answer is scored
as it stands, so a cut answer fails as the full one would have.

No expected answer of the v3 release test split ends in such a loop (tests/model/test_loops.py
checks the rule on every one), so the guard cannot cut a correct answer of this benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence

SPAN = 48  # tokens a loop must cover before it stops the generation
MAX_PERIOD = 48  # longest repeated block, tokens; a block longer than SPAN / 3 must repeat three times


def looping(tokens: Sequence[int], span: int = SPAN, max_period: int = MAX_PERIOD) -> bool:
    """True when `tokens` end in a run of at least `span` tokens (and three periods) with a period of
    at most `max_period` tokens: one block of tokens repeated."""
    tokens = list(tokens)
    n = len(tokens)
    if n < span:
        return False
    last = tokens[-1]
    for p in range(1, max_period + 1):
        length = max(span, 3 * p)
        if length > n:
            break
        if tokens[-1 - p] != last:
            continue
        tail = tokens[n - length :]
        if tail[p:] == tail[:-p]:
            return True
    return False
