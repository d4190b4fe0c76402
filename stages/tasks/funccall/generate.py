"""EdgeFuncCall's generator: requests for calls of the tool catalogue (tools/), with their canonical
calls, BFCL-style accepted answers and the words each value comes from. Pure and seeded.

Row `i` (id `fc-0000i`) is made from `(seed, i)`:

- its split and kind come from two low-discrepancy sequences over `i` (golden-ratio and
  sqrt(2) steps from seeded offsets): a test row when the first is below `test_fraction`; a
  no-call row below `none_share` of the second, a two-call row in the next `parallel_share`, else
  one call. Any prefix of the rows holds these shares closely (not just in expectation), so even
  small runs have the mix asked for.
- the tools called come from a seeded cycle over the catalogue per split (reshuffled each round),
  so every tool gets its share of train and test rows (the gate's coverage check); a no-call row's
  tool, the one asked for but not offered, comes from a cycle of its own.
- everything else comes from one Faker reseeded with a 64-bit hash of (seed, i): its `random`
  draws the surface, templates, values and distractors. Names and cities are drawn from pools
  Faker fills once per run (Faker's weighted name and city providers take ~0.1 ms a call; a pool
  pick takes ~1 us), the order numbers from Faker per row.

So the same arguments give a byte-identical file, and more rows extend it: the first n rows of a
longer run are the rows of a run of n (the cycles and sequences only look back). Rows are written
with their keys in the order built (`write_call_rows`), not sorted, so each call's arguments keep
their canonical order: required parameters, then optional ones, each in `properties` order.

Templates (stages/tasks/funccall/templates.py) are split, not rows: per tool and form, a
deterministic share of the templates (`test_fraction` of them, at least one, and one left for
train) is test-only, by the SHA-256 of tool and text. Test rows use only test templates, train
rows only train ones, so no request text is in both splits, and the test set measures phrasing
the model did not train on.

A request is one template per call; two-call rows join two ("... and also ..."), sometimes of one
tool twice (BFCL's parallel). A template is filled with values whose surface text may need
normalising ("March 3rd, 2027" for 2027-03-03, "7:30 pm" for 19:30, "2 hours" for 7200 seconds,
"turn off" for false); each leaf's text is recorded in `mentions` for the grounding check.
Optional parameters are mentioned in about a third of the templates that have a segment for them,
with a value other than the default; the canonical call has them only then, and `accepted` lists
every parameter of the tool, `["", default]` for those left out (checks.accepted_form). The
surface then wraps the sentence: `imperative` and `question` as they are, `indirect` an
imperative inside "I was wondering if you could ...", `filler` either form after "hey, um, so".

Offered tools: the called ones plus `distractors` (min, max) others, in a seeded shuffled order.
In `similar_share` of the rows one distractor is a look-alike (`similar_tools`): a tool whose name
shares a word with a called one, the same domain first (set_timer -> set_alarm, send_message ->
send_email), else one of its domain (lock_door -> set_lights). A no-call row offers the same
number of tools, all from other domains than the requested tool's, its look-alike (if drawn) one
whose name shares a word (send_money asked, send_message offered).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from faker import Faker

from stages.core.errors import SLMBenchError
from stages.tasks.funccall.catalogue import Catalogue, Tool, is_time
from stages.tasks.funccall.checks import BOOL_PHRASES, ENUM_PHRASES, accepted_form, canonical_order, duration_unit, norm, norm_enum
from stages.tasks.funccall.templates import TEMPLATES, WORDS, ToolTemplates

SOURCE = "edgefunccall"
TRAIN, TEST = "train", "test"
SINGLE, PARALLEL, NONE = "single", "parallel", "none"
FORMS = ("imperative", "question")
# Surface -> the template forms it wraps.
SURFACES: dict[str, tuple[str, ...]] = {"imperative": ("imperative",), "question": ("question",), "indirect": ("imperative",), "filler": FORMS}
INDIRECT = (
    "I was wondering if you could {x}.", "Could you {x} for me?", "I'd like you to {x}.", "When you get a chance, {x}.", "Would you please {x}?",
    "Do you think you could {x}?",
)  # fmt: skip
FILLER = ("hey, um, so {x}", "okay so, uh, {x}", "hmm, right, {x}", "so yeah, {x}", "uh, hi, {x}", "um, {x}", "right, so {x}")
JOINERS = (" and also ", ", and then ", ", and ", ". Also, ")
OPTIONAL_SHARE = 0.35  # of the templates with a segment for an optional parameter, the share that mention it
SAME_TOOL_SHARE = 0.25  # of two-call rows, the share calling one tool twice (tools with a required parameter)
POOL_SIZE = 256  # Faker names and cities drawn once per run
STEPS = {"split": 0.6180339887498949, "kind": 0.41421356237309515}  # golden ratio and sqrt(2) - 1
DATE_RANGE = (dt.date(2026, 1, 1), dt.date(2028, 12, 31))
WORDY = ("days", "count", "quantity", "limit")  # value makers whose small numbers may be spelled out
MONEY = ("amount", "price")  # value makers of money: two decimals when not whole
NUMBER_NAMES = "zero one two three four five six seven eight nine ten eleven twelve".split()
NUMBER_NAMES += "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")
TOKEN = re.compile(r"\[([^\[\]|]*)(?:\|([^\[\]]*))?\]|\{([a-z_]+(?:\.[a-z_]+)?)\}")
SLOT = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")
TEMPLATES_FILE = "stages/tasks/funccall/templates.py"


def unit_hash(*parts: Any) -> float:
    """A number in [0, 1) from the parts, stable across Python runs (no `hash()` salt)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def row_seed(seed: int, index: int) -> int:
    digest = hashlib.sha256(f"funccall:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def row_id(index: int) -> str:
    return f"fc-{index:05d}"


# ---- templates ---------------------------------------------------------------------------------

Part = tuple[Any, ...]  # ("text", str) | ("slot", path) | ("seg", param, parts, else text)


@dataclass(frozen=True)
class Template:
    tool: str
    form: str
    text: str
    parts: tuple[Part, ...]
    always: tuple[str, ...]  # parameters with a slot outside any segment
    optional: tuple[str, ...]  # parameters with a segment


def parse_template(tool: str, form: str, text: str) -> Template:
    parts: list[Part] = []
    always: list[str] = []
    optional: list[str] = []
    pos = 0
    for m in TOKEN.finditer(text):
        if m.start() > pos:
            parts.append(("text", text[pos : m.start()]))
        if m.group(3):
            parts.append(("slot", m.group(3)))
            always.append(m.group(3).split(".")[0])
        else:
            inner, other = m.group(1), m.group(2) or ""
            slots = SLOT.findall(inner)
            params = sorted({s.split(".")[0] for s in slots})
            if len(params) != 1:
                raise SLMBenchError(f"{TEMPLATES_FILE}: {tool}: template {text!r}: a segment must hold slots of exactly one parameter, got {params or 'none'}")
            sub: list[Part] = []
            p = 0
            for s in SLOT.finditer(inner):
                if s.start() > p:
                    sub.append(("text", inner[p : s.start()]))
                sub.append(("slot", s.group(1)))
                p = s.end()
            if p < len(inner):
                sub.append(("text", inner[p:]))
            parts.append(("seg", params[0], tuple(sub), other))
            optional.append(params[0])
        pos = m.end()
    if pos < len(text):
        parts.append(("text", text[pos:]))
    plain = "".join(p[1] for p in parts if p[0] == "text") + "".join(s[1] for p in parts if p[0] == "seg" for s in p[2] if s[0] == "text")
    if any(c in plain for c in "{}[]|"):
        raise SLMBenchError(f"{TEMPLATES_FILE}: {tool}: template {text!r}: unbalanced slot or segment brackets")
    return Template(tool, form, text, tuple(parts), tuple(dict.fromkeys(always)), tuple(dict.fromkeys(optional)))


def _slot_schema(tool: Tool, path: str) -> dict[str, Any] | None:
    top, _, key = path.partition(".")
    schema = tool.properties.get(top)
    if schema is None or not key:
        return schema
    return (schema.get("properties") or {}).get(key)


def compile_templates(catalogue: Catalogue) -> dict[str, list[Template]]:
    """Every tool's templates, parsed and checked against the catalogue; one line for the first problem."""
    unknown = sorted(set(TEMPLATES) - set(catalogue.tools))
    if unknown:
        raise SLMBenchError(f"{TEMPLATES_FILE}: templates for {unknown[0]!r}, which the catalogue ({catalogue.root}) lacks")
    out: dict[str, list[Template]] = {}
    for name, tool in catalogue.tools.items():
        spec = TEMPLATES.get(name)
        if spec is None:
            raise SLMBenchError(f"{TEMPLATES_FILE}: no templates for tool {name!r} ({tool.path}); expected at least two per form")
        where = f"{TEMPLATES_FILE}: {name}"
        templates = [parse_template(name, form, text) for form in FORMS for text in getattr(spec, form)]
        for form in FORMS:
            texts = getattr(spec, form)
            if len(texts) < 2 or len(set(texts)) != len(texts):
                raise SLMBenchError(f"{where}: {len(set(texts))} distinct {form} template(s); expected 2 or more, so both splits get one")
        for t in templates:
            for path in [p[1] for p in t.parts if p[0] == "slot"] + [s[1] for p in t.parts if p[0] == "seg" for s in p[2] if s[0] == "slot"]:
                if _slot_schema(tool, path) is None:
                    raise SLMBenchError(f"{where}: template {t.text!r}: slot {{{path}}} is not a parameter of the tool")
            missing = [p for p in tool.required if p not in t.always]
            if missing:
                raise SLMBenchError(f"{where}: template {t.text!r} has no slot for required parameter {missing[0]!r}")
            bad = [p for p in t.optional if p in tool.required]
            if bad:
                raise SLMBenchError(f"{where}: template {t.text!r}: required parameter {bad[0]!r} in an optional segment")
            for param in sorted(set(t.always) | set(t.optional)):
                _check_phrases(tool, spec, param, param in tool.required or param in t.always, where)
        for path, key in spec.values.items():
            if key not in VALUES:
                raise SLMBenchError(f"{where}: values[{path!r}] = {key!r}; expected one of {', '.join(sorted(VALUES))}")
        out[name] = templates
    return out


def _check_phrases(tool: Tool, spec: ToolTemplates, param: str, any_value: bool, where: str) -> None:
    """A boolean or enum slot needs phrases the grounding check reads back as the value."""
    schema = tool.properties[param]
    if schema.get("type") == "boolean":
        values: list[Any] = [True, False] if any_value else [not schema.get("default", False)]
        for v in values:
            for phrase in spec.phrases.get(param, {}).get(v, ()) or (None,):
                if phrase is None or BOOL_PHRASES.get(norm(phrase)) is not v:
                    want = str(v).lower()
                    raise SLMBenchError(f"{where}: boolean {param} = {want} needs phrases that checks.BOOL_PHRASES reads as {want}, got {phrase!r}")
    elif "enum" in schema:
        for v, phrases in spec.phrases.get(param, {}).items():
            for phrase in phrases:
                if ENUM_PHRASES.get(norm(phrase)) != v and norm_enum(phrase) != norm_enum(str(v)):
                    raise SLMBenchError(f"{where}: enum {param} phrase {phrase!r} does not read back as {v!r} (checks.ENUM_PHRASES)")


def split_templates(templates: dict[str, list[Template]], test_fraction: float) -> dict[tuple[str, str, str], list[Template]]:
    """(tool, form, split) -> templates: per tool and form, round(n * test_fraction) of them (at
    least one, and at least one left for train) are test-only, the first by SHA-256 of tool and text."""
    out: dict[tuple[str, str, str], list[Template]] = {}
    for name, ts in templates.items():
        for form in FORMS:
            mine = sorted((t for t in ts if t.form == form), key=lambda t: hashlib.sha256(f"{name}\0{t.text}".encode()).hexdigest())
            n_test = 0 if test_fraction <= 0 else max(1, min(len(mine) - 1, round(len(mine) * test_fraction)))
            out[(name, form, TEST)] = mine[:n_test]
            out[(name, form, TRAIN)] = mine[n_test:]
    return out


# ---- values and their surface text ---------------------------------------------------------------


def _money(rng: random.Random) -> int | float:
    if rng.random() < 0.55:
        return rng.randint(5, 300)
    v = round(rng.randint(500, 30000) / 100, 2)
    return int(v) if v == int(v) else v


def _half(v: float) -> int | float:
    return int(v) if v == int(v) else v


TIMER_SECONDS = (30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 720, 900, 1200, 1500, 1800, 2400, 2700, 3600, 4500, 5400, 7200, 10800)

ValueMaker = Callable[["RowMaker", random.Random], Any]
VALUES: dict[str, ValueMaker] = {
    "city": lambda m, rng: rng.choice(m.cities),
    "first_name": lambda m, rng: rng.choice(m.first_names),
    "full_name": lambda m, rng: rng.choice(m.full_names),
    "place": lambda m, rng: rng.choice(m.cities) if rng.random() < 0.6 else rng.choice(WORDS["place"]),
    "order_id": lambda m, rng: m.fake.bothify("??######", letters=string.ascii_uppercase),
    "timer_seconds": lambda m, rng: rng.choice(TIMER_SECONDS),
    "event_minutes": lambda m, rng: rng.choice((15, 20, 30, 45, 90, 120, 150, 180)),
    "share_minutes": lambda m, rng: rng.choice((10, 15, 20, 30, 45, 60, 90, 120, 180, 240)),
    "snooze_minutes": lambda m, rng: rng.randint(1, 30),
    "days": lambda m, rng: rng.randint(2, 7),
    "count": lambda m, rng: rng.randint(2, 20),
    "quantity": lambda m, rng: rng.randint(2, 12),
    "limit": lambda m, rng: rng.randint(3, 25),
    "brightness": lambda m, rng: rng.randrange(10, 100, 10),
    "percent": lambda m, rng: rng.randrange(10, 100, 10),
    "level": lambda m, rng: rng.randrange(0, 101, 5),
    "episode": lambda m, rng: rng.randint(1, 250),
    "amount": lambda m, rng: _money(rng),
    "price": lambda m, rng: rng.choice((10, 15, 20, 25, 30, 50, 75, 100, 150, 200, 19.99, 49.99)),
    "temperature": lambda m, rng: _half(rng.randrange(32, 57) / 2),
    "radius": lambda m, rng: rng.choice((0.5, 1, 1.5, 3, 5, 10, 20)),
}


def _pick(words: tuple[str, ...]) -> ValueMaker:
    return lambda m, rng: rng.choice(words)


VALUES.update({key: _pick(words) for key, words in WORDS.items() if key != "place"})


def say_int(n: int, rng: random.Random, wordy: bool) -> str:
    if wordy and 0 <= n <= 20 and rng.random() < 0.3:
        return NUMBER_NAMES[n]
    return str(n)


def say_date(iso: str, rng: random.Random) -> str:
    d = dt.date.fromisoformat(iso)
    month = MONTH_NAMES[d.month - 1]
    nth = f"{d.day}{'th' if 11 <= d.day <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d.day % 10, 'th')}"
    forms = (iso, f"{month} {nth}, {d.year}", f"{month} {d.day}, {d.year}", f"{d.day} {month} {d.year}", f"the {nth} of {month} {d.year}",
             f"{month[:3]} {d.day} {d.year}")  # fmt: skip
    return rng.choices(forms, weights=(2, 3, 2, 2, 1, 1))[0]


def say_time(hhmm: str, rng: random.Random) -> str:
    h, m = (int(x) for x in hhmm.split(":"))
    if (h, m) == (12, 0) and rng.random() < 0.4:
        return "noon"
    if (h, m) == (0, 0) and rng.random() < 0.4:
        return "midnight"
    h12, half = h % 12 or 12, "am" if h < 12 else "pm"
    forms = [hhmm, f"{h12}:{m:02d} {half}", f"{h12}:{m:02d}{half}", f"{h12}:{m:02d} {half.upper()}", f"{h12}:{m:02d} {half[0]}.m."]
    if m == 0:
        forms += [f"{h12} {half}", f"{h12}{half}", f"{h12} {half[0]}.m."]
    return rng.choice(forms)


def _count(n: int, unit: str, rng: random.Random) -> str:
    if n == 1:
        return rng.choice((f"1 {unit}", f"an {unit}" if unit == "hour" else f"a {unit}", f"one {unit}"))
    return f"{say_int(n, rng, True)} {unit}s"


def say_duration(value: int, unit_seconds: int, rng: random.Random) -> str:
    """A spoken duration of `value` units (1: seconds, 60: minutes); checks.parse_duration reads it back."""
    total = value * unit_seconds
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    forms: list[str] = []
    if total % 3600 == 0:
        forms.append(_count(hours, "hour", rng))
    if total % 60 == 0 and total <= 10800:
        forms.append(_count(total // 60, "minute", rng))
    if hours and minutes and not seconds:
        forms += [f"{_count(hours, 'hour', rng)} {_count(minutes, 'minute', rng)}", f"{_count(hours, 'hour', rng)} and {_count(minutes, 'minute', rng)}"]
    special = {1800: "half an hour", 5400: "an hour and a half", 90: "a minute and a half", 900: "a quarter of an hour", 30: "half a minute"}
    if total in special:
        forms.append(special[total])
    if unit_seconds == 1 and (total % 60 or total <= 300):
        forms.append(f"{total} seconds")
    return rng.choice(forms)


def say_number(value: int | float, key: str | None, rng: random.Random) -> str:
    if isinstance(value, int):
        return say_int(value, rng, key in WORDY)
    return f"{value:.2f}" if key in MONEY else f"{value:g}"


def say_list(items: list[str], rng: random.Random) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    comma = "," if rng.random() < 0.3 else ""
    return ", ".join(items[:-1]) + f"{comma} and {items[-1]}"


def lower_first(text: str) -> str:
    if not text or text.startswith(("I ", "I'")):
        return text
    return text[0].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---- rows --------------------------------------------------------------------------------------


class _Cycle:
    """Tool names in a seeded order, reshuffled each round: every name once per round."""

    def __init__(self, names: list[str], key: str):
        self.names, self.key, self.round, self.pos = list(names), key, -1, 0
        self.order: list[str] = []

    def next(self) -> str:
        if self.pos >= len(self.order):
            self.round += 1
            self.order = list(self.names)
            random.Random(f"{self.key}:{self.round}").shuffle(self.order)
            self.pos = 0
        self.pos += 1
        return self.order[self.pos - 1]


def _tokens(name: str) -> set[str]:
    return set(name.split("_")) - {"to", "the", "a"}


def similar_tools(catalogue: Catalogue) -> dict[str, list[list[str]]]:
    """Tool -> its look-alikes in tiers, best first: the same domain's tools whose name shares a
    word with it (set_timer: set_alarm), other domains' (send_money: send_message), then the rest
    of its domain (lock_door: set_lights), for tools whose name shares nothing."""
    out: dict[str, list[list[str]]] = {}
    for a, ta in catalogue.tools.items():
        others = [b for b in catalogue.tools if b != a]
        named = [b for b in others if _tokens(a) & _tokens(b)]
        out[a] = [
            [b for b in named if catalogue.tools[b].domain == ta.domain],
            [b for b in named if catalogue.tools[b].domain != ta.domain],
            [b for b in others if b not in named and catalogue.tools[b].domain == ta.domain],
        ]
    return out


def check_recipe(
    rows: int, test_fraction: float, none_share: float, parallel_share: float, distractors: tuple[int, int], similar_share: float, surfaces: list[str]
) -> None:
    """The recipe makes sense, else one line naming the parameter."""
    if rows < 1:
        raise SLMBenchError(f"funccall generate: rows is {rows}; expected 1 or more")
    for key, v in (("test_fraction", test_fraction), ("none_share", none_share), ("parallel_share", parallel_share), ("similar_share", similar_share)):
        if not 0.0 <= v < 1.0:
            raise SLMBenchError(f"funccall generate: {key} is {v}; expected a share in [0, 1)")
    if none_share + parallel_share >= 1.0:
        raise SLMBenchError(f"funccall generate: none_share + parallel_share is {none_share + parallel_share}; expected below 1")
    if len(distractors) != 2 or not 0 <= distractors[0] <= distractors[1]:
        raise SLMBenchError(f"funccall generate: distractors is {list(distractors)}; expected [min, max] with 0 <= min <= max")
    unknown = [s for s in surfaces if s not in SURFACES]
    if not surfaces or unknown:
        raise SLMBenchError(f"funccall generate: surfaces {surfaces}; expected one or more of {', '.join(SURFACES)}")


class RowMaker:
    """Makes the rows of one recipe, in order; holds one Faker, reseeded per row (creating Fakers is slow)."""

    def __init__(
        self, catalogue: Catalogue, *, seed: int, test_fraction: float, none_share: float, parallel_share: float,
        distractors: tuple[int, int], similar_share: float, surfaces: list[str],
    ):  # fmt: skip
        check_recipe(1, test_fraction, none_share, parallel_share, distractors, similar_share, surfaces)
        self.catalogue, self.seed, self.test_fraction = catalogue, seed, test_fraction
        self.none_share, self.parallel_share, self.distractors, self.similar_share = none_share, parallel_share, tuple(distractors), similar_share
        self.surfaces = list(surfaces)
        self.templates = split_templates(compile_templates(catalogue), test_fraction)
        self.similar = similar_tools(catalogue)
        self.names = list(catalogue.tools)
        self.offsets = {k: unit_hash(seed, "stream", k) for k in STEPS}
        self.cycles = {(split, what): _Cycle(self.names, f"{seed}:{split}:{what}") for split in (TRAIN, TEST) for what in ("call", "none")}
        self.fake = Faker("en_US")
        self.cities = self._pool("city", self.fake.city)
        self.first_names = self._pool("first_name", self.fake.first_name)
        self.full_names = self._pool("full_name", lambda: f"{self.fake.first_name()} {self.fake.last_name()}")
        self.counts: Counter[str] = Counter()  # rows offered a similar-named distractor, mentions of optional parameters

    def _pool(self, name: str, make: Callable[[], str]) -> list[str]:
        self.fake.seed_instance(row_seed(self.seed, -1) ^ int(unit_hash(name) * 2**32))
        seen: dict[str, None] = {}
        for _ in range(POOL_SIZE * 4):
            seen.setdefault(make(), None)
            if len(seen) >= POOL_SIZE:
                break
        return list(seen)

    def stream(self, index: int, key: str) -> float:
        return (self.offsets[key] + (index + 1) * STEPS[key]) % 1.0

    def rows(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            yield self.make(i)

    def make(self, index: int) -> dict[str, Any]:
        """Row `index`; rows must be made in order (the tool cycles look back)."""
        self.fake.seed_instance(row_seed(self.seed, index))
        rng = self.fake.random
        split = TEST if self.stream(index, "split") < self.test_fraction else TRAIN
        u = self.stream(index, "kind")
        kind = NONE if u < self.none_share else PARALLEL if u < self.none_share + self.parallel_share else SINGLE
        surface = rng.choice(self.surfaces)
        form = rng.choice(SURFACES[surface])
        if kind == NONE:
            names = [self.cycles[(split, "none")].next()]
        else:
            names = [self.cycles[(split, "call")].next()]
            if kind == PARALLEL:
                first = names[0]
                if self.catalogue.tools[first].required and rng.random() < SAME_TOOL_SHARE:
                    names.append(first)
                else:
                    second = self.cycles[(split, "call")].next()
                    names.append(second if second != first else self.cycles[(split, "call")].next())
        texts, calls, mentions = [], [], {}
        for ci, name in enumerate(names):
            pool = self.templates[(name, form, split)] or self.templates[(name, FORMS[1 - FORMS.index(form)], split)]
            text, args, said = self.fill(rng, self.catalogue.tools[name], rng.choice(pool))
            texts.append(text)
            calls.append({"name": name, "arguments": args})
            mentions.update({f"{ci}.{path}": s for path, s in said.items()})
        request = self.finish(rng, texts, form, surface)
        offered = self.offer(rng, names, kind)
        tools = [self.catalogue.tools[t].row_form() for t in offered]
        if kind == NONE:
            calls = []
            mentions = {}
        for key, s in list(mentions.items()):  # the request's own spelling of each mention (case may differ at its start)
            if s not in request and (at := request.lower().find(s.lower())) >= 0:
                mentions[key] = request[at : at + len(s)]
        return {
            "id": row_id(index),
            "source": SOURCE,
            "domain": self.catalogue.tools[names[0]].domain,
            "kind": kind,
            "surface": surface,
            "split": split,
            "request": request,
            "tools": tools,
            "calls": calls,
            "accepted": [{"name": c["name"], "arguments": accepted_form(self.catalogue.tools[c["name"]], c["arguments"])} for c in calls],
            "mentions": mentions,
        }

    def value(self, rng: random.Random, tool: Tool, path: str, schema: dict[str, Any], key: str | None) -> Any:
        """A value for the parameter (or object key) at `path` from its maker, else from its schema."""
        kind = schema.get("type")
        if kind == "array":
            item = schema.get("items", {})
            n = rng.randint(max(1, schema.get("minItems", 1)), 3)
            items: list[Any] = []
            for _ in range(n * 4):
                v = self.value(rng, tool, path, item, key)
                if v not in items:
                    items.append(v)
                if len(items) == n:
                    break
            return items
        if kind == "object":
            props, required = schema.get("properties", {}), schema.get("required", [])
            spec = TEMPLATES[tool.name]
            return {k: self.value(rng, tool, f"{path}.{k}", props[k], spec.values.get(f"{path}.{k}")) for k in props if k in required}
        if key is not None:
            return VALUES[key](self, rng)
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if kind == "boolean":
            return rng.random() < 0.5
        if schema.get("format") == "date":
            lo, hi = DATE_RANGE
            return dt.date.fromordinal(lo.toordinal() + rng.randrange(hi.toordinal() - lo.toordinal() + 1)).isoformat()
        if is_time(schema):
            return f"{rng.randrange(24):02d}:{rng.choice((0, 0, 15, 30, 45, rng.randrange(60))):02d}"
        if kind == "integer":
            return rng.randint(int(schema.get("minimum", 1)), int(schema.get("maximum", 100)))
        if kind == "number":
            return round(rng.uniform(float(schema.get("minimum", 1)), float(schema.get("maximum", 100))), 1)
        return self.fake.word()

    def _optional_value(self, rng: random.Random, tool: Tool, param: str, key: str | None) -> Any:
        """A value for an optional parameter the request mentions: not its default, when another exists."""
        schema = tool.properties[param]
        if "default" not in schema:
            return self.value(rng, tool, param, schema, key)
        if schema.get("type") == "boolean":
            return not schema["default"]
        if "enum" in schema and key is None:
            others = [v for v in schema["enum"] if v != schema["default"]]
            return rng.choice(others) if others else schema["default"]
        v = self.value(rng, tool, param, schema, key)
        for _ in range(8):
            if v != schema["default"]:
                break
            v = self.value(rng, tool, param, schema, key)
        return v

    def fill(self, rng: random.Random, tool: Tool, template: Template) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(text, canonical arguments, mentions by parameter path) of one call from `template`."""
        spec = TEMPLATES[tool.name]
        values: dict[str, Any] = {}
        for param in canonical_order(tool):
            if param in tool.required:
                values[param] = self.value(rng, tool, param, tool.properties[param], spec.values.get(param))
            elif param in template.always:
                values[param] = self._optional_value(rng, tool, param, spec.values.get(param))
        for param in template.optional:
            if param in values:
                continue
            cond = spec.when.get(param)
            if cond is not None and values.get(cond[0]) != cond[1]:
                continue
            if rng.random() < OPTIONAL_SHARE:
                values[param] = self._optional_value(rng, tool, param, spec.values.get(param))
                self.counts["optional_mentions"] += 1
        args = {p: values[p] for p in canonical_order(tool) if p in values}
        mentions: dict[str, str] = {}
        text = self._render(rng, tool, spec, template.parts, args, mentions)
        return text, args, mentions

    def _render(self, rng: random.Random, tool: Tool, spec: ToolTemplates, parts: tuple[Part, ...], args: dict[str, Any], mentions: dict[str, str]) -> str:
        out: list[str] = []
        for part in parts:
            if part[0] == "text":
                out.append(part[1])
            elif part[0] == "seg":
                out.append(self._render(rng, tool, spec, part[2], args, mentions) if part[1] in args else part[3])
            else:
                path = part[1]
                top, _, sub = path.partition(".")
                value, schema = args[top], tool.properties[top]
                if sub:
                    value, schema = value[sub], schema["properties"][sub]
                key = spec.values.get(path)
                if isinstance(value, list):
                    said = [self.say(rng, spec, top, schema.get("items", {}), v, key) for v in value]
                    mentions.update({f"{path}.{i}": s for i, s in enumerate(said)})
                    out.append(say_list(said, rng))
                else:
                    s = self.say(rng, spec, top, schema, value, key, name=sub or top)
                    mentions[path] = s
                    out.append(s)
        return "".join(out)

    def say(self, rng: random.Random, spec: ToolTemplates, param: str, schema: dict[str, Any], value: Any, key: str | None, name: str | None = None) -> str:
        """The surface text of one leaf value."""
        kind = schema.get("type")
        if kind == "boolean" or "enum" in schema:
            phrases = spec.phrases.get(param, {}).get(value)
            return rng.choice(phrases) if phrases else str(value).replace("_", " ")
        if schema.get("format") == "date":
            return say_date(value, rng)
        if is_time(schema):
            return say_time(value, rng)
        if kind == "integer" and (unit := duration_unit(name or param)):
            return say_duration(value, unit, rng)
        if kind in ("integer", "number"):
            return say_number(value, key, rng)
        return str(value)

    def finish(self, rng: random.Random, texts: list[str], form: str, surface: str) -> str:
        """The request: the calls' sentences joined, then wrapped by the surface."""
        question = texts[-1].endswith("?")
        parts = [t[:-1] if t.endswith("?") else t for t in texts]  # only the "?": a value may end in "." ("7 p.m.")
        body = parts[0]
        for before, more in zip(texts[:-1], parts[1:], strict=True):
            joiner = rng.choice(JOINERS[:-1] if surface == "indirect" else JOINERS)  # no ". Also," inside one wrapped sentence
            body += ("? Also, " if joiner == ". Also, " and before.endswith("?") else joiner) + lower_first(more)
        if surface == "indirect":
            text = rng.choice(INDIRECT).format(x=lower_first(body))
            return text[:-1] if text.endswith("..") else text
        end = "?" if question else rng.choices((".", "", "!"), weights=(6, 3, 1))[0]
        if body.endswith(".") and end == ".":
            end = ""
        if surface == "filler":
            return rng.choice(FILLER).format(x=lower_first(body)) + end
        return upper_first(body) + end

    def offer(self, rng: random.Random, names: list[str], kind: str) -> list[str]:
        """The tools offered: the called ones and distractors, shuffled; a no-call row offers only other domains' tools."""
        k = rng.randint(*self.distractors)
        called = list(dict.fromkeys(names))
        if kind == NONE:
            domain = self.catalogue.tools[names[0]].domain
            pool = [t for t in self.names if self.catalogue.tools[t].domain != domain]
            n, called = k + 1, []
        else:
            pool = [t for t in self.names if t not in called]
            n = k
        n = min(n, len(pool))
        chosen: list[str] = []
        if n and rng.random() < self.similar_share:
            for tier in range(3):
                similar = sorted({t for name in names for t in self.similar[name][tier] if t in pool})
                if similar:
                    chosen.append(rng.choice(similar))
                    self.counts["rows_with_similar_distractor"] += 1
                    break
        rest = [t for t in pool if t not in chosen]
        chosen += rng.sample(rest, n - len(chosen))
        offered = called + chosen
        rng.shuffle(offered)
        return offered


def generate(
    catalogue: Catalogue, *, seed: int, rows: int, test_fraction: float, none_share: float, parallel_share: float,
    distractors: tuple[int, int], similar_share: float, surfaces: list[str],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    """(rows, counts for the metrics) of one recipe."""
    check_recipe(rows, test_fraction, none_share, parallel_share, distractors, similar_share, surfaces)
    maker = RowMaker(
        catalogue, seed=seed, test_fraction=test_fraction, none_share=none_share, parallel_share=parallel_share,
        distractors=distractors, similar_share=similar_share, surfaces=surfaces,
    )  # fmt: skip
    out = list(maker.rows(rows))
    return out, dict(maker.counts)


def describe(rows: list[dict[str, Any]], catalogue: Catalogue) -> dict[str, Any]:
    """Rows per kind, split, domain, surface and tool (the rows calling it, per split), for metrics."""
    calls: dict[str, Counter[str]] = {TRAIN: Counter(), TEST: Counter()}
    for r in rows:
        calls.setdefault(r["split"], Counter()).update(list(dict.fromkeys(c["name"] for c in r["calls"])))
    return {
        "rows": len(rows),
        "rows_by_kind": {k: sum(1 for r in rows if r["kind"] == k) for k in (SINGLE, PARALLEL, NONE)},
        "rows_by_split": {s: sum(1 for r in rows if r["split"] == s) for s in (TRAIN, TEST)},
        "rows_by_domain": dict(sorted(Counter(r["domain"] for r in rows).items())),
        "rows_by_surface": dict(sorted(Counter(r["surface"] for r in rows).items())),
        "rows_by_tool": {name: {s: calls[s].get(name, 0) for s in (TRAIN, TEST)} for name in catalogue.tools},
        "tools_offered_mean": round(sum(len(r["tools"]) for r in rows) / max(1, len(rows)), 3),
        "request_chars_mean": round(sum(len(r["request"]) for r in rows) / max(1, len(rows)), 1),
    }


def template_counts(catalogue: Catalogue, test_fraction: float) -> dict[str, int]:
    """Templates per split over the catalogue."""
    split = split_templates(compile_templates(catalogue), test_fraction)
    return {s: sum(len(ts) for (_, _, side), ts in split.items() if side == s) for s in (TRAIN, TEST)}
