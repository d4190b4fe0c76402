"""Function-call answers (EdgeFuncCall; docs/funccall.md): the JSON Schema of one row's answer,
built from the tools it offers, and the target text a model is trained on.

The answer is `{"calls": [call, ...]}`; each call is one of the offered tools,
`{"name": <its name>, "arguments": <an object valid against its parameters>}`, so the schema is
an `anyOf` of one branch per tool with the name as a `const`. That schema is the decoding
constraint: each runner turns it into its own grammar through the same JSON-Schema path as
EdgeJSON (llama.cpp's GBNF builder, stages/inference/grammar.py; llguidance, stages/inference/hf.py),
so the name can only be an offered one and the arguments follow that tool's schema. `"calls": []`
(no call) is always allowed, and `max_calls` bounds the list.

Objects in a tool's parameters that declare `properties` get `additionalProperties: false` in the
constraint (a key the function does not declare is never generated); an object without declared
properties stays open. Keys come out in the grammar's order: required ones in declaration order,
then optional ones (`stages.inference.prompt.key_order`), and `answer_text` writes training
answers in that order, so the model learns what constrained decoding forces.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from stages.inference.prompt import in_schema_order


def closed(node: Any) -> Any:
    """A parameters schema with `additionalProperties: false` on every object that declares properties."""
    if isinstance(node, list):
        return [closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "properties" and isinstance(v, dict):
            out[k] = {name: closed(sub) for name, sub in v.items()}
        elif k in ("enum", "const", "default", "required", "examples"):
            out[k] = copy.deepcopy(v)
        else:
            out[k] = closed(v)
    if isinstance(node.get("properties"), dict) and node["properties"]:
        out["additionalProperties"] = False
    return out


def answer_schema(tools: list[dict[str, Any]], max_calls: int) -> dict[str, Any]:
    """The JSON Schema of an answer to a row offering `tools`, at most `max_calls` calls."""
    branches = []
    for t in tools:
        params = closed(t.get("parameters") or {"type": "object"})
        params.setdefault("type", "object")
        branches.append(
            {
                "type": "object",
                "properties": {"name": {"const": t["name"]}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    calls: dict[str, Any] = {"type": "array", "maxItems": max_calls}
    if branches:
        calls["items"] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    else:
        calls["maxItems"] = 0
    return {"type": "object", "properties": {"calls": calls}, "required": ["calls"], "additionalProperties": False}


def answer_text(calls: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
    """The target answer: compact JSON, each call's arguments in its tool's grammar order."""
    by_name = {t["name"]: t for t in tools}
    out = []
    for c in calls:
        tool = by_name.get(c["name"], {})
        params = tool.get("parameters") or {}
        out.append({"name": c["name"], "arguments": in_schema_order(c["arguments"], params)})
    return json.dumps({"calls": out}, separators=(",", ":"), ensure_ascii=False)
