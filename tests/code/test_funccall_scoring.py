"""EdgeFuncCall's scoring against BFCL's own: hand-made predictions on real BFCL rows, each judged by
stages/tasks/funccall/scoring.py on the converted row and by BFCL's AST checker (run from the
files `bash .ci/bfcl.sh` unpacks) on the original one, which must agree, with each other and with
the verdict written next to the case. Then parse_answer's refusals, no-call and parallel rows,
argument counts, name matching, and the BFCL converter (types, canonical answers, errors).

Without the unpacked BFCL files the tests that need them fail (never skip): `bash .ci/setup.sh`
fetches them."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stages.core.errors import SLMBenchError
from stages.tasks.funccall import bfcl
from stages.tasks.funccall.scoring import argument_counts, ast_match, name_match, parse_answer

# Runs BFCL's checker on the cases read from stdin, one verdict per case to stdout. ast_checker.py
# imports MODEL_CONFIG_MAPPING from bfcl_eval.constants.model_config, whose real module imports every
# model handler (and their heavy dependencies); the checker uses the mapping only to rename dotted
# function names for hosted APIs that forbid dots (`underscore_to_dot`), so a stand-in with one
# model, which keeps names as they are, takes its place.
BFCL_RUNNER = """
import json, sys, types
sys.path.insert(0, sys.argv[1])
stand_in = types.ModuleType("bfcl_eval.constants.model_config")
stand_in.MODEL_CONFIG_MAPPING = {"slmbench": types.SimpleNamespace(underscore_to_dot=False)}
sys.modules["bfcl_eval.constants.model_config"] = stand_in
from bfcl_eval.constants.enums import Language
from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
out = []
for case in json.load(sys.stdin):
    result = ast_checker(case["functions"], case["model_output"], case["possible_answer"], Language.PYTHON, case["category"], "slmbench")
    out.append({"valid": result["valid"], "error_type": result.get("error_type", "")})
json.dump(out, sys.stdout)
"""

DROP = object()  # a `variant` value: leave the argument out


def bfcl_root() -> Path:
    root = bfcl.bfcl_dir()
    if not (root / "bfcl_eval" / "eval_checker" / "ast_eval" / "ast_checker.py").is_file():
        pytest.fail(f"BFCL's data and AST checker are not unpacked at {root}: run `bash .ci/setup.sh` (its .ci/bfcl.sh fetches bfcl-eval {bfcl.VERSION})")
    return root


@cache
def bfcl_category(category: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, Any]]:
    """(our rows, BFCL's questions, BFCL's ground truths) of a category, each by id."""
    questions, answers = bfcl.category_files(category, bfcl_root())
    rows = {r["id"]: r for r in bfcl.convert(questions, answers, category)}
    originals = {q["id"]: q for q in map(json.loads, questions.read_text(encoding="utf-8").splitlines())}
    truths = {a["id"]: a["ground_truth"] for a in map(json.loads, answers.read_text(encoding="utf-8").splitlines())} if answers else {}
    return rows, originals, truths


def category_of(row_id: str) -> str:
    return row_id.rsplit("_", 1)[0]


def row(row_id: str) -> dict[str, Any]:
    return bfcl_category(category_of(row_id))[0][row_id]


def variant(row_id: str, name: str | None = None, **changes: Any) -> list[dict[str, Any]]:
    """The row's canonical call with some arguments changed (DROP: left out), or renamed."""
    [call] = row(row_id)["calls"]
    arguments = {k: v for k, v in {**call["arguments"], **changes}.items() if v is not DROP}
    return [{"name": name or call["name"], "arguments": arguments}]


def canonical(row_id: str) -> list[dict[str, Any]]:
    return row(row_id)["calls"]


def arg(row_id: str, name: str) -> Any:
    """An argument of the row's canonical call."""
    return canonical(row_id)[0]["arguments"][name]


