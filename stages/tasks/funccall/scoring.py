"""EdgeFuncCall's scoring: a model's answer text to calls, and calls against a row's accepted
answers by the AST rules of the Berkeley Function Calling Leaderboard (BFCL).

The rules are a port of BFCL's Python AST checker, `bfcl_eval/eval_checker/ast_eval/ast_checker.py`
in github.com/ShishirPatil/gorilla (berkeley-function-call-leaderboard; bfcl-eval 2026.3.23 on
PyPI, Apache License 2.0): `simple_function_checker` with `type_checker` (its `is_variable` rule
included), `standardize_string`, `string_checker`, `list_checker`, `dict_checker`,
`list_dict_checker` and `parallel_function_checker_no_order`, kept rule for rule, quirks and
all, so a verdict here is BFCL's verdict (tests/code/test_funccall_scoring.py runs BFCL's own
checker, extracted by `bash .ci/bfcl.sh`, on the same predictions). In short, per call:

- the name must be the expected function's; every `required` parameter must be given, and every
  accepted parameter without `""` among its values (`""`: it may be left out);
- a parameter the function does not declare, or that the accepted answer does not list, is wrong;
- a value must have the parameter's type, compared with `type(x) is` (a boolean is not an
  integer), where an integer counts as a number (BFCL converts int to float, for the argument
  itself only: an integer item of an array of numbers fails); an array's items are checked
  against `items.type`, one level deep; when the accepted values are of another type than
  the declared one (BFCL's "variable" answers, e.g. a variable name where a number is declared),
  a value of the accepted values' type passes and is compared as is;
- strings are compared after `standardize_string` (lower case; spaces and `,./-_*^` removed;
  `'` read as `"`), also inside arrays and as object values; objects key by key against each
  accepted object (a missing key is allowed when `""` is among its values); arrays of objects
  item by item, in order; anything else by Python equality (`1 == 1.0`).

Rows differ from BFCL's files only in spelling: a call is `{"name", "arguments"}` rather than
`{name: arguments}`, and tool schemas use JSON Schema types, read through `PYTHON_TYPES` the way
BFCL reads its own (`float` is `number`, `dict` is `object`, `tuple` is `array`, `any` is
`string`; stages/tasks/funccall/bfcl.py converts). The call list is matched with BFCL's greedy
no-order algorithm (its `parallel` categories); with one expected call that is BFCL's `simple` and
`multiple` checkers, whose error types `ast_match` then reports.

Where BFCL would crash on a model's output, the output is wrong here instead: a call that is not an
object or whose arguments are not an object (BFCL's decoder refuses these first:
`ast_decoder:decoder_wrong_output_format`), an item of an array of objects that is not an object
(`type_error:nested`; BFCL skips the item type check when `""` is an accepted value), and an
integer too large to convert to a float. An array declared without `items.type` gets no item check
(BFCL needs one). BFCL's function-name rewriting for hosted APIs that forbid dots in names
(`underscore_to_dot`) does not apply: our answers name functions as offered.

`argument_counts` gives argument-level counts for a micro F1 (not a BFCL figure). Predicted calls
are paired with expected calls of the same name: each takes the first unused expected call that it
matches fully by the rules above, else the first unused one of its name. Then:

- expected arguments: per expected call, the parameters that must be given (no `""` among their
  accepted values), plus the optional ones its paired prediction gave with a passing value;
- a predicted argument is a true positive when its call is paired and its value passes BFCL's
  check for that parameter (`param_result`); every other predicted argument (unpaired call,
  parameter not expected, value wrong) is a false positive;
- a false negative is an expected argument with no true positive: missing, given a wrong value, or
  in an expected call no prediction paired with.

A call without arguments adds nothing, so a wrong call on a no-call row shows in `ast_match`, not
here, unless it has arguments. Model output is untrusted: `parse_answer` never raises, and
nothing in the calls it returns can make the scorers raise. The rows' tools and accepted answers
are trusted (stages/tasks/funccall/rows.py checks them); a tool parameter without a known type is
a one-line SLMBenchError.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.records import nesting

MAX_ANSWER_CHARS = 64_000  # a longer answer is a failure, not something to parse
MAX_DEPTH = 32  # levels of objects and arrays in an answer; deeper is a failure

# JSON Schema types to the Python types BFCL checks values against (BFCL's PYTHON_TYPE_MAPPING).
PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool, "array": list, "object": dict}
# Types whose items are type-checked one level deep (BFCL's PYTHON_NESTED_TYPE_CHECK_LIST: array, tuple).
NESTED_TYPE_CHECK = ("array",)

Result = dict[str, Any]  # {"valid": bool, "error_type": str}, plus "is_variable" from type_checker


def _valid() -> Result:
    return {"valid": True, "error_type": ""}


def _invalid(error_type: str) -> Result:
    return {"valid": False, "error_type": error_type}


class _Reject(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise _Reject(f"{name} is not JSON")


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Reject(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_answer(text: str) -> list[dict[str, Any]] | None:
    """The calls of a JSON answer, `{"calls": [{"name": str, "arguments": {...}}, ...]}`, or None.

    None for anything else: not text, longer than MAX_ANSWER_CHARS, not JSON (a code fence, NaN or
    Infinity, a duplicate key), nested deeper than MAX_DEPTH, not an object with a `calls` list, or
    a call that is not an object with a string `name` and an object `arguments`. Other keys, beside
    these, are left to the answer schema (the `schema_valid` figure). Never raises."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
        return None
    try:
        value = json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # JSONDecodeError and _Reject are ValueErrors
        return None
    if nesting(value) > MAX_DEPTH or not isinstance(value, dict) or not isinstance(value.get("calls"), list):
        return None
    calls = value["calls"]
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not isinstance(call.get("arguments"), dict):
            return None
    return [{"name": c["name"], "arguments": c["arguments"]} for c in calls]


