"""`slmbench compare gguf_q4/free gguf_q8_0/free --predictions models/<model>/predictions.jsonl`:
two variant/decodings on the same rows, with a paired test per metric.

Each side is VARIANT/DECODING in a predictions file (the evaluate stage writes one per model,
with every row's scores). The second side may come from another file (`--predictions-b`: another
model, or the same file at another revision as `PATH@REV`, read through DVC). Rows pair by id;
only rows both sides scored count. Per metric: n, both means, the difference (b - a) with its
paired-bootstrap 95% interval, and the p-value of McNemar's exact test (0/1 metrics) or of the
paired bootstrap (field_f1), from stages/core/stats.py. "significant" means p < 0.05, for each metric
on its own (four metrics are four tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import jsonl_objects
from stages.tasks.edgejson.scoring import METRICS


def parse_side(spec: str) -> tuple[str, str]:
    variant, sep, decoding = spec.partition("/")
    if not sep or not variant or not decoding or "/" in decoding:
        raise SLMBenchError(f"{spec!r}: expected VARIANT/DECODING with --predictions, e.g. gguf_q8_0/constrained")
    return variant, decoding


def read_predictions(root: Path, spec: str) -> tuple[str, list[dict[str, Any]]]:
    """(label, rows) of a predictions JSONL: PATH in the workspace, or PATH@REV at a git revision."""
    from stages.audit.history import Snapshot

    path, _, rev = spec.rpartition("@") if "@" in spec else (spec, "", "")
    if "@" in spec and not (path and rev):
        raise SLMBenchError(f"--predictions {spec!r}: expected PATH or PATH@REV")
    if rev:
        snap = Snapshot(Path(root), rev)
        try:
            text = snap.text(path)
        finally:
            snap.close()
        if text is None:
            raise SLMBenchError(f"{path} at {rev}: not available (not in that revision, or not in the DVC cache; try `dvc pull`)")
    else:
        p = Path(path) if Path(path).is_absolute() else Path(root) / path
        if p.is_dir():
            raise SLMBenchError(f"{p}: is a directory; expected a predictions JSONL file")
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SLMBenchError(f"{p}: file not found (the evaluate stage writes models/<model>/predictions.jsonl)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SLMBenchError(f"{p}: cannot be read ({exc})") from None
    rows = []
    for lineno, row in jsonl_objects(text, spec):
        missing = [k for k in ("id", "variant", "decoding", *METRICS) if k not in row]
        if missing:
            raise SLMBenchError(f"{spec}:{lineno}: a prediction without {', '.join(missing)}; expected a file written by `slmbench task-evaluate --task edgejson --evaluation release`")
        rows.append(row)
    return spec, rows


def _side(rows: list[dict[str, Any]], label: str, variant: str, decoding: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["variant"] == variant and r["decoding"] == decoding:
            key = str(r["id"])
            if key in out:
                raise SLMBenchError(f"{label}: row {key!r} appears twice for {variant}/{decoding}")
            out[key] = r
    if not out:
        have = sorted({f"{r['variant']}/{r['decoding']}" for r in rows})
        raise SLMBenchError(f"{label}: no rows for {variant}/{decoding}; it has {', '.join(have) or 'none'}")
    return out


def compare_predictions(root: Path, a: str, b: str, predictions: str, predictions_b: str | None, samples: int, seed: int) -> dict[str, Any]:
    """Paired comparison of side a and side b over the rows both scored."""
    from stages.core.stats import ALPHA, paired_test

    (va, da), (vb, db) = parse_side(a), parse_side(b)
    if samples < 1:
        raise SLMBenchError(f"--bootstrap-samples: expected an integer >= 1, got {samples}")
    label_a, rows_a = read_predictions(root, predictions)
    label_b, rows_b = read_predictions(root, predictions_b) if predictions_b else (label_a, rows_a)
    side_a, side_b = _side(rows_a, label_a, va, da), _side(rows_b, label_b, vb, db)
    ids = sorted(set(side_a) & set(side_b))
    if not ids:
        raise SLMBenchError(f"{a} and {b} share no row ids; a paired test needs the same rows on both sides")
    metrics = []
    for name in METRICS:
        t = paired_test([float(side_a[i][name]) for i in ids], [float(side_b[i][name]) for i in ids], samples, seed)
        metrics.append({"metric": name, **t})
    return {
        "a": f"{a} ({label_a})",
        "b": f"{b} ({label_b})",
        "n": len(ids),
        "only_a": len(set(side_a) - set(side_b)),
        "only_b": len(set(side_b) - set(side_a)),
        "alpha": ALPHA,
        "bootstrap_samples": samples,
        "bootstrap_seed": seed,
        "metrics": metrics,
    }


def paired_table(result: dict[str, Any], md: bool) -> str:
    from stages.audit.history import _table

    header = ["metric", "n", "a", "b", "b - a [95% CI]", "p", "test", "verdict"]
    body = [
        [
            m["metric"],
            str(m["n"]),
            f"{m['mean_a']:.4f}",
            f"{m['mean_b']:.4f}",
            f"{m['diff']:+.4f} [{m['diff_ci95'][0]:+.4f}, {m['diff_ci95'][1]:+.4f}]",
            f"{m['p_value']:.4g}",
            m["test"],
            "significant" if m["significant"] else "not significant",
        ]
        for m in result["metrics"]
    ]
    lines = [f"a: {result['a']}", f"b: {result['b']}", f"paired rows: {result['n']} (only in a: {result['only_a']}, only in b: {result['only_b']})", ""]
    lines += _table(header, body, md)
    lines.append(
        f"significant: p < {result['alpha']} for that metric alone "
        f"(McNemar's exact test for 0/1 metrics, a paired bootstrap of {result['bootstrap_samples']} resamples otherwise)"
    )
    return "\n".join(lines)