# (row id, what the prediction tries, prediction's calls, the verdict BFCL gives)
CASES: list[tuple[str, str, Any, bool]] = [
    # simple_python_0: base, height integers; unit optional, accepted "units"
    ("simple_python_0", "the canonical answer", lambda: canonical("simple_python_0"), True),
    ("simple_python_0", "a string differing in case only", lambda: variant("simple_python_0", unit="UNITS"), True),
    ("simple_python_0", "an optional argument left out", lambda: variant("simple_python_0", unit=DROP), True),
    ("simple_python_0", "an optional argument with a wrong value", lambda: variant("simple_python_0", unit="cm"), False),
    ("simple_python_0", "a float where an integer is expected", lambda: variant("simple_python_0", base=10.0), False),
    ("simple_python_0", "a string where an integer is expected", lambda: variant("simple_python_0", base="10"), False),
    ("simple_python_0", "a boolean where an integer is expected", lambda: variant("simple_python_0", base=True), False),
    ("simple_python_0", "null where an integer is expected", lambda: variant("simple_python_0", base=None), False),
    ("simple_python_0", "a required argument left out", lambda: variant("simple_python_0", height=DROP), False),
    ("simple_python_0", "an argument the function does not declare", lambda: variant("simple_python_0", color="red"), False),
    ("simple_python_0", "two calls where one is expected", lambda: canonical("simple_python_0") * 2, False),
    ("simple_python_0", "no call where one is expected", lambda: [], False),
    ("simple_python_0", "a function that is not offered", lambda: variant("simple_python_0", name="calculate_circle_area"), False),
    ("simple_python_0", "no arguments at all", lambda: [{"name": "calculate_triangle_area", "arguments": {}}], False),
    # simple_python_2: z optional, accepted "" or 0
    ("simple_python_2", "an optional argument with an accepted value", lambda: variant("simple_python_2", z=0), True),
    ("simple_python_2", "an optional argument with another value", lambda: variant("simple_python_2", z=1), False),
    # simple_python_57: numbers and an integer
    ("simple_python_57", "an int where a number is expected", lambda: variant("simple_python_57", calibration_factor=1000000000), True),
    ("simple_python_57", "an optional number left out", lambda: variant("simple_python_57", calibration_factor=DROP), True),
    ("simple_python_57", "a numeric string where a number is expected", lambda: variant("simple_python_57", optical_density="0.6"), False),
    ("simple_python_57", "a float where an integer is expected", lambda: variant("simple_python_57", dilution=5.0), False),
    ("simple_python_99", "the int 0 where the number 0.0 is expected", lambda: variant("simple_python_99", start_range=0), True),
    ("simple_python_99", "a rounded number", lambda: variant("simple_python_99", end_range=6.28), False),
    # simple_python_200: fuel_efficiency is required, yet "" is among its accepted values
    ("simple_python_200", "an int for a required number", lambda: variant("simple_python_200", fuel_efficiency=25), True),
    ("simple_python_200", "a required argument that the answer marks optional, left out", lambda: variant("simple_python_200", fuel_efficiency=DROP), False),
    ("simple_python_200", "an optional integer given", lambda: variant("simple_python_200", efficiency_reduction=0), True),
    # simple_python_151: strings are compared standardized
    ("simple_python_151", "punctuation and case", lambda: variant("simple_python_151", country="u.s."), True),
    ("simple_python_151", "no punctuation", lambda: variant("simple_python_151", country="US"), True),
    ("simple_python_151", "a hyphen for a space", lambda: variant("simple_python_151", country="United-States"), True),
    ("simple_python_151", "another name for the country", lambda: variant("simple_python_151", country="America"), False),
    # simple_python_13: an array of numbers
    ("simple_python_13", "another accepted string, other case", lambda: variant("simple_python_13", function="Lambda X: X**2"), True),
    ("simple_python_13", "ints in an array of numbers (the item check has no int to float)", lambda: variant("simple_python_13", interval=[1, 3]), False),
    ("simple_python_13", "the array reversed", lambda: variant("simple_python_13", interval=[3.0, 1.0]), False),
    ("simple_python_13", "an optional string with an accepted value", lambda: variant("simple_python_13", method="trapezoidal"), True),
    ("simple_python_13", "an optional string with a wrong value", lambda: variant("simple_python_13", method="simpson"), False),
    # simple_python_37: an array of strings, two accepted orders
    ("simple_python_37", "the other accepted order", lambda: variant("simple_python_37", stops=["Monterey", "Santa Barbara"]), True),
    ("simple_python_37", "array strings in another case", lambda: variant("simple_python_37", stops=["santa barbara", "MONTEREY"]), True),
    ("simple_python_37", "an array missing an item", lambda: variant("simple_python_37", stops=["Santa Barbara"]), False),
    ("simple_python_37", "one string where an array is expected", lambda: variant("simple_python_37", stops="Santa Barbara, Monterey"), False),
    ("simple_python_83", "the canonical pair of coordinates", lambda: canonical("simple_python_83"), True),
    ("simple_python_83", "an object where an array is expected", lambda: variant("simple_python_83", coord1={"lat": 33.4484, "lon": -112.074}), False),
    # simple_python_89: an object parameter, compared key by key
    ("simple_python_89", "a nested object", lambda: canonical("simple_python_89"), True),
    (
        "simple_python_89",
        "nested strings in another case and another accepted value",
        lambda: variant("simple_python_89", conditions={"department": "science", "school": "Bluebird HS"}),
        True,
    ),
    ("simple_python_89", "a nested value wrong", lambda: variant("simple_python_89", conditions={"department": "Science", "school": "Greenfield"}), False),
    (
        "simple_python_89",
        "a nested key not accepted",
        lambda: variant("simple_python_89", conditions={"department": "Science", "school": "Bluebird HS", "grade": 10}),
        False,
    ),
    ("simple_python_89", "a nested key missing", lambda: variant("simple_python_89", conditions={"department": "Science"}), False),
    ("simple_python_89", "a string where an object is expected", lambda: variant("simple_python_89", conditions="department=Science"), False),
    ("simple_python_89", "an optional integer with its accepted value", lambda: variant("simple_python_89", fetch_limit=0), True),
    ("simple_python_89", "an optional integer with another value", lambda: variant("simple_python_89", fetch_limit=10), False),
    # simple_python_96: an array of objects, in order
    ("simple_python_96", "an array of objects", lambda: canonical("simple_python_96"), True),
    ("simple_python_96", "the objects in reverse order", lambda: variant("simple_python_96", conditions=arg("simple_python_96", "conditions")[::-1]), False),
    ("simple_python_96", "one object of two", lambda: variant("simple_python_96", conditions=arg("simple_python_96", "conditions")[:1]), False),
    (
        "simple_python_96",
        "an int where the object's accepted value is a string",
        lambda: variant(
            "simple_python_96", conditions=[{"field": "age", "operation": ">", "value": 25}, {"field": "job", "operation": "=", "value": "engineer"}]
        ),
        False,
    ),
    (
        "simple_python_96",
        "object strings in another case",
        lambda: variant(
            "simple_python_96", conditions=[{"field": "AGE", "operation": ">", "value": "25"}, {"field": "Job", "operation": "=", "value": "ENGINEER"}]
        ),
        True,
    ),
    # simple_python_122: an array of arrays
    ("simple_python_122", "an array of arrays", lambda: canonical("simple_python_122"), True),
    ("simple_python_122", "floats inside the inner arrays of integers", lambda: variant("simple_python_122", table=[[10.0, 20.0], [30.0, 40.0]]), True),
    ("simple_python_122", "an inner value wrong", lambda: variant("simple_python_122", table=[[10, 20], [30, 41]]), False),
    ("simple_python_122", "an optional number with another value", lambda: variant("simple_python_122", alpha=0.1), False),
    # simple_python_260: two object parameters, one optional in the schema but not in the answer
    ("simple_python_260", "two nested objects", lambda: canonical("simple_python_260"), True),
    (
        "simple_python_260",
        "a float for an integer inside an object (compared by value)",
        lambda: variant("simple_python_260", area={"width": 20.0, "height": 12}),
        True,
    ),
    ("simple_python_260", "an argument the answer requires left out", lambda: variant("simple_python_260", exclusion=DROP), False),
    ("simple_python_260", "a numeric string inside an object", lambda: variant("simple_python_260", area={"width": "20", "height": 12}), False),
    # simple_python_307: venue is a string parameter whose accepted value is the boolean true (a "variable")
    ("simple_python_307", "the answer's boolean for a string parameter", lambda: variant("simple_python_307", venue=True), True),
    ("simple_python_307", "the boolean written as a string", lambda: variant("simple_python_307", venue="True"), False),
    ("simple_python_307", "the other accepted team order", lambda: variant("simple_python_307", teams=["Clippers", "Lakers"]), True),
    # simple_python_335: deck is an array of objects accepted only as "" (left out)
    ("simple_python_335", "an empty array where only leaving it out is accepted", lambda: variant("simple_python_335", deck=[]), True),
    (
        "simple_python_335",
        "an array of objects where only leaving it out is accepted",
        lambda: variant("simple_python_335", deck=[{"rank": "Queen", "suit": "Hearts"}]),
        False,
    ),
    ("simple_python_335", "a string in another case", lambda: variant("simple_python_335", rank="queen"), True),
    # simple_python_337: an object without declared properties, with array values
    ("simple_python_337", "an object of arrays", lambda: canonical("simple_python_337"), True),
    (
        "simple_python_337",
        "an array inside an object reversed",
        lambda: variant("simple_python_337", cards={**arg("simple_python_337", "cards"), "Alex": ["K of spades", "A of spades"]}),
        False,
    ),
    # simple_python_17 and 56: booleans
    ("simple_python_17", "a boolean written as a string", lambda: variant("simple_python_17", formatted="true"), False),
    ("simple_python_17", "1 where a boolean is expected", lambda: variant("simple_python_17", formatted=1), False),
    ("simple_python_17", "the other boolean", lambda: variant("simple_python_17", formatted=False), False),
    ("simple_python_17", "a required boolean left out", lambda: variant("simple_python_17", formatted=DROP), False),
    ("simple_python_56", "an optional boolean, either value accepted", lambda: variant("simple_python_56", include_description=False), True),
    # multiple: several tools offered, one expected
    ("multiple_0", "the canonical answer among two tools", lambda: canonical("multiple_0"), True),
    ("multiple_0", "the other offered tool", lambda: variant("multiple_0", name="circle_properties.get"), False),
    ("multiple_0", "an optional boolean given", lambda: variant("multiple_0", get_area=True), True),
    ("multiple_0", "a string where a boolean is expected", lambda: variant("multiple_0", get_area="yes"), False),
    ("multiple_2", "a lower-case string", lambda: variant("multiple_2", country="brazil"), True),
    ("multiple_2", "the wrong offered tool", lambda: variant("multiple_2", name="country_info.largest_city"), False),
    ("multiple_2", "a tool that is not offered", lambda: variant("multiple_2", name="country_info.gdp"), False),
    ("multiple_2", "the right call and another", lambda: canonical("multiple_2") + variant("multiple_2", name="country_info.population"), False),
    ("multiple_5", "a date with slashes (standardized away)", lambda: variant("multiple_5", date="2019/12/13"), True),
    ("multiple_5", "strings in an array of numbers", lambda: variant("multiple_5", coordinates=["46.603354", "1.888334"]), False),
    ("multiple_8", "a float and an int inside an object", lambda: variant("multiple_8", budget={"min": 300000.0, "max": 400000}), True),
    ("multiple_8", "another accepted string", lambda: variant("multiple_8", location="San Diego, CA"), True),
    ("multiple_8", "a required nested key missing", lambda: variant("multiple_8", budget={"min": 300000}), False),
    ("multiple_8", "a string where an integer is expected", lambda: variant("multiple_8", bedrooms="3"), False),
    ("multiple_9", "an object with an extra key", lambda: variant("multiple_9", gradeDict={**arg("multiple_9", "gradeDict"), "art": 70}), False),
    ("multiple_9", "an object's keys in another order", lambda: variant("multiple_9", gradeDict=dict(reversed(arg("multiple_9", "gradeDict").items()))), True),
    ("multiple_20", "an optional string in another case", lambda: variant("multiple_20", complexity="Medium"), True),
    ("multiple_20", "an optional string with another value", lambda: variant("multiple_20", complexity="high"), False),
    ("multiple_20", "a float where an integer is expected", lambda: variant("multiple_20", size=3.5), False),
    ("multiple_50", "an optional array left out", lambda: variant("multiple_50", features=DROP), True),
    ("multiple_50", "an optional array with an item", lambda: variant("multiple_50", features=["size"]), False),
    ("multiple_119", "an array of objects among four tools", lambda: canonical("multiple_119"), True),
    ("multiple_119", "the objects in reverse order", lambda: variant("multiple_119", conditions=arg("multiple_119", "conditions")[::-1]), False),
    ("multiple_178", "an empty array where only leaving it out is accepted", lambda: variant("multiple_178", deck=[]), True),
]