# ---- BFCL's rules, ported ----


def _python_type(spec: Any, where: str) -> type:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if not isinstance(kind, str) or kind not in PYTHON_TYPES:
        raise SLMBenchError(f"{where}: type {kind!r}; expected one of {', '.join(PYTHON_TYPES)}")
    return PYTHON_TYPES[kind]


def _answer_type(possible_answer: list[Any]) -> type | None:
    """The type of the first accepted value that is not `""` (BFCL's get_possible_answer_type)."""
    for answer in possible_answer:
        if answer != "":
            return type(answer)
    return None


def type_checker(value: Any, possible_answer: list[Any], expected_type: type, nested_type: type | None) -> Result:
    """BFCL's type_checker: the value's type against the declared one, or against the accepted
    values' type when they differ from it (then `is_variable`); items one level deep."""
    result: Result = {"valid": True, "error_type": "type_error:simple", "is_variable": False}
    is_variable = False
    answer_type = _answer_type(possible_answer)
    if answer_type is not None and answer_type is not expected_type:
        is_variable = True
    if type(value) is expected_type:
        if nested_type is None:
            result["is_variable"] = is_variable
            return result
        for item in possible_answer:
            flag = True  # an accepted value that is not a list (`""`) passes every item
            if type(item) is list:
                for value_item in value:
                    if not type_checker(value_item, item, nested_type, None)["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error_type": "", "is_variable": is_variable}
        result["valid"] = False
        result["error_type"] = "type_error:nested"
    # BFCL falls through here after a failed item check too: a value of the accepted values' type
    # returns that failure as is (marked variable); anything else is a simple type error.
    if answer_type is not None and type(value) is answer_type:
        result["is_variable"] = True
        return result
    result["valid"] = False
    result["error_type"] = "type_error:simple"
    return result


def standardize_string(text: str) -> str:
    """BFCL's: spaces and `,./-_*^` removed, lower case, `'` as `"`; so "April 1, 2024" is "April 1 2024"."""
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def string_checker(value: str, possible_answer: list[Any]) -> Result:
    if standardize_string(value) not in [standardize_string(a) for a in possible_answer if type(a) is str]:
        return _invalid("value_error:string")
    return _valid()


def list_checker(value: list[Any], possible_answer: list[Any]) -> Result:
    """The list, its strings standardized, equal to one accepted list. BFCL iterates every accepted
    value as a list, so `""` (optional) reads as `[]`: an empty list passes where `""` is accepted."""
    candidates = [[_std(x) for x in answer] for answer in possible_answer if isinstance(answer, (list, str))]
    if [_std(x) for x in value] not in candidates:
        return _invalid("value_error:list/tuple")
    return _valid()


