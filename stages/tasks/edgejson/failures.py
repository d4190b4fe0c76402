"""`slmbench errors models/<m>/predictions.jsonl --data data/v3/test.jsonl --data data/v3/test_unseen.jsonl`:
where a model fails, in numbers.

Every scored row whose answer is not an exact match gets one kind, the first that applies:

| kind | the answer ... |
|---|---|
| `prompt_exceeds_context` | was never generated: the prompt left no room in the context |
| `runaway` | ran to the token cap or was ended by the repetition guard (`finish` length or repeat) |
| `malformed_json` | does not parse as one JSON object |
| `wrong_key_name` | has a key the schema's object lacks that is close to one it misses (`merchant_nam` for `merchant_name`) |
| `key_missing_or_extra` | lacks an expected key or adds one, at any depth |
| `array_item_dropped` | has an array shorter than the expected one |
| `derived_number_wrong` | differs in a derived figure: a total, subtotal, tax, line total or `*_count` |
| `date_or_format_rewritten` | differs in a date, time or formatted string that means the same value (another date format, case, spacing) |
| `scalar_copy_slip` | differs in any other leaf value: a value copied wrongly from the text |

The counts are per split (`test_seen`, `test_unseen`), tier and kind, for each variant and
decoding in the predictions, with one example row id per kind. The expected answers come from
the `--data` files (the rows the predictions were scored on), matched by row id.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.tasks.edgejson.checks import ROLE_NAMES
from stages.tasks.edgejson.scoring import canonical, parse_prediction

KINDS = (
    "prompt_exceeds_context",
    "runaway",
    "malformed_json",
    "wrong_key_name",
    "key_missing_or_extra",
    "array_item_dropped",
    "derived_number_wrong",
    "date_or_format_rewritten",
    "scalar_copy_slip",
)
DERIVED = frozenset(n for role in ("line_total", "subtotal", "total", "tax") for n in ROLE_NAMES[role])
CLOSE = 0.75  # difflib ratio above which an extra key is a misspelling of a missing one


def _walk(expected: Any, got: Any, path: str, out: dict[str, list[str]]) -> None:
    """Collect the differences between two parsed values, by kind, with their paths."""
    if isinstance(expected, dict) and isinstance(got, dict):
        missing, extra = set(expected) - set(got), set(got) - set(expected)
        close = [(e, m) for e in sorted(extra) for m in sorted(missing) if difflib.SequenceMatcher(None, e.lower(), m.lower()).ratio() >= CLOSE]
        for e, m in close:
            out["wrong_key_name"].append(f"{path}{e} for {m}")
        named = {e for e, _ in close} | {m for _, m in close}
        out["key_missing_or_extra"] += [f"{path}{k}" for k in sorted((missing | extra) - named)]
        for k in sorted(set(expected) & set(got)):
            _walk(expected[k], got[k], f"{path}{k}.", out)
        return
    if isinstance(expected, list) and isinstance(got, list):
        if len(got) < len(expected):
            out["array_item_dropped"].append(f"{path.rstrip('.')}: {len(got)} of {len(expected)} items")
        for i, (e, g) in enumerate(zip(expected, got, strict=False)):
            _walk(e, g, f"{path.rstrip('.')}[{i}].", out)
        return
    if canonical(expected) == canonical(got):
        return
    key = path.rstrip(".").split(".")[-1].split("[")[0]
    where = path.rstrip(".")
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and (key in DERIVED or key.endswith("_count")):
        out["derived_number_wrong"].append(where)
    elif isinstance(expected, str) and isinstance(got, str) and _same_meaning(expected, got):
        out["date_or_format_rewritten"].append(where)
    else:
        out["scalar_copy_slip"].append(where)


def _as_date(s: str) -> dt.date | None:
    s = s.strip()
    for fmt in ("%Y-%m-%d", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%m/%d/%Y", "%Y/%m/%d", "%b %d, %Y"):
        try:
            return dt.datetime.strptime(s[:10] if fmt == "%Y-%m-%d" else s, fmt).date()
        except ValueError:
            continue
    return None


def _same_meaning(expected: str, got: str) -> bool:
    """Two strings that name one value in two forms: one date in two formats, or the same text
    up to case, spacing and punctuation (a phone number, an id, a time)."""
    d1, d2 = _as_date(expected), _as_date(got)
    if d1 is not None and d1 == d2:
        return True
    norm = lambda s: re.sub(r"[\W_]+", "", s.lower())  # noqa: E731
    return norm(expected) == norm(got) and norm(expected) != ""


def classify(text: Any, finish: str, expected: Any) -> tuple[str, str] | None:
    """(kind, detail) of a failed answer, None when the answer equals the expected output."""
    if finish == "prompt_exceeds_context":
        return "prompt_exceeds_context", "no answer"
    if finish in ("length", "repeat"):
        return "runaway", f"finish {finish}"
    pred = parse_prediction(text)
    if pred.value is None:
        return "malformed_json", str(pred.error)
    if canonical(pred.value) == canonical(expected):
        return None
    found: dict[str, list[str]] = defaultdict(list)
    _walk(expected, pred.value, "", found)
    for kind in KINDS:
        if found.get(kind):
            return kind, "; ".join(found[kind][:3])
    return "scalar_copy_slip", "differs"


def summarize(predictions: list[dict[str, Any]], expected: dict[str, Any]) -> dict[str, Any]:
    """{"<variant>/<decoding>": {"<split>": {"rows", "failed", "kinds": {kind: {"count", "by_tier", "example"}}}}}."""
    out: dict[str, Any] = {}
    for p in predictions:
        rid = str(p["id"])
        if rid not in expected:
            raise SLMBenchError(f"prediction for row {rid!r}: no such row in the --data files; expected the files the predictions were scored on")
        side = out.setdefault(f"{p['variant']}/{p['decoding']}", {})
        split = side.setdefault(str(p.get("split", "test_seen")), {"rows": 0, "failed": 0, "kinds": {}})
        split["rows"] += 1
        verdict = classify(p.get("prediction"), str(p.get("finish", "stop")), expected[rid])
        if verdict is None:
            continue
        kind, detail = verdict
        split["failed"] += 1
        k = split["kinds"].setdefault(kind, {"count": 0, "by_tier": Counter(), "example": {"id": rid, "detail": detail}})
        k["count"] += 1
        k["by_tier"][str(p.get("tier"))] += 1
    for side in out.values():
        for split in side.values():
            split["kinds"] = {
                k: dict(v, by_tier=dict(sorted(v["by_tier"].items()))) for k, v in sorted(split["kinds"].items(), key=lambda kv: KINDS.index(kv[0]))
            }
    return out


def render(summary: dict[str, Any]) -> str:
    lines = []
    for side, splits in sorted(summary.items()):
        for split, s in sorted(splits.items(), key=lambda kv: kv[0] != "test_unseen"):
            lines.append(f"{side} on {split}: {s['failed']} of {s['rows']} rows failed")
            for kind, k in s["kinds"].items():
                tiers = ", ".join(f"{t} {n}" for t, n in k["by_tier"].items())
                lines.append(f"  {kind:<26} {k['count']:>4}  ({tiers})  e.g. {k['example']['id']}: {k['example']['detail'][:100]}")
    return "\n".join(lines)


def main(predictions: Path, data: list[Path]) -> dict[str, Any]:
    from stages.core.records import jsonl_objects, read_rows

    predictions = Path(predictions)
    if predictions.is_dir() or not predictions.is_file():
        raise SLMBenchError(f"{predictions}: expected a predictions JSONL file (the evaluate stage writes models/<model>/predictions.jsonl)")
    preds = []
    try:
        text = predictions.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SLMBenchError(f"{predictions}: cannot be read ({exc}); expected a predictions JSONL file") from None
    for lineno, row in jsonl_objects(text, str(predictions)):
        missing = [k for k in ("id", "variant", "decoding", "prediction") if k not in row]
        if missing:
            raise SLMBenchError(f"{predictions}:{lineno}: a prediction without {', '.join(missing)}; expected a file written by `slmbench task-evaluate --task edgejson --evaluation release`")
        preds.append(row)
    if not data:
        raise SLMBenchError("--data: expected the test JSONL file(s) the predictions were scored on, e.g. data/v3/test.jsonl")
    expected = {str(r["id"]): r["expected_output"] for f in data for r in read_rows(Path(f))}
    return summarize(preds, expected)