def bfcl_verdicts(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BFCL's own ast_checker on (functions, model output, possible answer, category) cases."""
    done = subprocess.run([sys.executable, "-c", BFCL_RUNNER, str(bfcl_root())], input=json.dumps(cases), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"BFCL's checker failed: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def test_agrees_with_bfcls_own_checker() -> None:
    cases, ours = [], []
    for row_id, _, make, _ in CASES:
        calls = make()
        rows, originals, truths = bfcl_category(category_of(row_id))
        cases.append(
            {
                "functions": originals[row_id]["function"],
                "model_output": [{c["name"]: c["arguments"]} for c in calls],
                "possible_answer": truths[row_id],
                "category": category_of(row_id),
            }
        )
        ours.append(ast_match(rows[row_id]["tools"], rows[row_id]["accepted"], calls))
    theirs = bfcl_verdicts(cases)
    disagree = [
        f"{row_id} ({what}): ours {ok} {error!r}, BFCL {verdict['valid']} {verdict['error_type']!r}, meant {meant}"
        for (row_id, what, _, meant), (ok, error), verdict in zip(CASES, ours, theirs, strict=True)
        if not (ok == verdict["valid"] == meant)
    ]
    assert not disagree, "\n".join(disagree)
    # the error types agree too, except the wrong-count one, which BFCL names after its category's checker
    types = [(row_id, error, v["error_type"]) for (row_id, *_), (_, error), v in zip(CASES, ours, theirs, strict=True) if not v["valid"]]
    assert [t for t in types if t[1] != t[2] and not t[2].endswith(":wrong_count")] == []
    assert len(CASES) >= 50
    verdicts = [v["valid"] for v in theirs]
    assert verdicts.count(True) >= 20 and verdicts.count(False) >= 20


def test_every_canonical_answer_of_bfcl_passes() -> None:
    for category, n in (("simple_python", 400), ("multiple", 200)):
        rows = bfcl_category(category)[0]
        assert len(rows) == n
        for r in rows.values():
            assert ast_match(r["tools"], r["accepted"], r["calls"]) == (True, ""), r["id"]
            tp, fp, fn = argument_counts(r["tools"], r["accepted"], r["calls"])
            assert tp == len(r["calls"][0]["arguments"]) and fp == fn == 0, r["id"]
            assert r["kind"] == "single" and r["source"] == f"bfcl_{category}" and r["split"] == "test"
            # the canonical answer fits the converted schema, so constrained decoding can produce it
            [tool] = [t for t in r["tools"] if t["name"] == r["calls"][0]["name"]]
            jsonschema.Draft202012Validator(tool["parameters"]).validate(r["calls"][0]["arguments"])
    questions, answers = bfcl.category_files("irrelevance", bfcl_root())
    irrelevance = bfcl.convert(questions, answers, "irrelevance")
    assert len(irrelevance) == 240
    assert {(r["kind"], json.dumps(r["calls"]), json.dumps(r["accepted"])) for r in irrelevance} == {("none", "[]", "[]")}
    assert bfcl.question_texts(questions) == [r["request"] for r in irrelevance]


# ---- parse_answer ----


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "{",
        "[]",
        "null",
        '{"call": []}',
        '{"calls": {}}',
        '{"calls": "f(1)"}',
        '{"calls": [1]}',
        '{"calls": [["f", {}]]}',
        '{"calls": [{"name": "f"}]}',
        '{"calls": [{"arguments": {}}]}',
        '{"calls": [{"name": 3, "arguments": {}}]}',
        '{"calls": [{"name": "f", "arguments": []}]}',
        '{"calls": [{"name": "f", "arguments": "x=1"}]}',
        '{"calls": [{"name": "f", "arguments": null}]}',
        '{"calls": [{"name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": [1]}]}',
        '{"calls": [{"name": "f", "arguments": {"x": NaN}}]}',
        '{"calls": [], "calls": []}',
        '```json\n{"calls": []}\n```',
        '{"calls": [{"name": "f", "arguments": {"x": ' + "[" * 40 + "]" * 40 + "}}]}",
        "[" * 100_000,
        '{"calls": [{"name": "f", "arguments": {"x": "' + "a" * 70_000 + '"}}]}',
    ],
)
def test_parse_answer_refuses(text: str) -> None:
    assert parse_answer(text) is None


