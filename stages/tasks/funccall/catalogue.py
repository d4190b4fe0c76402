"""EdgeFuncCall's tool catalogue: `tools/<domain>.json`, the local API an edge agent may call.

Each file is `{"domain": <its file stem>, "version": <int>, "tools": [...]}` and each tool is in
OpenAI's tools format, `{"type": "function", "function": {"name", "description", "parameters"}}`,
where `parameters` is a JSON Schema (draft 2020-12) object: `properties`, `required` and
`additionalProperties: false` (so a stray argument fails the schema check), nested objects
alike. An optional parameter may carry a `default`, which must satisfy its own schema.

Dates are `format: date`, an ISO calendar date, YYYY-MM-DD, which `FORMAT_CHECKER` checks
strictly. A time of day is a string with the pattern `TIME_PATTERN`, 24-hour HH:MM: JSON Schema's
`format: time` is RFC 3339's full-time (seconds and a UTC offset, "19:30:00+01:00"), which no
spoken request ("wake me at 7:30 pm") carries, no alarm API wants, and which llama.cpp's grammar
builder would force on a constrained answer; a pattern means the same to jsonschema and to both
decoders' grammars (`is_time`).

`load_catalogue` reads every `*.json` of the folder in name order and refuses bad input with one
line (SLMBenchError) naming the file, and the tool and schema path where there is one: a file
that is not JSON (with its line), a wrong layout, a schema that is not valid JSON Schema (checked
with `Draft202012Validator.check_schema`), a parameters schema that is not an object, a name
listed in `required` but missing from `properties`, a default that breaks its own schema, two
tools with the same name (both files named), or files of different versions.

The catalogue's `sha256` is over the files' names and bytes, in name order, so any edit to the
catalogue changes it; `version` is the files' common `version`. Generated data records both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

from stages.core.errors import SLMBenchError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"  # a time of day, 24-hour HH:MM
TIME_RE = re.compile(TIME_PATTERN)
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def is_time(schema: dict[str, Any]) -> bool:
    """The parameter is a time of day (a string with `TIME_PATTERN`)."""
    return schema.get("type") == "string" and schema.get("pattern") == TIME_PATTERN


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if DATE_RE.fullmatch(value) is None:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checker with `date` as strictly YYYY-MM-DD (Python's fromisoformat alone takes 20270303 too)."""
    checker = jsonschema.FormatChecker()  # an instance: its checkers are its own copy
    checker.checks("date")(_is_date)
    return checker


FORMAT_CHECKER = format_checker()


@dataclass(frozen=True)
class Tool:
    name: str
    domain: str
    description: str
    parameters: dict[str, Any] = field(repr=False, hash=False, compare=False)
    path: Path = field(default=Path(), compare=False)

    @cached_property
    def validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.parameters, format_checker=FORMAT_CHECKER)

    def errors(self, arguments: Any) -> list[str]:
        """Every violation of the parameters schema by `arguments`, format checking on, as short strings."""
        out = []
        for err in self.validator.iter_errors(arguments):
            where = "/".join(str(p) for p in err.absolute_path) or "<arguments>"
            out.append(f"{where}: {err.message[:160]}")
        return sorted(out)

    def row_form(self) -> dict[str, Any]:
        """The tool as rows offer it: `{"name", "description", "parameters"}`."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.parameters.get("properties", {}))


@dataclass(frozen=True)
class Catalogue:
    tools: dict[str, Tool]  # by name, in file order then tool order
    domains: dict[str, list[str]]  # domain -> its tool names, in file order
    sha256: str
    version: str
    root: Path

    def domain_of(self, name: str) -> str:
        return self.tools[name].domain


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SLMBenchError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected a JSON tool file") from None
    except OSError as exc:
        raise SLMBenchError(f"{path}: cannot be read ({exc.strerror or exc}); expected a JSON tool file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SLMBenchError(f"{path}:{exc.lineno}: not JSON ({exc.msg} at column {exc.colno}); expected a tool file of domain, version and tools") from None


def _object_schemas(schema: dict[str, Any], at: str) -> list[tuple[str, dict[str, Any]]]:
    """(path, schema) of `schema` and of every object schema inside its properties and items."""
    out: list[tuple[str, dict[str, Any]]] = []
    stack = [(at, schema)]
    while stack:
        where, node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == "object" or "properties" in node:
            out.append((where, node))
        for key, sub in (node.get("properties") or {}).items():
            stack.append((f"{where}/properties/{key}", sub))
        if isinstance(node.get("items"), dict):
            stack.append((f"{where}/items", node["items"]))
    return sorted(out, key=lambda x: x[0])


def check_parameters(params: Any, where: str) -> None:
    """One tool's parameters schema, else one line: `where` names the file and the tool."""
    if not isinstance(params, dict) or params.get("type") != "object":
        got = type(params).__name__ if not isinstance(params, dict) else f"type {params.get('type')!r}"
        raise SLMBenchError(f'{where}: parameters: expected a JSON Schema object with "type": "object", got {got}')
    try:
        jsonschema.Draft202012Validator.check_schema(params)
    except jsonschema.SchemaError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "<root>"
        raise SLMBenchError(f"{where}: parameters is not a valid JSON Schema at {at}: {exc.message[:160]}") from None
    for at, node in _object_schemas(params, "parameters"):
        props = node.get("properties")
        if not isinstance(props, dict):
            raise SLMBenchError(f"{where}: {at}: an object schema without 'properties'; expected the parameters it takes ({{}} for none)")
        missing = [r for r in node.get("required", []) if r not in props]
        if missing:
            raise SLMBenchError(f"{where}: {at}: required parameter {missing[0]!r} is not in properties ({', '.join(props) or 'none'})")
        if node.get("additionalProperties") is not False:
            raise SLMBenchError(f'{where}: {at}: expected "additionalProperties": false, so a stray argument fails the schema check')
        for key, sub in props.items():
            if isinstance(sub, dict) and "default" in sub:
                if key in node.get("required", []):
                    raise SLMBenchError(f"{where}: {at}/properties/{key}: a required parameter with a default; expected a default only on optional ones")
                errs = list(jsonschema.Draft202012Validator(sub, format_checker=FORMAT_CHECKER).iter_errors(sub["default"]))
                if errs:
                    raise SLMBenchError(f"{where}: {at}/properties/{key}: default {sub['default']!r} breaks its own schema: {errs[0].message[:120]}")


