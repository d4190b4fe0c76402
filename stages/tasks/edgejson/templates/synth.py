"""The schema generator: seeded synthetic JSON Schemas for training, and their Faker records.

The 25 hand-written schemas under `schemas/` are the named benchmark schemas. A model trained
only on them learns those 25 (it can key its memory on their field names), not how to read a
schema it has never seen. A dataset version whose recipe sets `schema_generator.schemas` also
trains on that many generated schemas (`datasets.<v>.schema_generator` in params.yaml):

* a domain vocabulary (a topic with its fields, parts and lists) per schema;
* field names in one naming style per schema (`snake_case` or `camelCase`);
* types, formats (date, date-time, email, uri, uuid, ipv4), patterns, enums, integer ranges;
* optional keys (left out of `required`, present in about two records of three);
* nesting 1-4 levels deep by tier: simple is flat, medium has one part or list, complex nests
  a part in a part (sometimes a third inside) and has a list of objects;
* arrays of scalars and of objects;
* derived values (`x-derive`): a `<noun>_count` of a list (snake_case), and priced lists whose
  line costs and sum are declared in `x-arithmetic` for the arithmetic check;
* a Faker-backed value generator per field, recorded in the schema as `x-faker` (an `x-` key:
  the validator and the prompt's skeleton ignore it).

No generated key shares its words with a key of a named schema (`reserved`), so the held-out
named schemas stay unseen in their field names too. Generated schemas are data: the generate
stage writes them to `data/<v>/generated_schemas.json`, and every later stage meta-validates them
(stages.core.catalog) and checks their rows like any other. Pure and seeded: the same seed and
settings give the same schemas.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections.abc import Callable
from typing import Any

from stages.core.catalog import TIERS
from stages.core.errors import SLMBenchError
from stages.tasks.edgejson.templates import Ctx
from stages.tasks.edgejson.templates.common import date_between, datetime_iso, money
from stages.tasks.edgejson.templates.render import humanise

STYLES = ("snake_case", "camelCase")
ATTEMPTS = 40  # draws per schema slot before the vocabulary counts as exhausted

# kind -> (JSON Schema of the value, a value from the seeded context)
KINDS: dict[str, tuple[dict[str, Any], Callable[[Ctx], Any]]] = {
    "person": ({"type": "string"}, lambda c: c.fake.name()),
    "company": ({"type": "string"}, lambda c: c.fake.company()),
    "town": ({"type": "string"}, lambda c: c.fake.city()),
    "nation": ({"type": "string"}, lambda c: c.fake.country()),
    "street": ({"type": "string"}, lambda c: c.fake.street_address()),
    "postcode": ({"type": "string", "pattern": "^[0-9]{5}$"}, lambda c: c.fake.numerify("#####")),
    "mail": ({"type": "string", "format": "email"}, lambda c: c.fake.email()),
    "link": ({"type": "string", "format": "uri"}, lambda c: c.fake.url()),
    "guid": ({"type": "string", "format": "uuid"}, lambda c: str(uuid.UUID(int=c.rng.getrandbits(128), version=4))),
    "ipv4": ({"type": "string", "format": "ipv4"}, lambda c: c.fake.ipv4_public()),
    "day": ({"type": "string", "format": "date"}, lambda c: date_between(c).isoformat()),
    "moment": ({"type": "string", "format": "date-time"}, lambda c: datetime_iso(c)),
    "ref": ({"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"}, lambda c: c.fake.bothify("???-####", letters=string.ascii_uppercase)),
    "word": ({"type": "string"}, lambda c: c.fake.word()),
    "phrase": ({"type": "string"}, lambda c: c.fake.catch_phrase()),
    "note": ({"type": "string"}, lambda c: c.fake.sentence(nb_words=7).rstrip(".")),
    "colour": ({"type": "string"}, lambda c: c.fake.color_name()),
    "phone": ({"type": "string"}, lambda c: c.fake.numerify("###-###-####")),
    "small": ({"type": "integer", "minimum": 1, "maximum": 12}, lambda c: c.rng.randint(1, 12)),
    "count": ({"type": "integer", "minimum": 0, "maximum": 5000}, lambda c: c.rng.randint(0, 5000)),
    "year": ({"type": "integer", "minimum": 1950, "maximum": 2030}, lambda c: c.rng.randint(1950, 2030)),
    "money": ({"type": "number", "minimum": 0}, lambda c: money(c, 1.0, 4000.0)),
    "share": ({"type": "number", "minimum": 0, "maximum": 100}, lambda c: round(c.rng.uniform(0, 100), 1)),
    "measure": ({"type": "number", "minimum": 0}, lambda c: round(c.rng.uniform(0.1, 900.0), 1)),
    "flag": ({"type": "boolean"}, lambda c: c.rng.random() < 0.5),
    "words": ({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4}, lambda c: _distinct_words(c)),
}

# enum fields: their words and their values
ENUMS: dict[str, list[str]] = {
    "state": ["draft", "active", "paused", "archived"],
    "urgency": ["low", "normal", "urgent"],
    "size class": ["small", "medium", "large", "extra large"],
    "payment method": ["card", "cash", "transfer", "voucher"],
    "delivery mode": ["pickup", "courier", "post"],
    "grade": ["A", "B", "C", "D"],
    "shift": ["morning", "afternoon", "night"],
    "visibility": ["public", "private", "unlisted"],
    "weather": ["sunny", "cloudy", "rainy", "snowy"],
    "outcome": ["passed", "failed", "pending"],
}

Field = tuple[str, str]  # (words, kind); kind "enum" takes its values from ENUMS[words]


def _f(spec: str) -> list[Field]:
    """`"book title:phrase, loan day:day"` -> [("book title", "phrase"), ("loan day", "day")]."""
    return [(w.strip(), k.strip()) for w, k in (part.split(":") for part in spec.split(","))]


# topic -> (fields, parts: nested-object nouns with their fields, lists: plural nouns with item fields)
DOMAINS: dict[str, tuple[list[Field], dict[str, list[Field]], dict[str, list[Field]]]] = {
    "library loan": (
        _f("borrower:person, book title:phrase, loan day:day, return by:day, renewals:small, late fee:money, branch town:town, loan ref:ref"),
        {"borrower card": _f("card holder:person, card number:ref, expiry day:day, contact mail:mail")},
        {"holds": _f("hold title:phrase, placed on:day, queue position:small")},
    ),
    "vehicle service": (
        _f("plate ref:ref, mileage:count, service day:day, mechanic:person, labour hours:measure, workshop:company, paint colour:colour, warranty:flag"),
        {"owner contact": _f("owner:person, owner phone:phone, owner mail:mail, home street:street")},
        {"replaced parts": _f("part label:word, part cost:money, fitted:flag")},
    ),
    "hotel booking": (
        _f("guest:person, arrival day:day, nights:small, room rate:money, guests count:small, booking ref:ref, breakfast:flag"),
        {"property": _f("hotel brand:company, hotel town:town, hotel country:nation, star class:small")},
        {"extras": _f("extra label:word, extra price:money, nights charged:small")},
    ),
    "lab sample": (
        _f("sample ref:ref, collected at:moment, technician:person, volume ml:measure, temperature c:measure, lab site:town, sample kind:word"),
        {"assay": _f("assay label:phrase, run on:day, analyser:company, outcome:enum")},
        {"aliquots": _f("aliquot ref:ref, aliquot volume:measure, frozen:flag")},
    ),
    "course enrollment": (
        _f("learner:person, learner mail:mail, course title:phrase, enrolled on:day, credits:small, tuition:money, campus town:town, grade:enum"),
        {"tutor": _f("tutor:person, tutor mail:mail, office hours:note")},
        {"modules": _f("module title:phrase, module credits:small, completed:flag")},
    ),
    "flight itinerary": (
        _f("traveller:person, booking ref:ref, departs at:moment, gate label:ref, seat row:small, fare:money, carrier:company, bags:small"),
        {"loyalty account": _f("member ref:ref, tier colour:colour, points balance:count")},
        {"legs": _f("origin town:town, destination town:town, leg distance km:measure")},
    ),
    "crop harvest": (
        _f("farm:company, field ref:ref, harvested on:day, yield tonnes:measure, moisture pct:share, crop kind:word, weather:enum, organic:flag"),
        {"buyer": _f("buyer firm:company, buyer contact:person, buyer phone:phone")},
        {"loads": _f("truck ref:ref, load tonnes:measure, delivered on:day")},
    ),
    "warehouse transfer": (
        _f("transfer ref:ref, shipped at:moment, origin depot:town, target depot:town, pallets:count, handler:person, urgency:enum, insured:flag"),
        {"carrier contact": _f("haulier:company, driver:person, driver phone:phone")},
        {"cartons": _f("carton ref:ref, weight kg:measure, fragile:flag")},
    ),
    "podcast episode": (
        _f("show title:phrase, episode number:count, host:person, published at:moment, length minutes:small, audio link:link, visibility:enum, explicit:flag"),
        {"sponsor": _f("sponsor firm:company, sponsor link:link, spot fee:money")},
        {"guests": _f("guest person:person, guest mail:mail, segment minute:small")},
    ),
    "insurance claim": (
        _f("claimant:person, policy ref:ref, incident day:day, claimed sum:money, adjuster:person, incident town:town, outcome:enum, police report:flag"),
        {"insured vehicle": _f("plate ref:ref, model year:year, paint colour:colour")},
        {"witnesses": _f("witness:person, witness phone:phone")},
    ),
    "gym membership": (
        _f("member:person, member mail:mail, joined on:day, monthly fee:money, club town:town, locker ref:ref, shift:enum, trainer included:flag"),
        {"emergency contact": _f("contact person:person, contact phone:phone")},
        {"classes": _f("class label:word, weekday slot:small, instructor:person")},
    ),
    "recipe card": (
        _f("dish title:phrase, chef:person, servings:small, prep minutes:small, calories per serving:count, cuisine:nation, vegetarian:flag, source link:link"),
        {"nutrition": _f("protein grams:measure, fat grams:measure, sugar grams:measure")},
        {"ingredients": _f("ingredient:word, amount grams:measure, optional extra:flag")},
    ),
    "property listing": (
        _f("listing ref:ref, street line:street, postcode:postcode, asking sum:money, bedrooms:small, floor area sqm:measure, built year:year, agent:person"),
        {"agency": _f("agency firm:company, agency phone:phone, agency mail:mail")},
        {"viewings": _f("viewing at:moment, visitor:person, offer made:flag")},
    ),
    "job posting": (
        _f("role title:phrase, employer:company, posted on:day, salary floor:money, bonus share:share, work town:town, remote:flag, openings:small"),
        {"recruiter": _f("recruiter person:person, recruiter mail:mail, recruiter phone:phone")},
        {"skills": _f("skill:word, years needed:small, essential:flag")},
    ),
    "bug report": (
        _f("report ref:ref, reporter:person, filed at:moment, build label:ref, urgency:enum, crash:flag, summary line:note, repro steps:small"),
        {"environment info": _f("os label:word, browser label:word, client ip:ipv4")},
        {"comments": _f("commenter:person, commented at:moment, remark:note")},
    ),
    "parcel delivery": (
        _f("tracking ref:ref, sender person:person, recipient person:person, dispatched on:day, "
           "weight kg:measure, postage:money, delivery mode:enum, signature needed:flag"),
        {"drop address": _f("drop street:street, drop town:town, drop postcode:postcode")},
        {"scans": _f("scanned at:moment, hub town:town")},
    ),
    "concert ticket": (
        _f("ticket ref:ref, performer:person, venue:company, show day:day, seat block:word, ticket price:money, holder:person, vip:flag"),
        {"venue address": _f("venue street:street, venue town:town, venue country:nation")},
        {"add ons": _f("add on:word, add on price:money")},
    ),
    "energy meter": (
        _f("meter ref:ref, read at:moment, kwh used:measure, tariff rate:money, supplier:company, site town:town, smart meter:flag, reader:person"),
        {"account holder": _f("holder person:person, holder mail:mail, billing street:street")},
        {"readings": _f("reading at:moment, reading kwh:measure, estimated:flag")},
    ),
    "fleet trip": (
        _f("trip ref:ref, driver person:person, started at:moment, odometer km:count, distance km:measure, fuel litres:measure, van ref:ref, toll paid:money"),
        {"vehicle info": _f("van model:word, model year:year, van colour:colour")},
        {"stops": _f("stop town:town, stop minutes:small, delivered parcels:small")},
    ),
    "museum visit": (
        _f("visitor person:person, visit day:day, exhibit hall:word, admission fee:money, group size:small, audio guide:flag, museum:company, visit ref:ref"),
        {"school group": _f("school:company, teacher person:person, pupils:count")},
        {"exhibits seen": _f("exhibit title:phrase, minutes spent:small")},
    ),
    "vet appointment": (
        _f("pet label:word, owner person:person, visit at:moment, species:word, weight kg:measure, vet:person, fee charged:money, vaccinated:flag"),
        {"clinic": _f("clinic firm:company, clinic phone:phone, clinic town:town")},
        {"treatments": _f("treatment:word, dose ml:measure, repeat in days:small")},
    ),
    "software release": (
        _f("product label:word, release tag:ref, shipped on:day, release manager:person, "
           "download link:link, breaking change:flag, visibility:enum, downloads:count"),
        {"build server": _f("server ip:ipv4, build minutes:small, build ref:ref")},
        {"changes": _f("change note:note, change author:person, ticket ref:ref")},
    ),
    "charity donation": (
        _f("donor:person, donor mail:mail, gift sum:money, given on:day, campaign:phrase, gift aid:flag, receipt ref:ref, payment method:enum"),
        {"charity": _f("charity firm:company, charity town:town, registered year:year")},
        {"pledges": _f("pledge sum:money, pledge day:day")},
    ),
    "sports match": (
        _f("home side:company, away side:company, kickoff at:moment, home goals:small, away goals:small, referee:person, stadium town:town, attendance:count"),
        {"broadcast": _f("broadcaster:company, stream link:link, viewers:count")},
        {"cards shown": _f("card player:person, card minute:small, red card:flag")},
    ),
    "clinical trial visit": (
        _f("subject ref:ref, visit day:day, investigator:person, site town:town, dose mg:measure, adverse event:flag, visit number:small, cohort:word"),
        {"vitals": _f("pulse bpm:count, systolic:count, body temp c:measure")},
        {"samples taken": _f("tube ref:ref, drawn at:moment")},
    ),
}

DEEP = _f("recorded by:person, recorded on:day, checked:flag, check ref:ref")  # the fields of a fourth nesting level

# lists whose items carry a cost: (noun, units key, unit cost key, line cost key, sum key)
PRICED = ("units", "unit cost", "line cost")
SUM_WORDS = "lines cost"


def words_to_key(words: str, style: str) -> str:
    parts = re.sub(r"[^a-z0-9 ]+", " ", words.lower()).split()
    if style == "camelCase":
        return parts[0] + "".join(p.title() for p in parts[1:])
    return "_".join(parts)


key_to_words = humanise  # `loan_day`, `loanDay` -> "loan day": a key as the texts write it


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _distinct_words(c: Ctx) -> list[str]:
    out: list[str] = []
    for _ in range(c.rng.randint(1, 4)):
        w = c.fake.word()
        if w not in out:
            out.append(w)
    return out


def reserved_keys(schemas: list[dict[str, Any]]) -> set[str]:
    """Every key of these (named) schemas, in separator-free lower case."""
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.get("properties", {}).items():
                out.add(_norm(k))
                walk(v)
            walk(node.get("items"))

    for s in schemas:
        walk(s)
    return out


class _Draw:
    """One schema being drawn: its RNG, naming style and the keys it may not use."""

    def __init__(self, rng: random.Random, style: str, reserved: set[str]):
        self.rng, self.style, self.reserved = rng, style, reserved

    def key(self, words: str) -> str | None:
        k = words_to_key(words, self.style)
        return None if _norm(k) in self.reserved else k

    def leaf(self, words: str, kind: str) -> dict[str, Any]:
        if kind == "enum":
            return {"type": "string", "enum": list(ENUMS[words]), "x-faker": "enum"}
        schema, _ = KINDS[kind]
        return {**json.loads(json.dumps(schema)), "x-faker": kind}

    def obj(self, fields: list[Field], lo: int, hi: int, optional: float) -> dict[str, Any] | None:
        pool = [(self.key(w), w, k) for w, k in fields]
        pool = [p for p in pool if p[0] is not None]
        if len(pool) < lo:
            return None
        chosen = self.rng.sample(pool, self.rng.randint(lo, min(hi, len(pool))))
        props = {k: self.leaf(w, kind) for k, w, kind in chosen}
        required = [k for k in props if self.rng.random() >= optional]
        return {"type": "object", "additionalProperties": False, "required": required or [next(iter(props))], "properties": props}


def draw_schema(rng: random.Random, tier: str, style: str, reserved: set[str]) -> tuple[str, dict[str, Any]] | None:
    """(topic, schema) for one tier, or None when this draw cannot fill the tier's shape."""
    topic = rng.choice(sorted(DOMAINS))
    fields, parts, lists = DOMAINS[topic]
    d = _Draw(rng, style, reserved)
    root = d.obj(fields, 3, 5 if tier == "simple" else 4, 0.25)
    if root is None:
        return None
    props = root["properties"]

    def attach(words: str, node: dict[str, Any], required: bool = True) -> bool:
        k = d.key(words)
        if k is None or k in props:
            return False
        props[k] = node
        if required:
            root["required"].append(k)
        return True

    part_name, part_fields = rng.choice(sorted(parts.items()))
    list_name, list_fields = rng.choice(sorted(lists.items()))
    if tier == "medium":
        shape = rng.choice(["part", "list", "tags"])
        if shape == "part":
            node = d.obj(part_fields, 2, 4, 0.2)
            if node is None or not attach(part_name, node):
                return None
        elif shape == "list":
            item = d.obj(list_fields, 2, 3, 0.0)
            if item is None or not attach(list_name, {"type": "array", "minItems": 1, "maxItems": 3, "items": item}):
                return None
        elif not attach(rng.choice(["labels list", "keywords", "topics"]), d.leaf("words", "words")):
            return None
    elif tier == "complex":
        # a part holding a part (3 levels), and a list of objects, priced or counted
        outer = d.obj(part_fields, 2, 3, 0.2)
        if outer is None:
            return None
        other = [(w, k) for w, k in fields if w not in {key_to_words(x) for x in props}]
        inner = d.obj(rng.sample(other, min(4, len(other))), 2, 3, 0.0)
        inner_words = rng.choice(["details", "extra info", "history"])
        inner_key = d.key(inner_words)
        if inner is None or inner_key is None or inner_key in outer["properties"]:
            return None
        if rng.random() < 0.4:  # a fourth level
            deep = d.obj(DEEP, 2, 3, 0.0)
            deep_key = d.key("record trail")
            if deep is not None and deep_key is not None:
                inner["properties"][deep_key] = deep
                inner["required"].append(deep_key)
        outer["properties"][inner_key] = inner
        outer["required"].append(inner_key)
        if not attach(part_name, outer):
            return None
        priced = rng.random() < 0.5
        item = d.obj(list_fields, 1 if priced else 2, 2 if priced else 3, 0.0)
        if item is None:
            return None
        if priced:
            keys = [d.key(w) for w in PRICED]
            if None in keys or any(k in item["properties"] for k in keys):
                return None
            units, cost, line = keys
            item["properties"][units] = d.leaf("units", "small")
            item["properties"][cost] = d.leaf("unit cost", "money")
            item["properties"][line] = {"type": "number", "minimum": 0, "x-derive": {"product": [units, cost]}}
            item["required"] += [units, cost, line]
        if not attach(list_name, {"type": "array", "minItems": 1, "maxItems": 3, "items": item}):
            return None
        list_key = d.key(list_name)
        assert list_key is not None
        if priced:
            sum_key = d.key(SUM_WORDS)
            if sum_key is None or not attach(SUM_WORDS, {"type": "number", "minimum": 0, "x-derive": {"sum": [list_key, line]}}):
                return None
            root["x-arithmetic"] = {"items": list_key, "quantity": units, "price": cost, "line_total": line, "subtotal": sum_key}
        elif style == "snake_case":
            noun = list_key[:-1] if list_key.endswith("s") else list_key
            attach(f"{noun} count", {"type": "integer", "minimum": 0, "x-derive": {"count": list_key}})
    return topic, root