def test_parse_answer_reads_calls() -> None:
    assert parse_answer('{"calls": []}') == []
    assert parse_answer(' {"calls": [{"name": "f", "arguments": {"x": 1, "y": [true, null]}}]}\n') == [{"name": "f", "arguments": {"x": 1, "y": [True, None]}}]
    # keys beside these are the answer schema's business, not the parser's
    assert parse_answer('{"calls": [{"name": "f", "arguments": {}, "id": 1}], "note": "x"}') == [{"name": "f", "arguments": {}}]
    for not_text in (None, b'{"calls": []}', 3):
        assert parse_answer(not_text) is None  # type: ignore[arg-type]


# ---- ast_match on no-call and parallel rows ----

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
TIME = {"name": "get_time", "description": "Local time.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TOOLS = [WEATHER, TIME]
PARALLEL = [
    {"name": "get_weather", "arguments": {"city": ["Paris"], "unit": ["", "celsius"]}},
    {"name": "get_weather", "arguments": {"city": ["Rome"]}},
    {"name": "get_time", "arguments": {"city": ["Rome"]}},
]


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def test_no_call_rows() -> None:
    assert ast_match(TOOLS, [], []) == (True, "")
    assert ast_match(TOOLS, [], [call("get_time", city="Rome")]) == (False, "irrelevance_error:decoder_success")
    assert ast_match(TOOLS, [], None) == (False, "ast_decoder:decoder_failed")
    assert ast_match(TOOLS, PARALLEL[:1], []) == (False, "simple_function_checker:wrong_count")


def test_parallel_rows_match_in_any_order() -> None:
    right = [call("get_weather", city="Paris"), call("get_weather", city="rome"), call("get_time", city="Rome")]
    assert ast_match(TOOLS, PARALLEL, right) == (True, "")
    assert ast_match(TOOLS, PARALLEL, right[::-1]) == (True, "")
    assert ast_match(TOOLS, PARALLEL, [right[2], right[0], right[1]]) == (True, "")
    assert ast_match(TOOLS, PARALLEL, right[:2]) == (False, "parallel_function_checker_no_order:wrong_count")
    twice = [right[0], right[0], right[2]]
    assert ast_match(TOOLS, PARALLEL, twice) == (False, "parallel_function_checker_no_order:cannot_find_match")


def test_greedy_matching_as_bfcl() -> None:
    """Each expected call takes the first predicted call that fits it, as BFCL's no-order checker
    does, even where another assignment would match both."""
    tools = [{"name": "f", "description": "", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}]
    accepted = [call("f", x=[1, 2]), call("f", x=[1])]
    assert ast_match(tools, accepted, [call("f", x=2), call("f", x=1)]) == (True, "")
    assert ast_match(tools, accepted, [call("f", x=1), call("f", x=2)]) == (False, "parallel_function_checker_no_order:cannot_find_match")


def test_malformed_calls_are_wrong_not_errors() -> None:
    accepted = PARALLEL[:1]
    for calls in (
        [call("get_forecast", city="Paris")],  # not offered
        [{"name": "get_weather", "arguments": ["Paris"]}],
        [{"name": "get_weather", "arguments": "city=Paris"}],
        [{"name": "get_weather"}],
        ["get_weather"],
        [call("get_weather", city=["Paris"])],
        [call("get_weather", city={"name": "Paris"})],
        [call("get_weather", city="Paris", unit=10**400)],
    ):
        ok, error = ast_match(TOOLS, accepted, calls)
        assert not ok and error, calls
        argument_counts(TOOLS, accepted, calls)
        name_match(accepted, calls)
    numbers = [{"name": "f", "description": "", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}]
    assert ast_match(numbers, [call("f", x=[1.5])], [call("f", x=10**400)]) == (False, "type_error:simple")  # too large for a float
    objects = {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}}
    tools = [{"name": "g", "description": "", "parameters": {"type": "object", "properties": {"xs": objects}, "required": []}}]
    # "" accepted skips the item type check (BFCL), so a non-object item reaches the object comparison
    assert ast_match(tools, [call("g", xs=["", [{"a": ["b"]}]])], [call("g", xs=[7])]) == (False, "type_error:nested")


