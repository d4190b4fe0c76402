"""BFCL files to EdgeFuncCall rows (stages/tasks/funccall/rows.py): the Berkeley Function Calling
Leaderboard's AST categories as our outside test.

BFCL ships each category as a questions file and, except for irrelevance, a possible_answer file,
both with one JSON object per line (bfcl-eval 2026.3.23, Apache License 2.0; `bash .ci/bfcl.sh`
unpacks them into <venv>/share/slmbench/bfcl, see `category_files`). A question is
`{"id", "question": [[{"role": "user", "content"}]], "function": [{"name", "description",
"parameters"}]}`; its answer `{"id", "ground_truth": [{name: {param: [accepted values]}}]}`.

`convert` keeps BFCL's id, the single user turn as `request`, the functions as `tools` and the
ground truth as `accepted` (BFCL's possible-answer form, unchanged, so scoring.py's port of BFCL's
checker reads it as BFCL does), and derives:

- `tools[].parameters`: JSON Schema (draft 2020-12) from BFCL's Python-flavoured types, node by
  node through `TYPES` (BFCL's own type table, GORILLA_TO_OPENAPI, reads `any` as a string too):
  `type`, `description`, `enum`, `default`, `required`, `properties` and `items` are kept; an
  object that declares properties gets `additionalProperties: false` (what the answer grammar
  enforces anyway); BFCL's other keys (`optional`, and the odd `format`, `maximum`, `minItems`,
  `maxItems`) are dropped, as BFCL's checker ignores them;
- `calls`: one canonical answer, the first accepted value of each argument; an argument whose first
  accepted value is `""` (may be left out) is left out, unless the function requires it (one BFCL
  row, simple_python_200, lists `""` first for a required parameter), which takes its first other
  value. Object values, and the objects of an array of objects, are BFCL's `{key: [accepted
  values]}` and get the same treatment one level down; other values are taken as they are;
- `kind`: "single", or "parallel" for two or more expected calls; an irrelevance file (no
  answers) gives "none" rows with `calls` and `accepted` `[]`;
- `source` "bfcl_<category>", `domain` the category, `surface` "bfcl", `split` "test".

Anything unexpected (an unknown type, a question with more than one turn or message or a turn
that is not the user's, a question without an answer, an accepted call of a function not offered)
is a one-line SLMBenchError naming the file, the line and the key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import jsonl_objects

# BFCL's parameter types (the keys of its Python checker's PYTHON_TYPE_MAPPING) to JSON Schema's.
TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "boolean": "boolean",
    "array": "array",
    "tuple": "array",
    "dict": "object",
    "any": "string",
}
KEPT = ("description", "enum", "default")
CATEGORIES = ("simple_python", "multiple", "irrelevance")  # the AST categories SLMBench converts
NO_ANSWERS = ("irrelevance",)
VERSION = "2026.3.23"  # bfcl-eval, as .ci/bfcl.sh fetches it


def bfcl_dir() -> Path:
    """Where `bash .ci/bfcl.sh` unpacks BFCL (override with SLMBENCH_BFCL)."""
    return Path(os.environ.get("SLMBENCH_BFCL", Path(sys.prefix) / "share" / "slmbench" / "bfcl"))


def category_files(category: str, root: Path | None = None) -> tuple[Path, Path | None]:
    """(questions, possible answers or None) of a category in the unpacked BFCL data."""
    if category not in CATEGORIES:
        raise SLMBenchError(f"BFCL category {category!r}; expected one of {', '.join(CATEGORIES)}")
    data = (Path(root) if root is not None else bfcl_dir()) / "bfcl_eval" / "data"
    questions = data / f"BFCL_v4_{category}.json"
    if not questions.is_file():
        raise SLMBenchError(f"{questions}: not found; run `bash .ci/setup.sh` (its .ci/bfcl.sh unpacks bfcl-eval {VERSION})")
    return questions, None if category in NO_ANSWERS else data / "possible_answer" / f"BFCL_v4_{category}.json"


def _lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SLMBenchError(f"{path}: cannot read it ({exc.__class__.__name__}); expected a BFCL file, one JSON object per line") from None
    lines = list(jsonl_objects(text, str(path)))
    if not lines:
        raise SLMBenchError(f"{path}: empty; expected a BFCL file, one JSON object per line")
    return lines


def json_schema(node: Any, where: str, path: str) -> dict[str, Any]:
    """A BFCL parameter schema as JSON Schema; `where` is "file:line", `path` the node's JSON path."""
    if not isinstance(node, dict):
        raise SLMBenchError(f"{where}: {path} is {type(node).__name__}; expected a parameter object with a 'type'")
    kind = node.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise SLMBenchError(f"{where}: {path} has type {kind!r}; expected one of {', '.join(TYPES)}")
    out: dict[str, Any] = {"type": TYPES[kind]}
    out.update((k, node[k]) for k in KEPT if k in node)
    if "properties" in node:
        props = node["properties"]
        if not isinstance(props, dict):
            raise SLMBenchError(f"{where}: {path}.properties is {type(props).__name__}; expected an object of parameters")
        out["properties"] = {name: json_schema(sub, where, f"{path}.properties.{name}") for name, sub in props.items()}
        if props:
            out["additionalProperties"] = False
    if "required" in node:
        if not isinstance(node["required"], list) or not all(isinstance(r, str) for r in node["required"]):
            raise SLMBenchError(f"{where}: {path}.required must be a list of parameter names")
        out["required"] = list(node["required"])
    if "items" in node:
        out["items"] = json_schema(node["items"], where, f"{path}.items")
    return out


