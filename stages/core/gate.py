"""The quantize gate, one rule for every task: a quantized file must keep its merged model's
quality, and must not be broken.

A quantize stage answers the same check rows with the merged model (the reference) and with each
GGUF file, and hands this module three numbers per row: the reference's task score, the file's
task score (both against the expected answer: json_exact, label accuracy, AST match) and their
agreement (the share of the reference answer the file reproduces: 1/0 for a label, the prefix
share for a generated answer). The file fails when

* **it is broken**: its mean agreement is below `min_agreement`, a floor set far below what an
  honest conversion reaches. A wrong tokenizer, template or tensor agrees on next to nothing,
  while an honest Q8_0 flips only near-ties (up to about one label in eight in the worst run
  seen, on another CPU kind than the one the model was trained on); or
* **it loses quality** (only where `max_drop` applies): its task score is below the reference's
  by more than `max_drop` *and* a paired test over the same rows calls the difference
  significant (stages.core.stats.paired_test: McNemar's exact test for 0/1 scores, else a paired
  bootstrap). Near-tie flips move the score both ways and cancel; a real loss does not.

So the gate's own noise cannot fail an honest file: the floor sits many standard errors below
an honest file's agreement, and a quality drop must be both large and significant. What the gate
measured is returned as figures for quantize.json, each as `m`, `m_ci95` (a 95% interval) and `m_n`
side by side (the one metrics layout, docs/design.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stages.core.errors import SLMBenchError

DIGITS = 6


@dataclass(frozen=True)
class GateRule:
    min_agreement: float  # the floor on mean agreement with the merged model (a broken file's bar)
    max_drop: float | None  # the largest significant quality drop tolerated; None: the file is not gated on quality
    where: str  # the params keys, for the message: "intent.mlm" or "quantize"


@dataclass(frozen=True)
class CheckRows:
    """One file's answers on the check rows, scored against the reference's."""

    file: str  # the file's name, for the message
    ids: Sequence[str]  # row ids, in order
    ref_score: Sequence[float]  # the merged model's task score per row, in [0, 1]
    got_score: Sequence[float]  # this file's task score per row, in [0, 1]
    agreement: Sequence[float]  # per row: the share of the merged model's answer this file reproduces
    ref_text: Sequence[str]  # the merged model's answers (for the message)
    got_text: Sequence[str]  # this file's answers


def prefix_share(ref: str, got: str) -> float:
    """Share of the reference answer's characters that the other answer reproduces from the start."""
    ref, got = ref.strip(), got.strip()
    if not ref:
        return float(not got)
    return common_prefix(ref, got) / len(ref)


def common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def figures(rows: CheckRows, samples: int, seed: int) -> dict[str, float | int | list[float]]:
    """The gate's figures: n, agreement, both task scores with 95% intervals, and the paired
    difference (file minus merged) with its interval and p-value."""
    from stages.core.stats import bootstrap_intervals, paired_test

    n = len(rows.ids)
    if not (n == len(rows.ref_score) == len(rows.got_score) == len(rows.agreement)):
        raise ValueError(f"{rows.file}: the check rows, scores and agreements differ in length")
    if n == 0:
        return {"n": 0}
    table = [[a, r, g] for a, r, g in zip(rows.agreement, rows.ref_score, rows.got_score, strict=True)]
    (a_ci, r_ci, g_ci) = bootstrap_intervals(table, samples, seed)
    test = paired_test(rows.ref_score, rows.got_score, samples, seed)
    mean = lambda v: round(sum(v) / n, DIGITS)  # noqa: E731
    return {
        "n": n,
        "agreement": mean(rows.agreement),
        "agreement_ci95": list(a_ci),
        "agreement_n": n,
        "score_merged": mean(rows.ref_score),
        "score_merged_ci95": list(r_ci),
        "score_merged_n": n,
        "score": mean(rows.got_score),
        "score_ci95": list(g_ci),
        "score_n": n,
        "score_diff": test["diff"],
        "score_diff_ci95": list(test["diff_ci95"]),
        "score_diff_n": test["diff_n"],
        "score_diff_p": test["p_value"],
    }


def check(rows: CheckRows, rule: GateRule, fig: dict[str, float | int | list[float]]) -> None:
    """Raise a one-line SLMBenchError when the file is broken or loses quality (see the module)."""
    n = int(fig["n"])
    if n == 0:
        return
    agreement = float(fig["agreement"])  # type: ignore[arg-type]
    if agreement < rule.min_agreement:
        i = min(range(n), key=lambda k: (rows.agreement[k], k))
        raise SLMBenchError(
            f"{rows.file}: agrees with the merged model on {agreement:.3f} of {n} check rows, below the floor {rule.where}.min_agreement"
            f" {rule.min_agreement} that an honest conversion clears: a broken file; worst row {rows.ids[i]}:"
            f" {str(rows.got_text[i])[:60]!r} vs merged {str(rows.ref_text[i])[:60]!r}"
        )
    if rule.max_drop is None:
        return
    diff, p = float(fig["score_diff"]), float(fig["score_diff_p"])  # type: ignore[arg-type]
    if diff < -rule.max_drop and p < 0.05:
        lo, hi = fig["score_diff_ci95"]  # type: ignore[misc]
        raise SLMBenchError(
            f"{rows.file}: scores {fig['score']:.3f} against the merged model's {fig['score_merged']:.3f} on the same {n} check rows"
            f" (difference {diff:+.3f}, 95% CI [{lo:+.3f}, {hi:+.3f}], paired p={p:.4f}): a significant drop beyond {rule.where}.max_drop {rule.max_drop}"
        )