# ---- argument_counts and name_match ----


def test_argument_counts() -> None:
    one = PARALLEL[:1]
    assert argument_counts(TOOLS, one, [call("get_weather", city="Paris")]) == (1, 0, 0)
    assert argument_counts(TOOLS, one, [call("get_weather", city="Paris", unit="Celsius")]) == (2, 0, 0)  # optional, right
    assert argument_counts(TOOLS, one, [call("get_weather", city="Paris", unit="kelvin")]) == (1, 1, 0)  # optional, wrong
    assert argument_counts(TOOLS, one, [call("get_weather", city="Lyon")]) == (0, 1, 1)
    assert argument_counts(TOOLS, one, [call("get_weather", city="Paris", wind=True)]) == (1, 1, 0)
    assert argument_counts(TOOLS, one, [call("get_time", city="Paris")]) == (0, 1, 1)  # wrong function
    assert argument_counts(TOOLS, one, []) == (0, 0, 1)
    assert argument_counts(TOOLS, one, None) == (0, 0, 1)
    assert argument_counts(TOOLS, [], [call("get_time", city="Rome")]) == (0, 1, 0)
    right = [call("get_weather", city="Paris"), call("get_weather", city="Rome"), call("get_time", city="Rome")]
    # calls of one function pair with the expected call they match, whatever their order
    assert argument_counts(TOOLS, PARALLEL, right[::-1]) == (3, 0, 0)
    assert argument_counts(TOOLS, PARALLEL, [call("get_weather", city="Rome"), call("get_weather", city="Oslo")]) == (1, 1, 2)
    assert argument_counts(TOOLS, PARALLEL, right + [call("get_time", city="Oslo")]) == (3, 1, 0)