def generate_schemas(seed: int, count: int, styles: list[str], tiers: dict[str, float], reserved: set[str], where: str) -> list[dict[str, Any]]:
    """`count` distinct schemas as [{"schema_id", "tier", "topic", "schema"}], in a fixed order.
    `where` names the params key in errors."""
    bad = [s for s in styles if s not in STYLES]
    if bad or not styles:
        raise SLMBenchError(f"params.yaml: {where}.styles: expected a non-empty subset of {', '.join(STYLES)}, got {styles!r}")
    bad = [t for t in tiers if t not in TIERS]
    if bad or not tiers or any(v < 0 for v in tiers.values()) or sum(tiers.values()) <= 0:
        raise SLMBenchError(f"params.yaml: {where}.tiers: expected shares >= 0 for tiers among {', '.join(TIERS)}, got {tiers!r}")
    if count < 0:
        raise SLMBenchError(f"params.yaml: {where}.schemas: expected 0 or more schemas, got {count}")
    names = sorted(tiers)
    total = sum(tiers.values())
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i in range(count):
        tier = names[-1]
        u, acc = (i + 0.5) / max(count, 1), 0.0  # tiers in their shares, spread over the slots
        for t in names:
            acc += tiers[t] / total
            if u < acc:
                tier = t
                break
        for attempt in range(ATTEMPTS):
            rng = random.Random(f"{seed}:schema:{i}:{attempt}")
            style = styles[int(rng.random() * len(styles))]
            drawn = draw_schema(rng, tier, style, reserved)
            if drawn is None:
                continue
            topic, schema = drawn
            canon = json.dumps(schema, sort_keys=True)
            if canon in seen:
                continue
            seen.add(canon)
            sid = f"gen{i:04d}_{words_to_key(topic, 'snake_case')}"
            full = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": topic.capitalize(), **schema}
            out.append({"schema_id": sid, "tier": tier, "topic": topic, "schema": full})
            break
        else:
            raise SLMBenchError(
                f"params.yaml: {where}.schemas: asked for {count} distinct schemas, but the vocabulary gave {len(out)} "
                f"({ATTEMPTS} draws for schema {i + 1} were all repeats or unfillable); expected at most about {len(out)}"
            )
    return out


