"""EdgeFuncCall's data half on small row counts: the tool catalogue and its one-line errors, the
generator (byte-identical reruns, the mix asked for, rows that pass their own checks and BFCL's
scorer), the normalisers behind the grounding check, mutation tests (a row made to break each
check is caught by it, and by the Great Expectations gate), the split, and the generator's
throughput (computed, not asserted)."""

from __future__ import annotations

import copy
import json
import shutil
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from stages.core.errors import SLMBenchError
from stages.data.gx import gx_gate
from stages.pipeline import split as split_stage
from stages.pipeline import validate as validate_stage
from stages.tasks.funccall import checks, generate
from stages.tasks.funccall import gate as funccall_gate
from stages.tasks.funccall import generate_stage as funccall_generate
from stages.tasks.funccall.catalogue import TIME_PATTERN, is_time, load_catalogue
from stages.tasks.funccall.rows import check_row, write_call_rows
from stages.tasks.funccall.scoring import ast_match

RECIPE: dict[str, Any] = {
    "seed": 11,
    "rows": 240,
    "test_fraction": 0.25,
    "none_share": 0.15,
    "parallel_share": 0.15,
    "distractors": (1, 4),
    "similar_share": 0.3,
    "surfaces": ["imperative", "question", "indirect", "filler"],
}
GATE = {"max_reject_rate": 0.05, "min_per_tool": 1}


def funccall_validate_run(rows: list[dict[str, Any]], catalogue: Any, **bounds: Any) -> Any:
    """The EdgeFuncCall gate over rows in memory, with GX run as the validate stage runs it."""
    return funccall_gate.run(rows, catalogue, run_gx=partial(gx_gate, docs_dir=None), **bounds)


def params_file(folder: Path, tools_dir: Path, **bounds: Any) -> Path:
    """The repository's params.yaml with funccall.datasets.edgefunccall's gate bounds and tools folder set, written in `folder`."""
    import yaml

    body = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text(encoding="utf-8"))
    body["funccall"]["datasets"]["edgefunccall"].update(bounds, tools_dir=str(tools_dir))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return folder / "params.yaml"


def validate_main(inp: Path, tools_dir: Path, validated: Path, quarantine: Path, quality: Path, **bounds: Any) -> dict[str, Any]:
    """The generic validate stage (task funccall) over `inp`; quality.json's content."""
    params = params_file(Path(quality).parent / "params", tools_dir, **bounds)
    return validate_stage.main("funccall", "edgefunccall", params, inp, validated, quarantine, quality, source=tools_dir).quality


def split_main(inp: Path, train: Path, test: Path, metrics: Path) -> dict[str, Any]:
    """The generic split stage (task funccall)."""
    params = params_file(Path(metrics).parent / "params", Path("tools"))
    return split_stage.main("funccall", "edgefunccall", params, inp, train, test, metrics)


def error_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    """The SLMBenchError message `fn` raises, checked to be one line."""
    with pytest.raises(SLMBenchError) as exc:
        fn(*args, **kwargs)
    message = str(exc.value)
    assert "\n" not in message, message
    return message


@pytest.fixture(scope="module")
def tools_dir(repo_root: Path) -> Path:
    return repo_root / "tools"


@pytest.fixture(scope="module")
def catalogue(tools_dir: Path) -> Any:
    return load_catalogue(tools_dir)


