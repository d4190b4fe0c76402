"""Surface-form renderers: one record becomes text in one of several registers.

Every leaf value of the record appears in the text (so the grounding check holds), but key
names are replaced by seeded synonyms and the key order is shuffled per object, so a model
has to read the text rather than copy key names. Dates may be written out ("March 5, 2024");
the grounding check normalises them back.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

SURFACES = ("prose", "kv", "email", "chat", "log", "table", "listing")

INSTRUCTIONS = (
    "Extract the {what} from the text below as JSON.",
    "Read the following text and return the {what} as a JSON object.",
    "Convert the text below into a JSON {what}.",
    "Fill in the {what} JSON using only the text below.",
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Leaf = tuple[str, str]  # (label, rendered value)


class Node:
    """A record reshaped for rendering: scalar leaves and labelled child groups, in shuffled order."""

    def __init__(self, label: str, leaves: list[Leaf], groups: list[Node]):
        self.label, self.leaves, self.groups = label, leaves, groups


def humanise(key: str) -> str:
    """A key as words: `unit_price` -> "unit price", `unitPrice` -> "unit price"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").lower()


def fmt_value(value: Any, rng: random.Random) -> str:
    if isinstance(value, bool):
        return rng.choice(["yes", "true"]) if value else rng.choice(["no", "false"])
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 and rng.random() < 0.5 else str(value)
    if isinstance(value, float):
        if abs(value) >= 1_000 and rng.random() < 0.5:
            return f"{value:,.2f}"
        return f"{value:.2f}" if round(value, 2) == value and rng.random() < 0.5 else repr(value)
    if isinstance(value, str) and _DATE.match(value) and rng.random() < 0.35:
        day = dt.date.fromisoformat(value)
        return rng.choice([f"{day:%B} {day.day}, {day.year}", f"{day.day} {day:%b} {day.year}"])
    return str(value)


def build_tree(
    record: dict[str, Any], synonyms: dict[str, list[str]], rng: random.Random, label: str = "", labels: dict[str, str] | None = None
) -> Node:
    """Reshape `record`; each key gets one label per text (`labels`), so table columns line up."""
    labels = {} if labels is None else labels
    leaves: list[Leaf] = []
    groups: list[Node] = []
    keys = list(record)
    rng.shuffle(keys)
    for key in keys:
        value = record[key]
        if key not in labels:
            labels[key] = rng.choice(synonyms.get(key) or [humanise(key)])
        name = labels[key]
        if isinstance(value, dict):
            groups.append(build_tree(value, synonyms, rng, name, labels))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value, start=1):
                groups.append(build_tree(item, synonyms, rng, f"{name} #{i}", labels))
        elif isinstance(value, list):
            leaves.append((name, ", ".join(fmt_value(v, rng) for v in value) if value else "none"))
        else:
            leaves.append((name, fmt_value(value, rng)))
    return Node(label, leaves, groups)


def _walk(node: Node, prefix: str = "") -> list[tuple[str, list[Leaf]]]:
    """Flatten to (group path, leaves) sections, the root first."""
    path = f"{prefix} > {node.label}" if prefix and node.label else (node.label or prefix)
    out = [(path, node.leaves)] if node.leaves else []
    for g in node.groups:
        out.extend(_walk(g, path))
    return out


def _qualify(path: str, label: str, sep: str, dedupe: bool) -> str:
    """A leaf's label under its group's path. With `dedupe` (every generator revision after v2), a
    label that begins with the group's last word does not repeat it: group "quota" and label
    "quota size" give "quota size", not "quota quota size"."""
    if not path:
        return label
    if dedupe:
        last = path.split(" > ")[-1].split(" #")[0].split()[-1:]
        if last and label.split()[:1] == last:
            return f"{path}{sep}{label.split(' ', 1)[1]}" if " " in label else path
    return f"{path}{sep}{label}"


def _sentence(leaves: list[Leaf], rng: random.Random) -> str:
    parts = [rng.choice(["the {l} is {v}", "{l}: {v}", "the {l} was {v}"]).format(l=l, v=v) for l, v in leaves]
    if len(parts) > 1:
        parts[-1] = "and " + parts[-1]
    return ", ".join(parts)


