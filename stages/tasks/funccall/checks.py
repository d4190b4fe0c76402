"""EdgeFuncCall data checks: the row checks of the gate (stages/tasks/funccall/gate.py), and the
normalisation that ties a call's values to the words of the request.

Row checks (ROW_CHECKS), each a name -> one-line problem when the row fails it:

- `row_format`: the fields of docs/funccall.md with their types; `kind` agrees with the number
  of calls; `accepted` has one entry per call; `mentions` maps "<call>.<path>" to strings. A row
  failing it gets no other check (they would read fields it lacks).
- `tool_known`: every called tool is in the catalogue.
- `tool_offered`: every called tool is among the tools the row offers (the row's file and line
  named when known).
- `tools_match`: every offered tool is the catalogue's, name, description and parameters alike
  (a distractor too: the prompt must show the API as it is).
- `schema_valid`: each call's arguments validate against its tool's parameters (jsonschema,
  the catalogue's format checker on: dates YYYY-MM-DD, times HH:MM).
- `argument_order`: arguments in the order of the tool's properties, required ones first, then
  the optional ones (the canonical answer is one string per row, so training targets agree).
- `grounded`: every leaf value of every call is grounded: `mentions` names the words of the
  request it comes from, those words are in the request (case and spacing aside), and they
  normalise to the value (`grounds`).
- `accepted_canonical`: `accepted` (BFCL's possible-answer form) names the calls' tools, lists
  every parameter of each tool, holds `""` for exactly the parameters the call may leave out (no
  required one), and its values contain each canonical value.

Set checks (SET_CHECKS): `unique_id` (a later row with an id already used), and `leak`: a train
row whose normalised request (`norm`: case, spacing and end punctuation, as EdgeIntent
normalises queries) is also a test row's. The train copy is the one that fails, so the test set
stays as generated.

Normalisation (`grounds`), by the value's schema:

- dates (`format: date`): "2027-03-03", "March 3rd, 2027", "Mar 3 2027", "3 March 2027", "the 3rd
  of March 2027" -> "2027-03-03". No relative dates ("tomorrow"): rows carry no reference day.
- times (a string with the pattern `catalogue.TIME_PATTERN`, HH:MM): "19:30", "7:30 pm", "7:30 p.m.", "7pm", "noon", "midnight" -> "19:30",
  "19:00", "12:00", "00:00". A bare "7" is ambiguous and grounds nothing.
- durations (an integer named `*seconds` or `*minutes`): "2 hours", "1 hour 30 minutes", "an hour
  and a half", "half an hour", "90 seconds" -> the parameter's unit; a bare number is in it.
- numbers: digits with "," thousands and a "$", "€", "£" or "%" around them, or words up to
  ninety-nine ("twenty five").
- booleans: a phrase of BOOL_PHRASES ("turn on" -> true, "unlock" -> false).
- enums: the value itself ("fan_only" as "fan only"), or a phrase of ENUM_PHRASES ("euros" -> EUR).
- strings: the same text, case, spacing and end punctuation aside.

The templates (stages/tasks/funccall/templates.py) may only use boolean and enum phrases these
tables know; tests/code/test_funccall_data.py holds them to that.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from stages.core.text import normalise_text
from stages.tasks.funccall.catalogue import Catalogue, Tool, is_time

KINDS = ("single", "parallel", "none")
SPLITS = ("train", "test")
ROW_CHECKS = ("row_format", "tool_known", "tool_offered", "tools_match", "schema_valid", "argument_order", "grounded", "accepted_canonical")
SET_CHECKS = ("unique_id", "leak")
CHECKS = ROW_CHECKS + SET_CHECKS
ABSENT = ""  # BFCL: among a parameter's accepted values, "may be left out"

# Boolean phrases a mention may carry, normalised (lower case, single spaces).
BOOL_PHRASES: dict[str, bool] = {
    **dict.fromkeys(("on", "turn on", "switch on", "enable", "yes", "true"), True),
    **dict.fromkeys(("off", "turn off", "switch off", "disable", "no", "false"), False),
    **dict.fromkeys(("lock", "locked", "lock up"), True),
    **dict.fromkeys(("unlock", "unlocked", "open up"), False),
    **dict.fromkeys(("urgent", "as urgent", "marked urgent", "flag it urgent", "high priority flag"), True),
    **dict.fromkeys(("every day", "daily", "each day", "repeating every day"), True),
    **dict.fromkeys(("just once", "only once", "one time"), False),
    **dict.fromkeys(("unread", "only unread", "just the unread ones", "unread only"), True),
    **dict.fromkeys(("video", "video call", "on video", "a video call"), True),
    **dict.fromkeys(("voice", "voice call", "a voice call", "audio only"), False),
    **dict.fromkeys(("avoid tolls", "avoiding tolls", "no toll roads", "skip the tolls"), True),
    **dict.fromkeys(("shuffle", "shuffled", "on shuffle", "in random order"), True),
    **dict.fromkeys(("pin it", "pinned", "pin the note"), True),
    **dict.fromkeys(("with pollen", "including pollen", "with pollen levels", "and pollen too"), True),
}

# Enum phrases beyond the value itself, normalised -> value.
ENUM_PHRASES: dict[str, str] = {
    "dollars": "USD",
    "us dollars": "USD",
    "usd": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "eur": "EUR",
    "pounds": "GBP",
    "british pounds": "GBP",
    "gbp": "GBP",
    "pounds sterling": "GBP",
    "by car": "driving",
    "drive": "driving",
    "driving": "driving",
    "on foot": "walking",
    "walk": "walking",
    "walking": "walking",
    "by public transport": "transit",
    "by transit": "transit",
    "by bus": "transit",
    "public transport": "transit",
    "by bike": "cycling",
    "cycling": "cycling",
    "bike": "cycling",
    "gas station": "gas_station",
    "petrol station": "gas_station",
    "gas stations": "gas_station",
    "petrol stations": "gas_station",
    "restaurants": "restaurant",
    "cafes": "cafe",
    "coffee shop": "cafe",
    "coffee shops": "cafe",
    "pharmacies": "pharmacy",
    "parking spot": "parking",
    "parking spots": "parking",
    "chemist": "pharmacy",
    "cheapest first": "price_low",
    "lowest price first": "price_low",
    "price low to high": "price_low",
    "priciest first": "price_high",
    "highest price first": "price_high",
    "price high to low": "price_high",
    "best rated first": "rating",
    "top rated first": "rating",
    "by rating": "rating",
    "most relevant first": "relevance",
    "low priority": "low",
    "high priority": "high",
    "normal priority": "normal",
    "urgent priority": "high",
    "quietly": "quiet",
    "quiet mode": "quiet",
    "turbo mode": "turbo",
    "full power": "turbo",
    "standard mode": "standard",
    "fahrenheit": "fahrenheit",
    "degrees fahrenheit": "fahrenheit",
    "celsius": "celsius",
    "degrees celsius": "celsius",
    "centigrade": "celsius",
    "savings account": "savings",
    "checking account": "checking",
    "credit card": "credit",
    "front door": "front",
    "back door": "back",
    "garage door": "garage",
    "patio door": "patio",
}

NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1}
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
MONTHS = {
    m: i + 1 for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"), ("july", "jul"),
         ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec")]
    ) for m in names
}  # fmt: skip
UNIT_SECONDS = {
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "minute": 60, "minutes": 60, "min": 60, "mins": 60, "second": 1, "seconds": 1, "sec": 1, "secs": 1,
}  # fmt: skip
QUOTE = 60  # characters of a value quoted in a failure




def norm(text: str) -> str:
    """EdgeIntent's definition of "the same query" (stages/core/text.py: normalise_text)."""
    return normalise_text(text)


