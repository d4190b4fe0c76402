"""EdgeFuncCall's prompt for a language model: the tools offered in the system message, the
request as the user's message; the answer is JSON, `{"calls": [{"name": ..., "arguments": {...}}]}`,
with `"calls": []` when no offered tool fits (docs/funccall.md).

Each tool is shown as a compact signature, not as its JSON Schema: the name and description on
one line, then one line per parameter, `name: type`, `name?` when it is optional, `= default`,
and the parameter's description after `#`. Enums are their values joined by `|`, arrays
`list[item]`, objects `{key: type, ...}`, and a string pattern follows its type as `/regex/`.
On our test split this is 132 tokens of tools per row against 296 as compact JSON Schema (BFCL
multiple: 172 against 286, SmolLM2's tokenizer): prompt tokens are what a 135M model's training
and scoring time go to on 2 cores (docs/funccall.md). The answer's grammar is still built from
the full schemas (stages/inference/tool_calls.py), so a constrained answer can only name an
offered tool, with arguments valid against its schema.
"""

from __future__ import annotations

import json
from typing import Any

SYSTEM_PROMPT = (
    "You call functions for the user. The functions you may call (a parameter with ? is optional):\n"
    "{tools}\n"
    'Answer with JSON only: {{"calls":[{{"name":<function>,"arguments":{{<parameter>:<value>}}}}]}}, '
    'one entry per call, in the order asked. If no function fits the request, answer {{"calls":[]}}.'
)


def type_text(schema: dict[str, Any]) -> str:
    """A parameter's type as the signature shows it."""
    if "enum" in schema:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        items = schema.get("items")
        return f"list[{type_text(items)}]" if isinstance(items, dict) and items else "list"
    if kind == "object" and schema.get("properties"):
        required = set(schema.get("required", []))
        return "{" + ", ".join(f"{k}{'' if k in required else '?'}: {type_text(v)}" for k, v in schema["properties"].items()) + "}"
    text = str(kind)
    if "pattern" in schema:
        text += f" /{schema['pattern']}/"
    if "format" in schema:
        text += f" ({schema['format']})"
    return text


def tool_text(tool: dict[str, Any]) -> str:
    """One tool as the prompt shows it: its signature, a line per parameter."""
    params = tool.get("parameters") or {}
    required = set(params.get("required", []))
    lines = [f"{tool['name']}: {tool.get('description', '')}".rstrip()]
    for name, schema in (params.get("properties") or {}).items():
        default = f" = {json.dumps(schema['default'], ensure_ascii=False)}" if "default" in schema else ""
        note = f"  # {schema['description']}" if schema.get("description") else ""
        lines.append(f"  {name}{'' if name in required else '?'}: {type_text(schema)}{default}{note}")
    return "\n".join(lines)


def chat_messages(request: str, tools: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The chat of one row, without the answer."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(tools="\n".join(tool_text(t) for t in tools))},
        {"role": "user", "content": request},
    ]