@pytest.fixture(scope="module")
def made(catalogue: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return generate.generate(catalogue, **RECIPE)


@pytest.fixture(scope="module")
def rows(made: tuple[list[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    return made[0]


def fresh(rows: list[dict[str, Any]], kind: str = "single", **where: Any) -> dict[str, Any]:
    """A deep copy of the first row of `kind` whose call matches `where` (tool name, split)."""
    for r in rows:
        if r["kind"] != kind or any(r.get(k) != v for k, v in where.items() if k != "tool"):
            continue
        if "tool" in where and r["calls"][0]["name"] != where["tool"]:
            continue
        return copy.deepcopy(r)
    raise AssertionError(f"no {kind} row with {where}")


# ---- the catalogue ------------------------------------------------------------------------------


def test_catalogue_has_enough_tools_domains_and_every_parameter_kind(catalogue: Any, tools_dir: Path) -> None:
    assert len(catalogue.tools) >= 30 and len(catalogue.domains) >= 8
    assert {"weather", "timers_alarms", "messaging", "calendar", "smart_home", "navigation", "payments", "shopping"} <= set(catalogue.domains)
    assert catalogue.version == "1" and len(catalogue.sha256) == 64
    kinds: Counter[str] = Counter()
    for tool in catalogue.tools.values():
        for name, schema in tool.properties.items():
            kinds[schema["type"]] += 1
            kinds.update(k for k in ("enum", "default") if k in schema)
            kinds.update(f"format:{schema['format']}" for _ in [0] if "format" in schema)
            kinds.update("time" for _ in [0] if is_time(schema))
            if schema["type"] == "object":
                kinds.update("nested:time" if is_time(s) else f"nested:{s.get('format', s['type'])}" for s in schema["properties"].values())
            if name not in tool.required:
                kinds["optional"] += 1
    for kind in ("string", "integer", "number", "boolean", "enum", "format:date", "time", "object", "array", "default", "optional", "nested:time"):
        assert kinds[kind] >= 1, (kind, kinds)
    # deliberately similar names, for hard distractors
    assert {"set_timer", "set_alarm", "send_message", "send_email", "get_weather", "get_forecast"} <= set(catalogue.tools)
    similar = generate.similar_tools(catalogue)
    assert similar["set_timer"][0] == ["set_alarm"] and similar["send_message"][0] == ["send_email"] and "send_message" in similar["send_money"][1]
    assert "get_forecast" in similar["get_weather"][0] and similar["lock_door"][:2] == [[], []] and "set_lights" in similar["lock_door"][2]
    # OpenAI tools format, one file per domain; prompts stay short (a tool is at most 560 characters of compact JSON, about 130 tokens)
    for path in sorted(tools_dir.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["domain"] == path.stem and doc["version"] == 1
        assert all(t["type"] == "function" and set(t["function"]) == {"name", "description", "parameters"} for t in doc["tools"])
    for tool in catalogue.tools.values():
        assert len(json.dumps(tool.row_form(), separators=(",", ":"))) <= 560, tool.name


def _tool_file(domain: str, tools: list[dict[str, Any]], version: int = 1) -> str:
    return json.dumps({"domain": domain, "version": version, "tools": [{"type": "function", "function": t} for t in tools]}, indent=2)


GOOD = {
    "name": "ping",
    "description": "Ping a host.",
    "parameters": {"type": "object", "properties": {"host": {"type": "string"}}, "required": ["host"], "additionalProperties": False},
}
BAD_DEFAULT = {**GOOD["parameters"], "properties": {"host": {"type": "string"}, "n": {"type": "integer", "default": "x"}}}


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"net.json": '{"domain": "net",\n  "version": 1\n  "tools": []}'}, "net.json:3: not JSON (Expecting ',' delimiter at column 3)"),
        (
            {"net.json": _tool_file("net", [{**GOOD, "parameters": {**GOOD["parameters"], "properties": {"host": {"type": "strnig"}}}}])},
            "net.json: tool ping: parameters is not a valid JSON Schema at properties/host/type",
        ),
        ({"net.json": _tool_file("net", [GOOD]), "web.json": _tool_file("web", [GOOD])}, "web.json: tool 'ping' is also defined in "),
        (
            {"net.json": _tool_file("net", [{**GOOD, "parameters": {**GOOD["parameters"], "required": ["host", "port"]}}])},
            "net.json: tool ping: parameters: required parameter 'port' is not in properties (host)",
        ),
        (
            {"net.json": _tool_file("net", [{**GOOD, "parameters": {"type": "array", "items": {"type": "string"}}}])},
            'net.json: tool ping: parameters: expected a JSON Schema object with "type": "object", got type \'array\'',
        ),
        (
            {"net.json": _tool_file("net", [{**GOOD, "parameters": {**GOOD["parameters"], "additionalProperties": True}}])},
            'net.json: tool ping: parameters: expected "additionalProperties": false',
        ),
        (
            {"net.json": _tool_file("net", [{**GOOD, "parameters": BAD_DEFAULT}])},
            "net.json: tool ping: parameters/properties/n: default 'x' breaks its own schema",
        ),
        ({"net.json": _tool_file("net", [GOOD]), "web.json": _tool_file("web", [{**GOOD, "name": "pong"}], version=2)}, "web.json: version 2, but "),
        ({"net.json": _tool_file("web", [GOOD])}, "net.json: domain 'web'; expected the file's stem 'net'"),
    ],
    ids=[
        "not-json",
        "invalid-schema",
        "duplicate-name",
        "required-not-in-properties",
        "not-an-object",
        "open-object",
        "bad-default",
        "versions",
        "domain-stem",
    ],  # fmt: skip
)
def test_bad_catalogue_is_one_line_naming_the_file(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    message = error_of(load_catalogue, tmp_path)
    assert message.startswith(f"{tmp_path / expected}"), message
    if "also defined" in expected:
        assert str(tmp_path / "net.json") in message  # both files named


def test_catalogue_hash_follows_the_files(tmp_path: Path, tools_dir: Path, catalogue: Any) -> None:
    copy_dir = tmp_path / "tools"
    shutil.copytree(tools_dir, copy_dir)
    assert load_catalogue(copy_dir).sha256 == catalogue.sha256
    path = copy_dir / "weather.json"
    path.write_text(path.read_text(encoding="utf-8").replace("Current weather", "Weather now"), encoding="utf-8")
    assert load_catalogue(copy_dir).sha256 != catalogue.sha256


def test_templates_are_checked_against_the_catalogue(catalogue: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = generate.compile_templates(catalogue)
    assert set(compiled) == set(catalogue.tools)
    spec = generate.TEMPLATES["set_timer"]
    broken = generate.ToolTemplates(("Set a timer please", *spec.imperative[1:]), spec.question, spec.values)
    monkeypatch.setitem(generate.TEMPLATES, "set_timer", broken)
    message = error_of(generate.compile_templates, catalogue)
    assert message == "stages/tasks/funccall/templates.py: set_timer: template 'Set a timer please' has no slot for required parameter 'duration_seconds'"
    lights = generate.TEMPLATES["set_lights"]
    monkeypatch.setitem(generate.TEMPLATES, "set_timer", spec)
    wrong = generate.ToolTemplates(lights.imperative, lights.question, lights.values, {"on": {True: ("light up",), False: ("turn off",)}})
    monkeypatch.setitem(generate.TEMPLATES, "set_lights", wrong)
    assert "boolean on = true needs phrases that checks.BOOL_PHRASES reads as true, got 'light up'" in error_of(generate.compile_templates, catalogue)


# ---- the generator ------------------------------------------------------------------------------


def _generate(tools_dir: Path, out: Path, **changes: Any) -> dict[str, Any]:
    return funccall_generate.main(tools_dir, out / "generated.jsonl", out / "generate.json", **{**RECIPE, "rows": 120, **changes})


def test_same_seed_same_bytes_other_seed_other_rows_and_more_rows_extend_the_file(tmp_path: Path, tools_dir: Path) -> None:
    a, b, c, d = (tmp_path / x for x in "abcd")
    metrics = _generate(tools_dir, a)
    _generate(tools_dir, b)
    _generate(tools_dir, c, seed=12)
    _generate(tools_dir, d, rows=150)
    first = (a / "generated.jsonl").read_bytes()
    assert first == (b / "generated.jsonl").read_bytes()
    assert first != (c / "generated.jsonl").read_bytes()
    assert (d / "generated.jsonl").read_bytes().startswith(first)  # independent of the count: a longer run extends it
    # the throughput is measured and reported (not asserted: machines differ)
    assert metrics["rows_per_s"] > 0 and metrics["generation_seconds"] > 0
    assert metrics["rows"] == 120 and metrics["catalogue_version"] == "1" and len(metrics["catalogue_sha256"]) == 64
    assert json.loads((a / "generate.json").read_text(encoding="utf-8"))["rows_by_kind"] == metrics["rows_by_kind"]
    assert not list(a.glob(".*.tmp"))


def test_the_mix_follows_the_recipe(rows: list[dict[str, Any]], made: tuple[list[dict[str, Any]], dict[str, Any]], catalogue: Any) -> None:
    n = len(rows)
    kinds = Counter(r["kind"] for r in rows)
    assert abs(kinds["none"] / n - RECIPE["none_share"]) <= 0.02 and abs(kinds["parallel"] / n - RECIPE["parallel_share"]) <= 0.02
    assert abs(sum(r["split"] == "test" for r in rows) / n - RECIPE["test_fraction"]) <= 0.02
    assert {r["surface"] for r in rows} == set(RECIPE["surfaces"])
    assert 0.15 <= made[1]["rows_with_similar_distractor"] / n <= 0.45
    for r in rows:
        offered = [t["name"] for t in r["tools"]]
        called = list(dict.fromkeys(c["name"] for c in r["calls"]))
        assert len(set(offered)) == len(offered)
        lo, hi = RECIPE["distractors"]
        if r["kind"] == "none":
            assert r["calls"] == [] and r["accepted"] == [] and r["mentions"] == {}
            assert lo + 1 <= len(offered) <= hi + 1
            assert all(catalogue.tools[t].domain != r["domain"] for t in offered)  # nothing offered fits
        else:
            assert set(called) <= set(offered) and lo <= len(offered) - len(called) <= hi
            assert len(r["calls"]) == (2 if r["kind"] == "parallel" else 1)
    # every tool is called in both splits (the tool cycles), and asked for in no-call rows
    for split in ("train", "test"):
        assert {c["name"] for r in rows if r["split"] == split for c in r["calls"]} == set(catalogue.tools)


def test_every_row_passes_its_own_checks_and_bfcls_rules(rows: list[dict[str, Any]], catalogue: Any) -> None:
    for r in rows:
        assert checks.row_failures(r, catalogue) == {}, (r["id"], r["request"], checks.row_failures(r, catalogue))
        check_row(r, r["id"])  # the shared row format (stages/tasks/funccall/rows.py)
        assert ast_match(r["tools"], r["accepted"], r["calls"])[0], r["id"]  # the canonical answer scores as correct
    assert checks.set_failures(rows) == [{}] * len(rows)


def test_no_template_and_no_request_is_in_both_splits(rows: list[dict[str, Any]], catalogue: Any) -> None:
    split = generate.split_templates(generate.compile_templates(catalogue), RECIPE["test_fraction"])
    for name in catalogue.tools:
        for form in generate.FORMS:
            train, test = split[(name, form, "train")], split[(name, form, "test")]
            assert train and test and not {t.text for t in train} & {t.text for t in test}
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    assert checks.leaks(train_rows, test_rows) == []


def test_optional_parameters_follow_the_accepted_convention(rows: list[dict[str, Any]], catalogue: Any) -> None:
    """A default left out: absent from the call, ["", default] accepted; mentioned: in the call, [value] accepted."""
    seen = Counter()
    for r in rows:
        for call, acc in zip(r["calls"], r["accepted"], strict=True):
            tool = catalogue.tools[call["name"]]
            assert list(acc["arguments"]) == checks.canonical_order(tool)
            for param, schema in tool.properties.items():
                if param in tool.required:
                    continue
                if param in call["arguments"]:
                    assert len(acc["arguments"][param]) == 1 and call["arguments"][param] != schema.get("default")
                    seen["mentioned"] += 1
                elif "default" in schema:
                    assert acc["arguments"][param] == ["", schema["default"]]
                    seen["default"] += 1
                else:
                    assert acc["arguments"][param] == [""]
    assert seen["mentioned"] > 20 and seen["default"] > 20


@pytest.mark.parametrize(
    "text, value, schema, name",
    [
        ("March 3rd, 2027", "2027-03-03", {"type": "string", "format": "date"}, "date"),
        ("3 March 2027", "2027-03-03", {"type": "string", "format": "date"}, "date"),
        ("the 21st of Sep 2026", "2026-09-21", {"type": "string", "format": "date"}, "date"),
        ("7:30 pm", "19:30", {"type": "string", "pattern": TIME_PATTERN}, "time"),
        ("12 a.m.", "00:00", {"type": "string", "pattern": TIME_PATTERN}, "time"),
        ("noon", "12:00", {"type": "string", "pattern": TIME_PATTERN}, "time"),
        ("2 hours", 120, {"type": "integer"}, "duration_minutes"),
        ("an hour and a half", 5400, {"type": "integer"}, "duration_seconds"),
        ("1 hour and 15 minutes", 75, {"type": "integer"}, "duration_minutes"),
        ("twenty five", 25, {"type": "integer"}, "limit"),
        ("$1,250.50", 1250.5, {"type": "number"}, "amount"),
        ("Turn OFF", False, {"type": "boolean"}, "on"),
        ("euros", "EUR", {"type": "string", "enum": ["USD", "EUR"]}, "currency"),
        ("fan only", "fan_only", {"type": "string", "enum": ["auto", "fan_only"]}, "mode"),
        ("  new  YORK ", "New York", {"type": "string"}, "city"),
    ],
)
def test_mentions_normalise_to_their_values(text: str, value: Any, schema: dict[str, Any], name: str) -> None:
    assert checks.grounds(text, value, schema, name)


@pytest.mark.parametrize(
    "text, value, schema, name",
    [
        ("7", "07:00", {"type": "string", "pattern": TIME_PATTERN}, "time"),  # morning or evening?
        ("February 30th, 2027", "2027-03-02", {"type": "string", "format": "date"}, "date"),
        ("90 seconds", 1, {"type": "integer"}, "duration_minutes"),  # not a whole number of minutes
        ("1", True, {"type": "boolean"}, "on"),
        ("20", True, {"type": "integer"}, "count"),  # a boolean is not a number
        ("dollars", "EUR", {"type": "string", "enum": ["USD", "EUR"]}, "currency"),
        ("New York City", "New York", {"type": "string"}, "city"),
    ],
)
def test_mentions_that_do_not_ground_their_values(text: str, value: Any, schema: dict[str, Any], name: str) -> None:
    assert not checks.grounds(text, value, schema, name)


# ---- mutation tests: each check catches a row made to break it ----------------------------------------


def _wrong_type(r: dict[str, Any]) -> None:
    r["calls"][0]["arguments"]["duration_seconds"] = str(r["calls"][0]["arguments"]["duration_seconds"])


def _ungrounded(r: dict[str, Any]) -> None:
    r["calls"][0]["arguments"]["city"] = r["accepted"][0]["arguments"]["city"][0] = "Atlantis"


def _not_offered(r: dict[str, Any]) -> None:
    r["tools"] = [t for t in r["tools"] if t["name"] != r["calls"][0]["name"]]


def _bad_time(r: dict[str, Any]) -> None:
    r["calls"][0]["arguments"]["time"] = r["accepted"][0]["arguments"]["time"][0] = "25:61"


def _reordered(r: dict[str, Any]) -> None:
    args = r["calls"][0]["arguments"]
    r["calls"][0]["arguments"] = dict(reversed(list(args.items())))


def _accepted_wrong(r: dict[str, Any]) -> None:
    r["accepted"][0]["arguments"]["city"] = ["Atlantis"]


def _accepted_unlisted(r: dict[str, Any]) -> None:
    r["accepted"][0]["arguments"].pop("units")


def _distractor_edited(r: dict[str, Any]) -> None:
    r["tools"][0] = {**r["tools"][0], "description": "Something else."}


def _unknown_tool(r: dict[str, Any]) -> None:
    r["calls"][0]["name"] = r["accepted"][0]["name"] = r["tools"][0]["name"] = "teleport"


def _kind_mismatch(r: dict[str, Any]) -> None:
    r["kind"] = "parallel"


MUTATIONS = [
    ("set_timer", _wrong_type, "schema_valid"),
    ("get_weather", _ungrounded, "grounded"),
    ("set_alarm", _not_offered, "tool_offered"),
    ("set_alarm", _bad_time, "schema_valid"),
    ("create_event", _reordered, "argument_order"),
    ("get_weather", _accepted_wrong, "accepted_canonical"),
    ("get_weather", _accepted_unlisted, "accepted_canonical"),
    ("get_weather", _distractor_edited, "tools_match"),
    ("get_weather", _unknown_tool, "tool_known"),
    ("get_weather", _kind_mismatch, "row_format"),
]


@pytest.mark.parametrize("tool, mutate, check", MUTATIONS, ids=[f"{m.__name__[1:]}-{c}" for _, m, c in MUTATIONS])
def test_a_row_made_to_break_a_check_fails_it(rows: list[dict[str, Any]], catalogue: Any, tool: str, mutate: Any, check: str) -> None:
    row = fresh(rows, tool=tool)
    assert checks.row_failures(row, catalogue) == {}
    if mutate is _reordered:
        assert len(row["calls"][0]["arguments"]) > 1
    mutate(row)
    fails = checks.row_failures(row, catalogue, "gen.jsonl:7")
    assert check in fails, fails
    assert all("\n" not in why for why in fails.values())
    if check == "tool_offered":
        assert fails[check].startswith("gen.jsonl:7: call 0 names tool 'set_alarm', not among the offered tools")


def test_set_checks_catch_a_leaked_request_and_a_repeated_id(rows: list[dict[str, Any]]) -> None:
    test_row = fresh(rows, split="test")
    leaked = {**copy.deepcopy(test_row), "id": "fc-99999", "split": "train", "request": test_row["request"].upper() + " "}
    twin = copy.deepcopy(fresh(rows, split="train"))
    fails = checks.set_failures([*rows, leaked, twin])
    assert fails[-2] == {"leak": f"the same request (normalised) is test row {test_row['id']}'s"}
    assert fails[-1] == {"unique_id": f"id {twin['id']!r} already used by row {rows.index(next(r for r in rows if r['id'] == twin['id'])) + 1}"}
    assert all(f == {} for f in fails[:-2])


# ---- the gate (Great Expectations) ------------------------------------------------------------------


def test_the_gate_passes_the_generated_rows(rows: list[dict[str, Any]], catalogue: Any) -> None:
    result = funccall_validate_run(rows, catalogue, **GATE)
    assert result.passed, result.failed_expectations
    q = result.quality
    assert q["rows_in"] == q["rows_accepted"] == len(rows) and q["rows_quarantined"] == 0 and q["reject_rate"] == 0
    assert set(q["failures_by_check"]) == set(checks.CHECKS) and not any(q["failures_by_check"].values())
    assert all(result.expectations.values()) and len(result.expectations) >= 20
    assert {f"calls.schema_valid.{t}" for t in catalogue.tools} <= set(result.expectations)
    assert {"requests.no_leak", "tools.coverage_train", "tools.coverage_test", "input.unique_id", "accepted.unique_id"} <= set(result.expectations)


PLAN = [("set_timer", _wrong_type, "schema_valid"), ("get_weather", _ungrounded, "grounded"), ("set_alarm", _not_offered, "tool_offered")]


def _mutated(rows: list[dict[str, Any]], n: int, plan: list[tuple[str, Any, str]] = PLAN) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """`rows` with n rows broken per mutation of `plan` and n leaked requests (a test row's copy in
    train): the rows, and id -> the check each must fail."""
    out = copy.deepcopy(rows)
    expected: dict[str, str] = {}
    for tool, mutate, check in plan:
        targets = [r for r in out if r["kind"] == "single" and r["calls"][0]["name"] == tool and r["id"] not in expected][:n]
        assert len(targets) == n, tool
        for r in targets:
            mutate(r)
            expected[r["id"]] = check
    tests = [r for r in out if r["split"] == "test" and r["kind"] == "single" and r["id"] not in expected][:n]
    for i, t in enumerate(tests):
        out.append({**copy.deepcopy(t), "id": f"fc-9{i:04d}", "split": "train"})  # the same request in train
        expected[f"fc-9{i:04d}"] = "leak"
    return out, expected


def test_the_gate_quarantines_a_few_broken_rows_and_fails_on_many(rows: list[dict[str, Any]], catalogue: Any) -> None:
    few, expected = _mutated(rows, 1)
    result = funccall_validate_run(few, catalogue, **GATE)
    assert result.passed, result.failed_expectations
    failed = {r["id"]: r["failed_checks"] for r in result.quarantine}
    assert set(failed) == set(expected) and all(expected[i] in f for i, f in failed.items()), failed  # a string duration also fails grounding
    assert all(result.quality["failures_by_check"][c] >= 1 for c in expected.values())
    # 3 rows per check of ~240 is above a 1 % tolerance
    many, expected = _mutated(rows, 3)
    result = funccall_validate_run(many, catalogue, max_reject_rate=0.01, min_per_tool=1)
    assert not result.passed
    failed = " | ".join(result.failed_expectations)
    for check in ("schema_valid", "tool_offered", "leak"):
        assert f"input.{check} (expect_column_values_to_be_in_set on {check}): 3 of {len(many)} rows unexpected (mostly 0.99)" in failed, failed
    assert f"input.grounded (expect_column_values_to_be_in_set on grounded): 6 of {len(many)} rows unexpected (mostly 0.99)" in failed, failed
    assert f"reject rate {12 / len(many):.4f} exceeds max_reject_rate 0.01" in failed
    assert len(result.quarantine) == 12 and not any(r["id"] in expected for r in result.accepted)


def test_the_gate_fails_when_a_tool_lacks_test_rows(rows: list[dict[str, Any]], catalogue: Any) -> None:
    kept = [r for r in rows if not (r["split"] == "test" and any(c["name"] == "pause_media" for c in r["calls"]))]
    result = funccall_validate_run(kept, catalogue, max_reject_rate=0.05, min_per_tool=1)
    assert not result.passed
    assert result.quality["tools_below_min"] == ["pause_media"]
    assert any(f.startswith("tools.coverage_test (expect_column_values_to_be_between on test): 1 of 39 rows unexpected") and f.endswith("(tools: pause_media)")
               for f in result.failed_expectations), result.failed_expectations  # fmt: skip


def _write_lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    write_call_rows(path, rows)
    return path


def test_main_writes_outputs_and_a_failed_gate_leaves_no_validated_file(tmp_path: Path, rows: list[dict[str, Any]], tools_dir: Path) -> None:
    out = {k: tmp_path / f"{k}.jsonl" for k in ("validated", "quarantine")}
    quality_path = tmp_path / "quality.json"
    many, _ = _mutated(rows, 3, PLAN[:2])  # a tool not offered is malformed input, refused on reading (below)
    generated = _write_lines(tmp_path / "generated.jsonl", many)
    out["validated"].write_text('{"stale": true}\n', encoding="utf-8")
    message = error_of(validate_main, generated, tools_dir, out["validated"], out["quarantine"], quality_path, max_reject_rate=0.01, min_per_tool=1)
    assert message.startswith(f"{generated}: the EdgeFuncCall edgefunccall gate failed "), message
    for name in ("input.schema_valid", "input.grounded", "input.leak", "reject rate"):
        assert f"; {name} " in message or f": {name} " in message, message
    assert not out["validated"].exists()
    quality = json.loads(quality_path.read_text(encoding="utf-8"))
    assert quality["gate"]["passed"] is False and quality["rows_quarantined"] == 9
    assert len(out["quarantine"].read_text(encoding="utf-8").splitlines()) == 9
    # the passing run: validated rows keep each call's argument order (the canonical answer)
    generated = _write_lines(tmp_path / "generated.jsonl", rows)
    quality = validate_main(generated, tools_dir, out["validated"], out["quarantine"], quality_path, **GATE)
    assert quality["gate"]["passed"] and quality["rows_accepted"] == len(rows)
    assert out["validated"].read_text(encoding="utf-8") == generated.read_text(encoding="utf-8")
    assert out["quarantine"].read_text(encoding="utf-8") == ""
    # the split
    metrics = split_main(out["validated"], tmp_path / "train.jsonl", tmp_path / "test.jsonl", tmp_path / "split.json")
    assert metrics["train"]["rows"] + metrics["test"]["rows"] == len(rows) and metrics["leaked_rows"] == 0
    assert metrics["test"]["rows"] == sum(r["split"] == "test" for r in rows)
    assert sum(metrics["test"]["rows_by_kind"].values()) == metrics["test"]["rows"]
    assert len(metrics["test_sha256"]) == 64


def test_malformed_input_is_one_line_naming_the_file_and_line(tmp_path: Path, rows: list[dict[str, Any]], tools_dir: Path) -> None:
    validated = tmp_path / "validated.jsonl"
    args = (tools_dir, validated, tmp_path / "q.jsonl", tmp_path / "quality.json")
    path = _write_lines(tmp_path / "generated.jsonl", rows)
    path.write_text(path.read_text(encoding="utf-8").replace("\n", "\n{broken\n", 1), encoding="utf-8")
    assert error_of(validate_main, path, *args, **GATE).startswith(f"{path}:2: broken JSONL line (")
    # a call of a tool the row does not offer: the line and the tool
    bad = copy.deepcopy(rows)
    k = next(i for i, r in enumerate(bad) if r["kind"] == "single" and r["calls"][0]["name"] == "set_alarm")
    _not_offered(bad[k])
    offered = ", ".join(t["name"] for t in bad[k]["tools"])
    message = error_of(validate_main, _write_lines(path, bad), *args, **GATE)
    assert message == f"{path}:{k + 1}: 'calls' names the tool 'set_alarm', which the row does not offer (offered: {offered})"
    assert not validated.exists()


def test_the_split_refuses_a_leak(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    test_row = fresh(rows, split="test")
    path = _write_lines(tmp_path / "validated.jsonl", [*rows, {**test_row, "id": "fc-99999", "split": "train"}])
    message = error_of(split_main, path, tmp_path / "train.jsonl", tmp_path / "test.jsonl", tmp_path / "split.json")
    assert message == f"{path}: 1 train row(s) repeat a test request (normalised): fc-99999 ~ {test_row['id']}; expected none (run the gate first)"
    assert not (tmp_path / "train.jsonl").exists()