def build_record(ctx: Ctx, schema: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid record for a generated schema: each field's `x-faker` kind makes its value,
    optional keys appear about two times in three, and derived values (`x-derive`) come last."""
    return _value(ctx, schema)


def _value(ctx: Ctx, node: dict[str, Any]) -> Any:
    kind = node.get("x-faker")
    if node.get("type") == "object":
        out: dict[str, Any] = {}
        req = set(node.get("required", []))
        for k, sub in node["properties"].items():
            if "x-derive" not in sub and (k in req or ctx.rng.random() < 0.67):
                out[k] = _value(ctx, sub)
        for k, sub in node["properties"].items():
            if "x-derive" in sub:
                out[k] = _derived(sub["x-derive"], out)
        return {k: out[k] for k in node["properties"] if k in out}
    if node.get("type") == "array" and kind != "words":
        return [_value(ctx, node["items"]) for _ in range(ctx.rng.randint(node.get("minItems", 1), node.get("maxItems", 3)))]
    if kind == "enum":
        return ctx.rng.choice(node["enum"])
    if kind in KINDS:
        return KINDS[kind][1](ctx)
    raise SLMBenchError(f"generated schema: no value generator for kind {kind!r}")


def _derived(rule: dict[str, Any], out: dict[str, Any]) -> Any:
    """`{"count": list}`: its length; `{"product": [a, b]}`: a x b to the cent; `{"sum": [list, key]}`: the sum of key over the list, to the cent."""
    if "count" in rule:
        return len(out[rule["count"]])
    if "product" in rule:
        a, b = rule["product"]
        return round(out[a] * out[b], 2)
    lst, key = rule["sum"]
    return round(sum(item[key] for item in out[lst]), 2)