def _request(question: dict[str, Any], where: str) -> str:
    turns = question.get("question")
    if not isinstance(turns, list) or len(turns) != 1:
        n = len(turns) if isinstance(turns, list) else "no"
        raise SLMBenchError(f"{where}: question {question.get('id')!r} has {n} turns; expected one user turn")
    turn = turns[0]
    if not isinstance(turn, list) or len(turn) != 1 or not isinstance(turn[0], dict):
        raise SLMBenchError(f"{where}: question {question.get('id')!r}: its turn must be a list of one message; expected one user message")
    message = turn[0]
    if message.get("role") != "user":
        raise SLMBenchError(f"{where}: question {question.get('id')!r}: a {message.get('role')!r} turn; expected one user turn")
    if not isinstance(message.get("content"), str):
        raise SLMBenchError(f"{where}: question {question.get('id')!r}: content must be a string")
    return message["content"]


def _tools(question: dict[str, Any], where: str) -> list[dict[str, Any]]:
    functions = question.get("function")
    if not isinstance(functions, list) or not functions:
        raise SLMBenchError(f"{where}: 'function' must be a non-empty list of functions")
    tools = []
    for i, fn in enumerate(functions):
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise SLMBenchError(f"{where}: $.function[{i}] must be an object with a string 'name'")
        params = json_schema(fn.get("parameters"), where, f"$.function[{i}].parameters")
        if params["type"] != "object":
            raise SLMBenchError(f"{where}: $.function[{i}].parameters has type {params['type']!r}; expected 'dict'")
        params.setdefault("properties", {})
        params.setdefault("required", [])
        tools.append({"name": fn["name"], "description": str(fn.get("description", "")), "parameters": params})
    return tools