def test_name_match() -> None:
    assert name_match(PARALLEL, [call("get_time"), call("get_weather"), call("get_weather", city="x")])
    assert not name_match(PARALLEL, [call("get_time"), call("get_weather")])
    assert not name_match(PARALLEL[:1], [call("get_weather"), call("get_weather")])
    assert name_match([], []) and not name_match([], [call("get_time")])
    assert not name_match(PARALLEL[:1], None)
    assert not name_match(PARALLEL[:1], [{"name": ["get_weather"], "arguments": {}}])


# ---- the BFCL converter ----

FUNCTION = {
    "name": "shop.order",
    "description": "Order items.",
    "parameters": {
        "type": "dict",
        "properties": {
            "items": {
                "type": "array",
                "description": "What to order.",
                "items": {"type": "dict", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "default": 1}}, "required": ["sku"]},
            },
            "address": {"type": "dict", "properties": {"city": {"type": "string"}}, "description": "Where to.", "optional": True},
            "where": {"type": "tuple", "items": {"type": "float"}},
            "notes": {"type": "dict", "description": "Anything."},
            "speed": {"type": "string", "enum": ["slow", "fast"], "default": "slow", "format": "word"},
            "gift": {"type": "boolean"},
            "ref": {"type": "any"},
            "budget": {"type": "float", "maximum": 400},
        },
        "required": ["items", "where", "budget"],
    },
}
ANSWER = {
    "shop.order": {
        "items": [[{"sku": ["A1", "a-1"], "qty": [2]}, {"sku": ["B2"], "qty": ["", 1]}]],
        "address": [{"city": ["Oslo"]}],
        "where": [[59.9, 10.7]],
        "notes": ["", {"door": ["back"]}],
        "speed": ["fast", ""],
        "gift": ["", True],
        "budget": ["", 300.0],
    }
}