def norm_enum(text: str) -> str:
    return norm(text.replace("_", " "))


# ---- normalisers: surface text -> value, or None -------------------------------------------------


def parse_number(text: str) -> int | float | None:
    t = norm(text).replace(",", "").strip("$€£% ")
    t = re.sub(r"\s*(percent|per cent)$", "", t)
    if re.fullmatch(r"-?[0-9]+", t):
        return int(t)
    if re.fullmatch(r"-?[0-9]*\.[0-9]+", t):
        return float(t)
    words = t.replace("-", " ").split()
    if len(words) == 1 and words[0] in NUMBER_WORDS and words[0] not in ("a", "an"):
        return NUMBER_WORDS[words[0]]
    if len(words) == 2 and words[0] in TENS and words[1] in NUMBER_WORDS and 1 <= NUMBER_WORDS[words[1]] <= 9 and words[1] not in ("a", "an"):
        return NUMBER_WORDS[words[0]] + NUMBER_WORDS[words[1]]
    return None


def parse_date(text: str) -> str | None:
    t = norm(text).replace(",", " ")
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", t):
        y, m, d = (int(x) for x in t.split("-"))
    else:
        t = re.sub(r"\b([0-9]{1,2})(st|nd|rd|th)\b", r"\1", t)
        words = [w for w in t.split() if w not in ("the", "of", "on")]
        if len(words) != 3 or not words[2].isdigit() or len(words[2]) != 4:
            return None
        if words[0] in MONTHS and words[1].isdigit():
            m, d = MONTHS[words[0]], int(words[1])
        elif words[1] in MONTHS and words[0].isdigit():
            m, d = MONTHS[words[1]], int(words[0])
        else:
            return None
        y = int(words[2])
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_time(text: str) -> str | None:
    t = norm(text).replace(".", "")
    if t in ("noon", "midday", "12 noon"):
        return "12:00"
    if t == "midnight":
        return "00:00"
    m = re.fullmatch(r"([0-9]{1,2})(?::([0-5][0-9]))?\s*(am|pm)?", t)
    if m is None:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif m.group(2) is None or hour > 23:
        return None  # "7" alone: morning or evening?
    return f"{hour:02d}:{minute:02d}"


