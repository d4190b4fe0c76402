"""Row-level data checks as pure functions, and the suites that combine them.

Each check takes a row (and its schema entry) and returns a list of problems; empty means
pass. `validate` turns them into DataFrame columns for Great Expectations, `check-data`
runs them on any EdgeJSON-format file.

What the arithmetic check recognises (on any EdgeJSON file, not only ours), in every
object of the expected output:
  * a line-items array: a list of objects that each have a quantity (`quantity`, `qty`) and
    a price (`unit_price`, `price`). An item may carry its own discount, `discount_percentage`
    (or `discount_percent`) percent and/or `discount_amount`: its net amount is
    quantity x price, less that percentage, less that amount. An item's `line_total` (or
    `amount`) must equal its net amount (or, for a discounted item, quantity x price: some
    files show the line before its discount);
  * next to that array: `subtotal` must equal the sum of the net amounts (or, when items are
    discounted, of quantity x price); the total (`total`, `total_amount`, `grand_total`) must
    equal the sum of the net amounts less the order's own `discount_percentage` percent and
    less its `discount_amount`, plus `tax`/`tax_amount` and `shipping`/`shipping_cost`;
  * counts: an integer `<x>_count` next to a list `<x>`, `<x>s` or `<x>es` equals its length;
  * a schema may name its own fields instead, with a top-level annotation
    `"x-arithmetic": {"items": ..., "quantity": ..., "price": ..., "subtotal": ..., "total": ...,
    "tax": ..., "shipping": ..., "discount_percentage": ...}` (any subset but items/quantity/price).
Amounts are compared to the cent, with a tolerance for rounding at each step (a line, its
discount, the sum): a flagged amount is off by more than any rounding convention explains.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from stages.core.catalog import SchemaEntry, entry_of

ROW_CHECKS = ("parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "prompt_length", "clean_labels")
SET_CHECKS = ("unique_prompt", "unique_id")
# The suites a version can be gated by. v2's suite is the historical one: it had no arithmetic
# expectation, which is how the derived-totals defect shipped, and no clean_labels check (its
# templates doubled a group's name into its field labels: "merchant merchant name").
SUITES: dict[str, tuple[str, ...]] = {
    "full": ROW_CHECKS + SET_CHECKS,
    "v2": tuple(c for c in ROW_CHECKS + SET_CHECKS if c not in ("arithmetic", "clean_labels")),
}

DATE_PAIRS = (
    ("start_date", "end_date"), ("start_time", "end_time"), ("start", "end"),
    ("issue_date", "due_date"), ("order_date", "ship_date"), ("ship_date", "delivery_date"),
    ("order_date", "delivery_date"), ("created_at", "updated_at"), ("created_at", "resolved_at"),
    ("admission_date", "discharge_date"), ("check_in", "check_out"), ("valid_from", "valid_until"),
)
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "quantity": ("quantity", "qty"),
    "price": ("unit_price", "price"),
    "line_total": ("line_total", "amount"),
    "subtotal": ("subtotal",),
    "total": ("total", "total_amount", "grand_total"),
    "tax": ("tax", "tax_amount"),
    "shipping": ("shipping", "shipping_cost"),
    "discount_percentage": ("discount_percentage", "discount_percent"),
    "discount_amount": ("discount_amount",),
}

_NUMBER = re.compile(r"(?<![\d.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_LONG_DATE = re.compile(rf"\b({_MONTHS}) (\d{{1,2}}), (\d{{4}})\b")
_SHORT_DATE = re.compile(r"\b(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{4})\b")
_BOOL_WORDS = {True: ("yes", "true", "enabled", "on", "active"), False: ("no", "false", "disabled", "off", "inactive")}
_MAX_DEPTH = 64


def parse_output(value: Any) -> tuple[Any, str | None]:
    """The expected output as an object: rows may carry it as an object or as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            return None, f"expected_output does not parse: {str(exc)[:80]}"
    if not isinstance(value, dict):
        return None, f"expected_output is a {type(value).__name__}, expected an object"
    return value, None