def put_bfcl(folder: Path, questions: list[Any], answers: list[Any] | None = None) -> tuple[Path, Path | None]:
    folder.mkdir(parents=True, exist_ok=True)
    q = folder / "questions.json"
    q.write_text("".join(json.dumps(x) + "\n" for x in questions), encoding="utf-8")
    if answers is None:
        return q, None
    a = folder / "answers.json"
    a.write_text("".join(json.dumps(x) + "\n" for x in answers), encoding="utf-8")
    return q, a


def question(qid: str, function: dict[str, Any] = FUNCTION, text: str = "Order two A1 to Oslo.") -> dict[str, Any]:
    return {"id": qid, "question": [[{"role": "user", "content": text}]], "function": [function]}


def error_of(fn: Any, *args: Any) -> str:
    with pytest.raises(SLMBenchError) as exc:
        fn(*args)
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def test_convert_maps_types_to_json_schema(tmp_path: Path) -> None:
    q, a = put_bfcl(tmp_path, [question("simple_python_0")], [{"id": "simple_python_0", "ground_truth": [ANSWER]}])
    [row] = bfcl.convert(q, a, "simple_python")
    assert {k: row[k] for k in ("id", "source", "domain", "kind", "surface", "split", "request")} == {
        "id": "simple_python_0",
        "source": "bfcl_simple_python",
        "domain": "simple_python",
        "kind": "single",
        "surface": "bfcl",
        "split": "test",
        "request": "Order two A1 to Oslo.",
    }
    [tool] = row["tools"]
    assert tool["name"] == "shop.order" and tool["description"] == "Order items."
    assert tool["parameters"] == {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "description": "What to order.",
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "default": 1}},
                    "required": ["sku"],
                    "additionalProperties": False,
                },
            },
            "address": {"type": "object", "description": "Where to.", "properties": {"city": {"type": "string"}}, "additionalProperties": False},
            "where": {"type": "array", "items": {"type": "number"}},
            "notes": {"type": "object", "description": "Anything."},
            "speed": {"type": "string", "enum": ["slow", "fast"], "default": "slow"},
            "gift": {"type": "boolean"},
            "ref": {"type": "string"},
            "budget": {"type": "number"},
        },
        "required": ["items", "where", "budget"],
        "additionalProperties": False,
    }
    assert row["accepted"] == [{"name": "shop.order", "arguments": ANSWER["shop.order"]}]
    # first accepted values; "" first: left out, unless required (budget); objects one level down
    assert row["calls"] == [
        {
            "name": "shop.order",
            "arguments": {
                "items": [{"sku": "A1", "qty": 2}, {"sku": "B2"}],
                "address": {"city": "Oslo"},
                "where": [59.9, 10.7],
                "speed": "fast",
                "budget": 300.0,
            },
        }
    ]
    assert ast_match(row["tools"], row["accepted"], row["calls"]) == (True, "")