def dict_checker(value: Any, possible_answers: list[Any]) -> Result:
    """The object against each accepted object (`{key: [accepted values]}`) in turn: each key must
    be accepted with a value among the key's (strings standardized), and each key without `""` among
    its values must be there. Values are compared as they are, one level deep, like BFCL's."""
    if type(value) is not dict:  # an item of an array of objects that skipped the item type check (BFCL crashes)
        return _invalid("type_error:nested")
    result = _invalid("dict_checker:unclear")
    for possible_answer in possible_answers:
        if possible_answer == "" or not isinstance(possible_answer, dict):
            continue
        result = _invalid("dict_checker:unclear")
        flag = True
        for key, item in value.items():
            if key not in possible_answer:
                result = _invalid("value_error:dict_key")
                flag = False
                break
            if _std(item) not in [_std(a) for a in possible_answer[key]]:
                result = _invalid("value_error:dict_value")
                flag = False
                break
        # BFCL runs this loop even after a failure above (its error type then says dict_key)
        for key, accepted in possible_answer.items():
            if key not in value and "" not in accepted:
                result = _invalid("value_error:dict_key")
                flag = False
                break
        if flag:
            return _valid()
    return result


def list_dict_checker(value: list[Any], possible_answers: list[Any]) -> Result:
    """An array of objects against each accepted array: the same length, and item i passing
    dict_checker against accepted item i. BFCL reads `""` as an accepted array of length 0."""
    result = _invalid("list_dict_checker:unclear")
    for answer in possible_answers:
        if not isinstance(answer, (list, str)):
            continue
        flag = True
        if len(value) != len(answer):
            result = _invalid("value_error:list_dict_count")
            continue
        for index in range(len(value)):
            result = dict_checker(value[index], [answer[index]])
            if not result["valid"]:
                flag = False
                break
        if flag:
            return _valid()
    return result