def _accepted(ground_truth: Any, tools: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    if not isinstance(ground_truth, list) or not ground_truth:
        raise SLMBenchError(f"{where}: 'ground_truth' must be a non-empty list of {{function: {{parameter: [accepted values]}}}}")
    offered = [t["name"] for t in tools]
    out = []
    for i, call in enumerate(ground_truth):
        if not isinstance(call, dict) or len(call) != 1:
            raise SLMBenchError(f"{where}: ground_truth[{i}] must be an object with one key, the function's name")
        [(name, arguments)] = call.items()
        if name not in offered:
            raise SLMBenchError(f"{where}: ground_truth[{i}] calls {name!r}, which the question does not offer (offered: {', '.join(offered)})")
        if not isinstance(arguments, dict):
            raise SLMBenchError(f"{where}: ground_truth[{i}].{name} must be an object of parameter: [accepted values]")
        for param, values in arguments.items():
            if not isinstance(values, list) or not values:
                raise SLMBenchError(f"{where}: ground_truth[{i}].{name}.{param} must be a non-empty list of accepted values")
        out.append({"name": name, "arguments": arguments})
    return out


def _first(values: list[Any]) -> Any:
    return values[0] if isinstance(values, list) and values else ""


def _canonical_object(value: dict[str, Any]) -> dict[str, Any]:
    """BFCL's accepted object `{key: [accepted values]}` to one object: each key's first value; a
    key whose first value is `""` is left out."""
    return {k: _first(vs) for k, vs in value.items() if _first(vs) != ""}


def canonical_calls(accepted: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer from the accepted ones (see the module docstring)."""
    by_name = {t["name"]: t["parameters"] for t in tools}
    calls = []
    for call in accepted:
        params = by_name[call["name"]]
        properties, required = params.get("properties", {}), params.get("required", [])
        arguments = {}
        for param, values in call["arguments"].items():
            value = values[0]
            if value == "":
                others = [v for v in values if v != ""]
                if param not in required or not others:
                    continue
                value = others[0]
            spec = properties.get(param, {})
            items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
            if spec.get("type") == "object" and isinstance(value, dict):
                value = _canonical_object(value)
            elif spec.get("type") == "array" and items.get("type") == "object" and isinstance(value, list):
                value = [_canonical_object(v) if isinstance(v, dict) else v for v in value]
            arguments[param] = value
        calls.append({"name": call["name"], "arguments": arguments})
    return calls


def convert(questions: Path, answers: Path | None, category: str) -> list[dict[str, Any]]:
    """EdgeFuncCall rows of one BFCL single-call file, in the questions file's order; `answers` None
    for an irrelevance file (every row expects no call). `category` names the rows' source and
    domain; the three SLMBench converts must come with (or, irrelevance, without) answers."""
    if not category or not category.replace("_", "").isalnum():
        raise SLMBenchError(f"BFCL category {category!r}; expected a name of letters, digits and underscores, e.g. one of {', '.join(CATEGORIES)}")
    if category in CATEGORIES and (answers is None) != (category in NO_ANSWERS):
        need = "no possible_answer file" if category in NO_ANSWERS else "its possible_answer file"
        raise SLMBenchError(f"{questions}: BFCL category {category!r} takes {need}")
    truth: dict[str, tuple[str, Any]] = {}
    if answers is not None:
        for line, answer in _lines(answers):
            key = answer.get("id")
            if not isinstance(key, str) or "ground_truth" not in answer:
                raise SLMBenchError(f"{answers}:{line}: expected an object with a string 'id' and 'ground_truth'")
            if key in truth:
                raise SLMBenchError(f"{answers}:{line}: duplicate id {key!r}")
            truth[key] = (f"{answers}:{line}", answer["ground_truth"])
    rows, seen = [], set()
    for line, question in _lines(questions):
        where = f"{questions}:{line}"
        key = question.get("id")
        if not isinstance(key, str):
            raise SLMBenchError(f"{where}: 'id' must be a string")
        if key in seen:
            raise SLMBenchError(f"{where}: duplicate id {key!r}")
        seen.add(key)
        request = _request(question, where)
        tools = _tools(question, where)
        if answers is None:
            accepted: list[dict[str, Any]] = []
        elif key not in truth:
            raise SLMBenchError(f"{where}: question {key!r} has no answer in {answers}")
        else:
            accepted = _accepted(truth[key][1], tools, truth[key][0])
        rows.append(
            {
                "id": key,
                "source": f"bfcl_{category}",
                "domain": category,
                "kind": "none" if not accepted else "single" if len(accepted) == 1 else "parallel",
                "surface": "bfcl",
                "split": "test",
                "request": request,
                "tools": tools,
                "calls": canonical_calls(accepted, tools),
                "accepted": accepted,
            }
        )
    return rows


def question_texts(path: Path) -> list[str]:
    """Every user message of a BFCL questions file, in order (for the leakage check against our data)."""
    texts = []
    for line, question in _lines(path):
        turns = question.get("question")
        if not isinstance(turns, list):
            raise SLMBenchError(f"{path}:{line}: 'question' must be a list of turns")
        for turn in turns:
            for message in turn if isinstance(turn, list) else []:
                if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
                    texts.append(message["content"])
    return texts