def render_prose(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    sents = []
    for path, leaves in _walk(tree):
        lead = rng.choice([f"Regarding the {what}", f"For this {what}", "To summarise"]) if not path else f"For {path}"
        body = _sentence(leaves, rng)
        sents.append(f"{lead}, {body}.")
    return " ".join(sents)


def render_kv(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    sep = rng.choice([": ", " = ", " - "])
    lines = [f"{what.title()}"]
    for path, leaves in _walk(tree):
        indent = ""
        if path:
            lines.append(f"[{path}]")
            indent = "  "
        lines.extend(f"{indent}{l}{sep}{v}" for l, v in leaves)
    return "\n".join(lines)


def render_email(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    greet = rng.choice(["Hi team,", "Hello,", "Dear colleague,", "Good morning,"])
    sign = rng.choice(["Best regards", "Thanks", "Cheers", "Kind regards"])
    body = []
    details = what if dedupe and what.endswith("details") else f"{what} details"  # not "order details details"
    for path, leaves in _walk(tree):
        head = f"As for {path}:" if path else f"Here are the {details} you asked for:"
        body.append(head + "\n" + "\n".join(f"- {l}: {v}" for l, v in leaves))
    subject = rng.choice([f"{what} update", f"Re: {what}", f"Details: {what}"])
    return f"Subject: {subject}\n\n{greet}\n\n" + "\n\n".join(body) + f"\n\n{sign},\nOperations"


def render_chat(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    a, b = rng.sample(["alex", "sam", "priya", "jordan", "mei", "omar", "lena", "tom"], 2)
    lines = [f"{a}: hey, can you send me the {what}?", f"{b}: sure, here goes"]
    for path, leaves in _walk(tree):
        for l, v in leaves:
            lines.append(f"{b}: {_qualify(path, l, ' ', dedupe)} is {v}")
    lines.append(f"{a}: {rng.choice(['thanks!', 'got it', 'perfect, ty'])}")
    return "\n".join(lines)


def _log_key(label: str) -> str:
    return re.sub(r"[^a-z0-9#>]+", "_", label.lower()).strip("_").replace("_>_", ".").replace("#", "")


def render_log(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    level = rng.choice(["INFO", "DEBUG", "NOTICE"])
    pairs = []
    for path, leaves in _walk(tree):
        for l, v in leaves:
            key = _log_key(_qualify(path, l, " > ", dedupe))
            pairs.append(f'{key}="{v}"' if " " in v or "," in v else f"{key}={v}")
    return f"{level} [{_log_key(what)}] " + " ".join(pairs)


def render_table(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    out = [f"{what.title()}", "", "| field | value |", "|---|---|"]
    out.extend(f"| {l} | {v} |" for l, v in tree.leaves)
    # Groups that share a label stem (an array of objects) become one table with a row each.
    tables: dict[str, list[Node]] = {}
    for g in tree.groups:
        tables.setdefault(g.label.split(" #")[0], []).append(g)
    for stem, nodes in tables.items():
        out.append("")
        out.append(f"{stem}:")
        if len(nodes) == 1 and not nodes[0].label.endswith("#1"):
            out.extend(["| field | value |", "|---|---|"])
            for path, leaves in _walk(nodes[0]):
                sub = path.split(" > ", 1)[1] + " " if " > " in path else ""
                out.extend(f"| {sub}{l} | {v} |" for l, v in leaves)
            continue
        cols = [l for l, _ in nodes[0].leaves]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for n in nodes:
            vals = dict(n.leaves)
            out.append("| " + " | ".join(vals.get(c, "") for c in cols) + " |")
            for path, leaves in _walk(Node("", [], n.groups)):
                out.extend(f"  {path} {l}: {v}" for l, v in leaves)
    return "\n".join(out)


def _heading(path: str, style: int) -> str:
    """A group's heading: its labels in Title Case, item numbers kept ("Holds #2" -> "Holds 2")."""
    words = " > ".join(part.replace(" #", " ") for part in path.split(" > ")).title()
    return (f"{words}:", f"## {words}", words.upper(), f"--- {words} ---")[style]


def render_listing(tree: Node, what: str, rng: random.Random, dedupe: bool = False) -> str:
    """A record pasted as a plain listing: `Title Case Key: value` lines, the schema's own key names
    turned into words, and each nested object or list item under a heading of its own."""
    style = rng.randrange(4)
    lines = [what.title(), ""] if rng.random() < 0.5 else []
    for path, leaves in _walk(tree):
        if path:
            lines += (["", _heading(path, style)] if lines else [_heading(path, style)])
        lines.extend(f"{l.title() if l.islower() else l}: {v}" for l, v in leaves)
    return "\n".join(lines).strip("\n")


# Every renderer takes `dedupe`; those that join a group's path to a label (chat, log, email) use it.
RENDERERS: dict[str, Callable[[Node, str, random.Random, bool], str]] = {
    "prose": render_prose,
    "kv": render_kv,
    "email": render_email,
    "chat": render_chat,
    "log": render_log,
    "table": render_table,
    "listing": render_listing,
}


def render(
    record: dict[str, Any], schema_id: str, surface: str, synonyms: dict[str, list[str]], rng: random.Random, dedupe: bool = False, what: str | None = None
) -> str:
    """The prompt for one record: a short instruction, a blank line, then the text. `dedupe`: labels
    do not double a word (`_qualify`); off for the v2 generator, whose released texts did. `what`:
    the record's name in the text (default: the schema id in words). The listing surface labels
    keys with their own names in words, never a synonym."""
    what = what or humanise(schema_id)
    tree = build_tree(record, {} if surface == "listing" else synonyms, rng)
    text = RENDERERS[surface](tree, what, rng, dedupe)
    return rng.choice(INSTRUCTIONS).format(what=what) + "\n\n" + text