def _tool_params(tool: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    params = tool.get("parameters") or {}
    return params.get("properties") or {}, list(params.get("required") or [])


def param_result(tool: dict[str, Any], possible_answer: dict[str, list[Any]], param: str, value: Any) -> Result:
    """One predicted argument of a call to `tool` against the expected call's accepted arguments:
    the body of BFCL's per-parameter loop in simple_function_checker, for Python."""
    properties, _ = _tool_params(tool)
    if param not in properties or param not in possible_answer:
        return _invalid("simple_function_checker:unexpected_param")
    spec = properties[param]
    where = f"tool {tool.get('name')!r}: parameter {param!r}"
    expected_type = _python_type(spec, where)
    nested_type = None
    if spec["type"] in NESTED_TYPE_CHECK and isinstance(spec.get("items"), dict) and "type" in spec["items"]:
        nested_type = _python_type(spec["items"], f"{where} items")
    # BFCL lets an int stand for a float (Python's own conversion)
    if spec["type"] == "number" and type(value) is int:
        try:
            value = float(value)
        except OverflowError:
            pass  # too large for a float: stays an int, and fails the type check
    accepted = possible_answer[param]
    checked = type_checker(value, accepted, expected_type, nested_type)
    if not checked["valid"]:
        return _invalid(checked["error_type"])
    # a "variable" answer is compared as is, whatever the declared type
    if not checked["is_variable"]:
        if expected_type is dict:
            return dict_checker(value, accepted)
        if expected_type is list and nested_type is dict:
            return list_dict_checker(value, accepted)
        if expected_type is str:
            return string_checker(value, accepted)
        if expected_type is list:
            return list_checker(value, accepted)
    if value not in accepted:
        return _invalid("value_error:others")
    return _valid()


def simple_function_checker(tool: dict[str, Any], call: Any, expected: dict[str, Any]) -> Result:
    """One predicted call against one expected call (`expected["name"]` is `tool`'s name)."""
    if not isinstance(call, dict) or type(call.get("arguments")) is not dict:
        return _invalid("ast_decoder:decoder_wrong_output_format")
    if call.get("name") != tool["name"]:
        return _invalid("simple_function_checker:wrong_func_name")
    model_params: dict[str, Any] = call["arguments"]
    possible_answer: dict[str, list[Any]] = expected["arguments"]
    _, required = _tool_params(tool)
    for param in required:
        if param not in model_params:
            return _invalid("simple_function_checker:missing_required")
    for param, value in model_params.items():
        result = param_result(tool, possible_answer, param, value)
        if not result["valid"]:
            return result
    for param, accepted in possible_answer.items():
        if param not in model_params and "" not in accepted:
            return _invalid("simple_function_checker:missing_optional")
    return _valid()


def _tool(tools: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for tool in tools:
        if tool.get("name") == name:
            return tool
    raise SLMBenchError(f"accepted call {name!r} names a function the row does not offer (offered: {', '.join(str(t.get('name')) for t in tools) or 'none'})")


def parallel_function_checker_no_order(tools: list[dict[str, Any]], calls: list[Any], accepted: list[dict[str, Any]]) -> Result:
    """BFCL's greedy matching: each expected call in turn takes the first unused predicted call that
    passes simple_function_checker against it."""
    if len(calls) != len(accepted):
        return _invalid("parallel_function_checker_no_order:wrong_count")
    matched: list[int] = []
    for expected in accepted:
        tool = _tool(tools, expected["name"])
        found = False
        for index, call in enumerate(calls):
            if index in matched:
                continue
            if simple_function_checker(tool, call, expected)["valid"]:
                matched.append(index)
                found = True
                break
        if not found:
            return _invalid("parallel_function_checker_no_order:cannot_find_match")
    return _valid()


# ---- the task's verdicts ----


def ast_match(tools: list[dict[str, Any]], accepted: list[dict[str, Any]], calls: list[dict[str, Any]] | None) -> tuple[bool, str]:
    """(right by BFCL's AST rules, BFCL's error type or "" when right) for a prediction's calls.

    A no-call row (`accepted == []`) is right when `calls == []`. Otherwise the number of calls must
    be the number expected, and the calls are matched without order. With one expected call the
    error type is simple_function_checker's (as BFCL's simple and multiple categories report it).
    `calls` None (an answer that did not parse) is wrong: `ast_decoder:decoder_failed`."""
    if calls is None or not isinstance(calls, list):
        return False, "ast_decoder:decoder_failed"
    if not accepted:
        return (True, "") if calls == [] else (False, "irrelevance_error:decoder_success")
    if len(accepted) == 1:
        if len(calls) != 1:
            return False, "simple_function_checker:wrong_count"
        result = simple_function_checker(_tool(tools, accepted[0]["name"]), calls[0], accepted[0])
    else:
        result = parallel_function_checker_no_order(tools, calls, accepted)
    return bool(result["valid"]), str(result["error_type"]) if not result["valid"] else ""


def _pairs(tools: list[dict[str, Any]], accepted: list[dict[str, Any]], calls: list[Any]) -> list[int | None]:
    """For each predicted call, the index of its expected call or None (see the module docstring)."""
    used: set[int] = set()
    out: list[int | None] = []
    for call in calls:
        name = call.get("name") if isinstance(call, dict) else None
        same = [j for j, expected in enumerate(accepted) if j not in used and isinstance(name, str) and expected["name"] == name]
        full = [j for j in same if simple_function_checker(_tool(tools, accepted[j]["name"]), call, accepted[j])["valid"]]
        j = (full or same or [None])[0]
        if j is not None:
            used.add(j)
        out.append(j)
    return out


def argument_counts(tools: list[dict[str, Any]], accepted: list[dict[str, Any]], calls: list[dict[str, Any]] | None) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) over arguments, for a micro F1; the
    definition is in the module docstring. `calls` None counts as no call."""
    calls = calls if isinstance(calls, list) else []
    tp = fp = fn = 0
    pairs = _pairs(tools, accepted, calls)
    for call, j in zip(calls, pairs, strict=True):
        args = call.get("arguments") if isinstance(call, dict) else None
        args = args if type(args) is dict else {}
        if j is None:
            fp += len(args)
            continue
        tool, possible_answer = _tool(tools, accepted[j]["name"]), accepted[j]["arguments"]
        passed = {param for param, value in args.items() if param_result(tool, possible_answer, param, value)["valid"]}
        tp += len(passed)
        fp += len(args) - len(passed)
        fn += sum(1 for param, values in possible_answer.items() if "" not in values and param not in passed)
    for j in set(range(len(accepted))) - {p for p in pairs if p is not None}:
        fn += sum(1 for values in accepted[j]["arguments"].values() if "" not in values)
    return tp, fp, fn


def name_match(accepted: list[dict[str, Any]], calls: list[dict[str, Any]] | None) -> bool:
    """The multiset of function names called equals the expected one (both empty on a no-call row)."""
    if not isinstance(calls, list):
        return False
    names = [c.get("name") if isinstance(c, dict) else None for c in calls]
    if not all(isinstance(n, str) for n in names):
        return False
    return Counter(names) == Counter(a["name"] for a in accepted)