def _tools_of(path: Path, doc: Any) -> tuple[str, int, list[Tool]]:
    if not isinstance(doc, dict):
        raise SLMBenchError(f'{path}: expected an object {{"domain", "version", "tools"}}, got {type(doc).__name__}')
    missing = [k for k in ("domain", "version", "tools") if k not in doc]
    if missing:
        raise SLMBenchError(f'{path}: missing key(s) {", ".join(missing)}; expected {{"domain", "version", "tools"}}')
    if doc["domain"] != path.stem:
        raise SLMBenchError(f"{path}: domain {doc['domain']!r}; expected the file's stem {path.stem!r}")
    if not isinstance(doc["version"], int) or isinstance(doc["version"], bool) or doc["version"] < 1:
        raise SLMBenchError(f"{path}: version {doc['version']!r}; expected a positive integer")
    if not isinstance(doc["tools"], list) or not doc["tools"]:
        raise SLMBenchError(f'{path}: tools: expected a non-empty list of {{"type": "function", "function": {{...}}}}')
    tools = []
    for n, item in enumerate(doc["tools"]):
        where = f"{path}: tools[{n}]"
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(item, dict) or item.get("type") != "function" or not isinstance(fn, dict):
            raise SLMBenchError(f'{where}: expected {{"type": "function", "function": {{"name", "description", "parameters"}}}}')
        name = fn.get("name")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise SLMBenchError(f"{where}: name {name!r}; expected a snake_case identifier")
        where = f"{path}: tool {name}"
        if not isinstance(fn.get("description"), str) or not fn["description"].strip():
            raise SLMBenchError(f"{where}: expected a non-empty string 'description'")
        if "parameters" not in fn:
            raise SLMBenchError(f"{where}: no 'parameters'; expected a JSON Schema object")
        check_parameters(fn["parameters"], where)
        tools.append(Tool(name, path.stem, fn["description"], fn["parameters"], path))
    return doc["domain"], doc["version"], tools


def load_catalogue(root: Path) -> Catalogue:
    """Every tool of `root/*.json`, checked; one line (SLMBenchError) for the first thing wrong."""
    root = Path(root)
    if not root.is_dir():
        raise SLMBenchError(f"{root}: tool catalogue folder not found; expected <dir>/<domain>.json files")
    files = sorted(root.glob("*.json"))
    if not files:
        raise SLMBenchError(f"{root}: no *.json tool files; expected <dir>/<domain>.json files")
    digest = hashlib.sha256()
    tools: dict[str, Tool] = {}
    domains: dict[str, list[str]] = {}
    versions: dict[int, Path] = {}
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(raw).digest())
        domain, version, found = _tools_of(path, _read_json(path))
        versions.setdefault(version, path)
        for tool in found:
            if tool.name in tools:
                raise SLMBenchError(f"{path}: tool {tool.name!r} is also defined in {tools[tool.name].path}; expected unique tool names")
            tools[tool.name] = tool
        domains[domain] = [t.name for t in found]
    if len(versions) > 1:
        (v1, p1), (v2, p2) = sorted(versions.items())[:2]
        raise SLMBenchError(f"{p2}: version {v2}, but {p1} has version {v1}; expected one catalogue version")
    return Catalogue(tools, domains, digest.hexdigest(), str(next(iter(versions))), root)