def _amount(word: str) -> float | None:
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", word):
        return float(word)
    return float(NUMBER_WORDS[word]) if word in NUMBER_WORDS else None


def parse_duration(text: str, unit_seconds: int) -> int | None:
    """A spoken duration in the parameter's unit (1: seconds, 60: minutes), when a whole number of it."""
    t = norm(text).replace("-", " ").replace(",", " ")
    special = {"half an hour": 1800, "half a minute": 30, "an hour and a half": 5400, "a quarter of an hour": 900, "a minute and a half": 90}
    if t in special:
        total = float(special[t])
    elif (n := parse_number(t)) is not None:
        total = float(n) * unit_seconds  # a bare number is in the parameter's own unit
    else:
        words = [w for w in t.split() if w != "and"]
        total, i = 0.0, 0
        if not words:
            return None
        while i < len(words):
            amount = _amount(words[i])
            if amount is None or i + 1 >= len(words) or words[i + 1] not in UNIT_SECONDS:
                return None
            unit = UNIT_SECONDS[words[i + 1]]
            total += amount * unit
            i += 2
            if words[i : i + 2] == ["a", "half"]:
                total += unit / 2
                i += 2
    value = total / unit_seconds
    return int(value) if value == int(value) and value > 0 else None


def duration_unit(name: str) -> int | None:
    """Seconds per unit of an integer parameter named for a duration, else None."""
    if name.endswith("seconds"):
        return 1
    if name.endswith("minutes"):
        return 60
    return None


def same(a: Any, b: Any) -> bool:
    """JSON equality, with booleans never equal to numbers (True == 1 in Python) and 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def grounds(text: str, value: Any, schema: dict[str, Any], name: str) -> bool:
    """Whether the mention `text` normalises to `value`, a leaf of parameter `name` with `schema`."""
    if not isinstance(text, str) or not text.strip():
        return False
    kind = schema.get("type")
    if kind == "boolean":
        return isinstance(value, bool) and BOOL_PHRASES.get(norm(text)) is value
    if "enum" in schema:
        wanted = ENUM_PHRASES.get(norm(text))
        return same(value, wanted) or (isinstance(value, str) and norm_enum(text) == norm_enum(value))
    if schema.get("format") == "date":
        return parse_date(text) == value
    if is_time(schema):
        return parse_time(text) == value
    if kind in ("integer", "number"):
        unit = duration_unit(name) if kind == "integer" else None
        got = parse_duration(text, unit) if unit else parse_number(text)
        return got is not None and same(got, value)
    if kind == "string":
        return isinstance(value, str) and norm(text) == norm(value)
    return False


# ---- arguments ---------------------------------------------------------------------------------


def leaves(arguments: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any], str]]:
    """(path, value, leaf schema, parameter name) of every scalar inside `arguments`: objects by
    key ("ship_to.city"), arrays by index ("rooms.1"), named for the enclosing parameter."""
    props = schema.get("properties", {})
    for key, value in arguments.items():
        yield from _leaves(key, value, props.get(key, {}), key)


def _leaves(path: str, value: Any, schema: dict[str, Any], name: str) -> Iterator[tuple[str, Any, dict[str, Any], str]]:
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, sub in value.items():
            yield from _leaves(f"{path}.{key}", sub, props.get(key, {}), key)
    elif isinstance(value, list):
        item = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        for i, sub in enumerate(value):
            yield from _leaves(f"{path}.{i}", sub, item, name)
    else:
        yield path, value, schema, name


def canonical_order(tool: Tool) -> list[str]:
    """The tool's parameters in canonical order: required ones, then optional ones, each in properties order."""
    required = set(tool.required)
    props = list(tool.properties)
    return [p for p in props if p in required] + [p for p in props if p not in required]