def test_convert_parallel_and_irrelevance(tmp_path: Path) -> None:
    two = {"id": "multiple_3", "ground_truth": [ANSWER, ANSWER]}
    q, a = put_bfcl(tmp_path / "m", [question("multiple_3")], [two])
    assert bfcl.convert(q, a, "multiple")[0]["kind"] == "parallel"
    q, _ = put_bfcl(tmp_path / "i", [question("irrelevance_0", text="Sing.")])
    [row] = bfcl.convert(q, None, "irrelevance")
    assert (row["kind"], row["calls"], row["accepted"], row["source"]) == ("none", [], [], "bfcl_irrelevance")
    assert bfcl.question_texts(q) == ["Sing."]


def test_convert_unknown_type_is_one_line(tmp_path: Path) -> None:
    function = json.loads(json.dumps(FUNCTION))
    function["parameters"]["properties"]["where"]["items"]["type"] = "datetime"
    q, a = put_bfcl(
        tmp_path, [question("simple_python_0"), question("simple_python_1", function)], [{"id": f"simple_python_{i}", "ground_truth": [ANSWER]} for i in (0, 1)]
    )
    message = error_of(bfcl.convert, q, a, "simple_python")
    assert message.startswith(f"{q}:2: $.function[0].parameters.properties.where.items has type 'datetime'; expected one of ")
    for known in bfcl.TYPES:
        assert known in message


def test_convert_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    answer = [{"id": "simple_python_0", "ground_truth": [ANSWER]}]
    q, a = put_bfcl(tmp_path / "a", [question("simple_python_0"), question("simple_python_9")], answer)
    assert error_of(bfcl.convert, q, a, "simple_python") == f"{q}:2: question 'simple_python_9' has no answer in {a}"
    two_turns = {**question("simple_python_0"), "question": [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]}
    q, a = put_bfcl(tmp_path / "b", [two_turns], answer)
    assert "has 2 turns; expected one user turn" in error_of(bfcl.convert, q, a, "simple_python")
    system = {**question("simple_python_0"), "question": [[{"role": "system", "content": "a"}]]}
    q, a = put_bfcl(tmp_path / "c", [system], answer)
    assert "'system' turn; expected one user turn" in error_of(bfcl.convert, q, a, "simple_python")
    not_offered = [{"id": "simple_python_0", "ground_truth": [{"shop.cancel": {}}]}]
    q, a = put_bfcl(tmp_path / "d", [question("simple_python_0")], not_offered)
    assert error_of(bfcl.convert, q, a, "simple_python").startswith(f"{a}:1: ground_truth[0] calls 'shop.cancel', which the question does not offer")
    assert "takes its possible_answer file" in error_of(bfcl.convert, q, None, "simple_python")
    assert "expected a name of letters, digits and underscores" in error_of(bfcl.convert, q, a, "simple/python")
    q, a = put_bfcl(tmp_path / "e", [question("simple_python_0")], answer)
    assert [r["source"] for r in bfcl.convert(q, a, "live_simple")] == ["bfcl_live_simple"]  # any single-call file, named by the caller
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x"\n', encoding="utf-8")
    assert error_of(bfcl.convert, broken, None, "irrelevance").startswith(f"{broken}:1: broken JSONL line")