def iter_leaves(obj: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(path, value) for every scalar leaf, paths like `line_items[1].unit_price`."""
    if depth > _MAX_DEPTH:
        raise ValueError("nesting deeper than 64 levels")
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from iter_leaves(v, f"{path}.{k}" if path else str(k), depth + 1)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from iter_leaves(v, f"{path}[{i}]", depth + 1)
    else:
        yield path, obj


def _iter_objects(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _iter_objects(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _iter_objects(v)


class TextIndex:
    """A prompt normalised once: lower-cased text, the numbers in it, and the dates in it (ISO)."""

    def __init__(self, text: str):
        self.text = " ".join(text.lower().split())
        self.numbers = {float(m.replace(",", "")) for m in _NUMBER.findall(self.text)}
        dates = set(_ISO_DATE.findall(self.text))
        for month, day, year in _LONG_DATE.findall(self.text):
            dates.add(_iso(year, month, day))
        for day, mon, year in _SHORT_DATE.findall(self.text):
            dates.add(_iso(year, mon, day))
        self.dates = dates

    def has(self, value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, bool):
            return any(re.search(rf"\b{w}\b", self.text) for w in _BOOL_WORDS[value])
        if isinstance(value, (int, float)):
            return any(math.isclose(value, n, rel_tol=1e-9, abs_tol=1e-9) for n in self.numbers)
        s = " ".join(str(value).lower().split())
        if _ISO_DATE.fullmatch(s) and s in self.dates:
            return True
        return s in self.text


def _iso(year: str, month: str, day: str) -> str:
    m = dt.datetime.strptime(month[:3], "%b").month
    return f"{int(year):04d}-{m:02d}-{int(day):02d}"


def check_grounded(output: dict[str, Any], prompt: str) -> list[str]:
    index = TextIndex(prompt)
    return [f"{p}={v!r} not in text" for p, v in iter_leaves(output) if not index.has(v)]


def _num(obj: dict[str, Any], names: tuple[str, ...]) -> float | None:
    for n in names:
        v = obj.get(n)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def check_arithmetic(output: dict[str, Any], schema: dict[str, Any] | None = None) -> list[str]:
    roles = {k: v for k, v in ROLE_NAMES.items()}
    items_keys: tuple[str, ...] = ()
    note = (schema or {}).get("x-arithmetic")
    if isinstance(note, dict):
        items_keys = (note["items"],) if "items" in note else ()
        for role, field in note.items():
            if role in roles:
                roles[role] = (field,)
    problems: list[str] = []
    for obj in _iter_objects(output):
        for key, value in obj.items():
            if isinstance(value, list):
                problems += _check_items(obj, key, value, roles, items_keys)
            if key.endswith("_count") and isinstance(value, int) and not isinstance(value, bool):
                stem = key[: -len("_count")]
                for cand in (stem, stem + "s", stem + "es"):
                    if isinstance(obj.get(cand), list) and len(obj[cand]) != value:
                        problems.append(f"{key}={value} but {cand} has {len(obj[cand])}")
    return problems


def _line(item: dict[str, Any], roles: dict[str, tuple[str, ...]]) -> tuple[float, float, int] | None:
    """(quantity x price, net amount after the item's own discounts, discount steps) of a line item, or None if it is not one."""
    q, p = _num(item, roles["quantity"]), _num(item, roles["price"])
    if q is None or p is None:
        return None
    gross = q * p
    pct, amount = _num(item, roles["discount_percentage"]), _num(item, roles["discount_amount"])
    net = gross * (1 - (pct or 0.0) / 100) - (amount or 0.0)
    return gross, net, (pct is not None) + (amount is not None)


def _check_items(parent: dict[str, Any], key: str, items: list[Any], roles: dict[str, tuple[str, ...]], items_keys: tuple[str, ...]) -> list[str]:
    if not items or not all(isinstance(i, dict) for i in items):
        return []
    if items_keys and key not in items_keys:
        return []
    lines = [_line(item, roles) for item in items]
    if any(line is None for line in lines):
        return []  # not a line-items array
    problems = []
    gross_sum = net_sum = 0.0
    steps = 0  # roundings to the cent a file may have made along the way (each up to half a cent)
    for n, (item, line) in enumerate(zip(items, lines, strict=True)):
        assert line is not None
        gross, net, discounts = line
        gross_sum += gross
        net_sum += net
        steps += 1 + discounts
        stated = _num(item, roles["line_total"])
        if stated is None:
            continue
        tol = 0.006 + 0.005 * (1 + discounts)
        if abs(stated - net) > tol and not (discounts and abs(stated - gross) <= 0.011):
            what = f"quantity*price {round(gross, 2)}" + (f" less its discount = {round(net, 2)}" if discounts else "")
            problems.append(f"{key}[{n}] line total {stated} != {what}")
    discounted = steps > len(items)  # some item carries its own discount
    tol = 0.015 + 0.005 * steps
    sub = _num(parent, roles["subtotal"])
    if sub is not None and abs(sub - net_sum) > tol and not (discounted and abs(sub - gross_sum) <= tol):
        what = "sum of the discounted lines" if discounted else "sum(quantity*price)"
        problems.append(f"subtotal {sub} != {what} {net_sum:.2f} over {key}")
    total = _num(parent, roles["total"])
    if total is not None:
        pct = _num(parent, roles["discount_percentage"])
        expect = net_sum * (1 - (pct or 0.0) / 100) - (_num(parent, roles["discount_amount"]) or 0.0)
        expect += (_num(parent, roles["tax"]) or 0.0) + (_num(parent, roles["shipping"]) or 0.0)
        if abs(total - expect) > tol + 0.005 * (pct is not None):
            problems.append(f"total {total} != derived {expect:.2f} over {key}")
    return problems


def _parse_when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def check_dates_in_order(output: dict[str, Any]) -> list[str]:
    problems = []
    for obj in _iter_objects(output):
        for first, second in DATE_PAIRS:
            a, b = _parse_when(obj.get(first)), _parse_when(obj.get(second))
            if a is not None and b is not None and b < a:
                problems.append(f"{second} {obj[second]} is before {first} {obj[first]}")
    return problems


# L1 format: what a teacher's answer must not carry into a prompt.
_CHAT_MARKUP = re.compile(r"<\|[a-z_]+\|>|\[/?INST\]|</?s>|</?think>|^\s*(assistant|user|system)\s*:|```", re.IGNORECASE | re.MULTILINE)
_ECHO = ("rewrite the text", "rewritten text", "keep every name", "do not add any new values", "answer with the")


def prompt_text(prompt: str) -> str:
    """The text part of a pipeline prompt (after the instruction line and a blank line)."""
    return prompt.split("\n\n", 1)[1] if "\n\n" in prompt else prompt


def check_format(prompt: str) -> list[str]:
    """L1: non-empty text, no chat markup or code fences, no echo of the teacher's instruction."""
    text = prompt_text(prompt)
    if not text.strip():
        return ["empty text"]
    if m := _CHAT_MARKUP.search(text):
        return [f"chat markup {m.group(0).strip()!r} in the text"]
    low = text.lower()
    if echo := next((e for e in _ECHO if e in low), None):
        return [f"echoes the instruction ({echo!r})"]
    return []


# a word, then the same word after a space, an underscore, a dot or " > " (log keys and paths)
_DOUBLED = re.compile(r"(?<![a-z0-9])([a-z]{3,})(?: |_|\.| > )\1(?![a-z0-9])", re.IGNORECASE)


def check_clean_labels(output: Any, prompt: str) -> list[str]:
    """No word doubled in the text's labels ("merchant merchant name", "gateway gateway serial",
    "order details details"): a word repeated next to itself that no value of the expected
    output contains came from a label, not from the data."""
    values = [v.lower() for _, v in iter_leaves(output) if isinstance(v, str)]
    for m in _DOUBLED.finditer(prompt_text(prompt)):
        if not any(m.group(0).lower() in v for v in values):
            return [f"doubled word in a label: {m.group(0)!r}"]
    return []


def shingles(prompt: str, n: int = 3) -> set[tuple[str, ...]]:
    words = normalise_prompt(prompt_text(prompt)).split()
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def near_duplicates(rows: list[dict[str, Any]], threshold: float = 0.85) -> dict[int, str]:
    """Row index -> the earlier row (same schema) whose text it nearly repeats (word 3-gram Jaccard)."""
    out: dict[int, str] = {}
    seen: dict[str, list[tuple[str, set[tuple[str, ...]]]]] = {}
    for i, r in enumerate(rows):
        sh = shingles(str(r.get("prompt", "")))
        group = seen.setdefault(str(r.get("schema_id")), [])
        for rid, other in group:
            if sh and other and len(sh & other) / len(sh | other) >= threshold:
                out[i] = rid
                break
        group.append((str(r.get("id")), sh))
    return out


# The five-level validator (every row, template or teacher): level -> the checks it is made of.
LEVELS: dict[str, tuple[str, ...]] = {
    "L1_format": ("format", "prompt_length"),
    "L2_schema": ("parses", "schema_valid"),
    "L3_grounding": ("grounded",),
    "L4_semantics": ("arithmetic", "dates_in_order"),
    "L5_uniqueness": ("unique_prompt", "unique_id", "near_duplicate"),
}


def row_levels(row: dict[str, Any], entry: SchemaEntry | None, prompt_chars: tuple[int, int]) -> dict[str, str]:
    """Level -> first problem, for the row-level part of the five levels (L1-L4) that the row fails."""
    fails = row_failures(row, entry, prompt_chars, ROW_CHECKS + ("format",))
    out: dict[str, str] = {}
    for lvl, checks in LEVELS.items():
        if problem := next((fails[c] for c in checks if c in fails), None):
            out[lvl] = problem
    return out


def five_levels(rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], prompt_chars: tuple[int, int]) -> list[dict[str, str]]:
    """Per row, level -> first problem, for the levels it fails (all five, L5 across the rows)."""
    out = [row_levels(r, entry_of(r, catalog), prompt_chars) for r in rows]
    dup = set_failures(rows, ("unique_prompt", "unique_id"))
    near = near_duplicates(rows)
    for i, fails in enumerate(out):
        if dup[i]:
            fails.setdefault("L5_uniqueness", next(iter(dup[i].values())))
        elif i in near:
            fails.setdefault("L5_uniqueness", f"near-duplicate of row {near[i]}")
    return out


def level_rates(rows: list[dict[str, Any]], levels: list[dict[str, str]]) -> dict[str, Any]:
    """Pass rates per level, overall, per source and per schema, plus the all-five pass rate."""

    def rates(idx: list[int]) -> dict[str, float]:
        n = max(1, len(idx))
        r = {lvl: round(sum(1 for i in idx if lvl not in levels[i]) / n, 6) for lvl in LEVELS}
        r["all_levels"] = round(sum(1 for i in idx if not levels[i]) / n, 6)
        r["rows"] = len(idx)
        return r

    by: dict[str, dict[str, list[int]]] = {"source": {}, "schema": {}}
    for i, row in enumerate(rows):
        by["source"].setdefault(str(row.get("source", "template")), []).append(i)
        by["schema"].setdefault(str(row.get("schema_id")), []).append(i)
    return {
        "overall": rates(list(range(len(rows)))),
        "by_source": {k: rates(v) for k, v in sorted(by["source"].items())},
        "by_schema": {k: rates(v) for k, v in sorted(by["schema"].items())},
    }


def normalise_prompt(prompt: str) -> str:
    """For duplicate and leak checks: lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", prompt.lower()).split())


def row_failures(row: dict[str, Any], entry: SchemaEntry | None, prompt_chars: tuple[int, int], suite: tuple[str, ...]) -> dict[str, str]:
    """check name -> first problem, for the row-level checks in `suite` that the row fails."""
    fails: dict[str, str] = {}
    output, err = parse_output(row.get("expected_output"))
    prompt: str = row["prompt"] if isinstance(row.get("prompt"), str) else ""
    if "prompt_length" in suite and not (prompt_chars[0] <= len(prompt) <= prompt_chars[1]):
        fails["prompt_length"] = f"prompt has {len(prompt)} chars, expected {prompt_chars[0]}..{prompt_chars[1]}"
    if err is not None:
        for check in ("parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "clean_labels"):
            if check in suite:
                fails[check] = err
        return fails
    assert output is not None
    if "schema_valid" in suite:
        if entry is None:
            fails["schema_valid"] = f"no schema named {row.get('schema_id')!r} in the catalog"
        else:
            try:
                errs = entry.errors(output)
            except RecursionError:
                errs = ["expected_output is nested too deeply to validate"]
            if errs:
                fails["schema_valid"] = errs[0]
    if "format" in suite and (p := check_format(prompt)):
        fails["format"] = p[0]
    try:
        if "grounded" in suite and (p := check_grounded(output, prompt)):
            fails["grounded"] = p[0]
        if "arithmetic" in suite and (p := check_arithmetic(output, entry.schema if entry else None)):
            fails["arithmetic"] = p[0]
        if "dates_in_order" in suite and (p := check_dates_in_order(output)):
            fails["dates_in_order"] = p[0]
        if "clean_labels" in suite and (p := check_clean_labels(output, prompt)):
            fails["clean_labels"] = p[0]
    except (ValueError, RecursionError) as exc:
        fails["parses"] = f"expected_output unusable: {exc}"
    return fails


def set_failures(rows: list[dict[str, Any]], suite: tuple[str, ...]) -> list[dict[str, str]]:
    """Per row, the set-level checks it fails: a later copy of an earlier prompt or id."""
    seen_prompts: dict[str, Any] = {}
    seen_ids: dict[str, Any] = {}
    out: list[dict[str, str]] = []
    for row in rows:
        fails = {}
        norm = normalise_prompt(str(row.get("prompt", "")))
        rid = str(row.get("id"))
        if "unique_prompt" in suite and norm in seen_prompts:
            fails["unique_prompt"] = f"same text as row {seen_prompts[norm]}"
        if "unique_id" in suite and rid in seen_ids:
            fails["unique_id"] = f"id {rid} used twice"
        seen_prompts.setdefault(norm, rid)
        seen_ids.setdefault(rid, rid)
        out.append(fails)
    return out


def screen(rows: list[dict[str, Any]], catalog: dict[str, SchemaEntry], prompt_chars: tuple[int, int], suite: tuple[str, ...]) -> list[dict[str, str]]:
    """Per row, the checks of `suite` it fails (row checks and set checks)."""
    per_row = [row_failures(r, entry_of(r, catalog), prompt_chars, suite) for r in rows]
    for fails, set_fails in zip(per_row, set_failures(rows, suite), strict=True):
        fails.update(set_fails)
    return per_row