def accepted_form(tool: Tool, arguments: dict[str, Any]) -> dict[str, list[Any]]:
    """BFCL's possible-answer form of one canonical call: every parameter of the tool, in
    canonical order; a given one [value] (an object as [{key: [value]}]), an absent one
    ["", default] or [""] without a default."""
    out: dict[str, list[Any]] = {}
    for param in canonical_order(tool):
        schema = tool.properties[param]
        if param in arguments:
            out[param] = [_accepted_value(arguments[param], schema)]
        else:
            out[param] = [ABSENT, schema["default"]] if "default" in schema else [ABSENT]
    return out


def _accepted_value(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        keys = [k for k in props if k in required] + [k for k in props if k not in required]
        return {
            k: [_accepted_value(value[k], props[k])] if k in value else ([ABSENT, props[k]["default"]] if "default" in props[k] else [ABSENT]) for k in keys
        }
    return value


def _matches(value: Any, alternatives: list[Any]) -> bool:
    """Whether a canonical value is among a parameter's accepted values."""
    for alt in alternatives:
        if isinstance(value, dict) and isinstance(alt, dict):
            if set(value) - set(alt):
                continue
            if all((k in value and _matches(value[k], alt[k])) or (k not in value and ABSENT in alt[k]) for k in alt):
                return True
        elif not isinstance(alt, dict) and same(value, alt):
            return True
    return False


def accepted_failure(tool: Tool, call: dict[str, Any], accepted: dict[str, Any]) -> str | None:
    """Why `accepted` (one possible answer) does not fit the canonical `call` of `tool`, or None."""
    if accepted.get("name") != call["name"]:
        return f"accepted names {accepted.get('name')!r} where the call is {call['name']!r}"
    alts = accepted.get("arguments")
    if not isinstance(alts, dict) or not all(isinstance(v, list) and v for v in alts.values()):
        return f"accepted arguments of {call['name']} are not {{param: [values]}}"
    missing = [p for p in tool.properties if p not in alts]
    if missing:
        return f"accepted {call['name']} does not list parameter {missing[0]!r} (BFCL counts an unlisted argument as wrong)"
    extra = [p for p in alts if p not in tool.properties]
    if extra:
        return f"accepted {call['name']} lists {extra[0]!r}, which the tool does not declare"
    for param, values in alts.items():
        if param in tool.required and any(v == ABSENT for v in values):
            return f"accepted {call['name']}.{param} may be left out, but the tool requires it"
        if param in call["arguments"]:
            if not _matches(call["arguments"][param], values):
                return f"accepted {call['name']}.{param} {json.dumps(values)[:QUOTE]} lacks the canonical {json.dumps(call['arguments'][param])[:QUOTE]}"
        elif ABSENT not in values:
            return f'accepted {call["name"]}.{param} has no "", but the canonical call leaves it out'
    return None


# ---- row checks --------------------------------------------------------------------------------


def format_failure(row: dict[str, Any]) -> str | None:
    """What is wrong with a row's fields, or None."""
    fields = (("id", str), ("source", str), ("domain", str), ("surface", str), ("request", str))
    fields += (("tools", list), ("calls", list), ("accepted", list), ("mentions", dict))
    for key, kind in fields:
        if not isinstance(row.get(key), kind):
            return f"field {key!r} is {type(row.get(key)).__name__ if key in row else 'missing'}; expected {kind.__name__}"
    if row.get("kind") not in KINDS:
        return f"kind {row.get('kind')!r}; expected one of {', '.join(KINDS)}"
    if row.get("split") not in SPLITS:
        return f"split {row.get('split')!r}; expected one of {', '.join(SPLITS)}"
    if not row["request"].strip():
        return "empty request"
    for key in ("tools", "calls", "accepted"):
        if not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in row[key]):
            return f"{key}: expected objects with a string 'name'"
    if not all(isinstance(c.get("arguments"), dict) for c in row["calls"]):
        return "calls: expected each call's 'arguments' to be an object"
    n = len(row["calls"])
    want = "none" if n == 0 else "single" if n == 1 else "parallel"
    if row["kind"] != want:
        return f"kind {row['kind']!r} with {n} call(s); expected {want!r}"
    if len(row["accepted"]) != n:
        return f"{len(row['accepted'])} accepted answer(s) for {n} call(s); expected one per call"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in row["mentions"].items()):
        return "mentions: expected an object of strings"
    return None


def row_failures(row: dict[str, Any], catalogue: Catalogue, where: str | None = None) -> dict[str, str]:
    """check name -> problem for each row check (ROW_CHECKS) `row` fails; `where` (file:line) is quoted by tool_offered."""
    problem = format_failure(row)
    if problem is not None:
        return {"row_format": problem}
    fails: dict[str, str] = {}
    at = where or f"row {row['id']}"
    offered = {t["name"]: t for t in row["tools"]}
    request = " ".join(row["request"].lower().split())
    mentions = row["mentions"]
    for i, call in enumerate(row["calls"]):
        name = call["name"]
        if name not in offered and "tool_offered" not in fails:
            fails["tool_offered"] = f"{at}: call {i} names tool {name!r}, not among the offered tools ({', '.join(offered) or 'none'})"
        tool = catalogue.tools.get(name)
        if tool is None:
            fails.setdefault("tool_known", f"call {i} names tool {name!r}, which the catalogue lacks")
            continue
        args = call["arguments"]
        if (errs := tool.errors(args)) and "schema_valid" not in fails:
            fails["schema_valid"] = f"call {i} ({name}): {errs[0]}" + (f" (and {len(errs) - 1} more)" if len(errs) > 1 else "")
        order = [p for p in canonical_order(tool) if p in args] + [a for a in args if a not in tool.properties]
        if list(args) != order and "argument_order" not in fails:
            fails["argument_order"] = f"call {i} ({name}): arguments {', '.join(args)}; expected {', '.join(order)}"
        for path, value, schema, pname in leaves(args, tool.parameters):
            key = f"{i}.{path}"
            text = mentions.get(key)
            if "grounded" in fails:
                break
            if text is None:
                fails["grounded"] = f"{name}.{path} = {json.dumps(value)[:QUOTE]} has no mention {key!r}"
            elif " ".join(text.lower().split()) not in request:
                fails["grounded"] = f"{name}.{path}: mention {text[:QUOTE]!r} is not in the request"
            elif not grounds(text, value, schema, pname):
                fails["grounded"] = f"{name}.{path}: mention {text[:QUOTE]!r} does not normalise to {json.dumps(value)[:QUOTE]}"
        if i < len(row["accepted"]) and "accepted_canonical" not in fails:
            if (why := accepted_failure(tool, call, row["accepted"][i])) is not None:
                fails["accepted_canonical"] = f"call {i}: {why}"
    for t in row["tools"]:
        tool = catalogue.tools.get(t["name"])
        if tool is None:
            fails["tools_match"] = f"offered tool {t['name']!r} is not in the catalogue"
            break
        if t != tool.row_form():
            fails["tools_match"] = f"offered tool {t['name']!r} differs from the catalogue's ({tool.path.name})"
            break
    return fails


def set_failures(rows: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """check name -> problem per row for the set checks (SET_CHECKS): a later copy of an id, and a
    train row whose normalised request a test row also has."""
    fails: list[dict[str, str]] = [{} for _ in rows]
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        rid = str(row.get("id"))
        if rid in first:
            fails[i]["unique_id"] = f"id {rid!r} already used by row {first[rid] + 1}"
        else:
            first[rid] = i
    test: dict[str, str] = {}
    for row in rows:
        if row.get("split") == "test" and isinstance(row.get("request"), str):
            test.setdefault(norm(row["request"]), str(row.get("id")))
    for i, row in enumerate(rows):
        if row.get("split") == "train" and isinstance(row.get("request"), str) and (other := test.get(norm(row["request"]))) is not None:
            fails[i]["leak"] = f"the same request (normalised) is test row {other}'s"
    return fails


def leaks(train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(train id, test id) of each train row whose normalised request is a test row's."""
    seen = {norm(r["request"]): str(r["id"]) for r in reversed(test)}
    return [(str(r["id"]), seen[n]) for r in train if (n := norm(r["request"])) in seen]
