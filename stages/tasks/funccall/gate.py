"""EdgeFuncCall's gate (its `gate` part, run by the generic validate stage, stages/pipeline/validate.py):
Python row checks, then Great Expectations over the rows, their calls, their requests and the
catalogue's coverage (run by stages/data/gx.py's gx_gate, as for every task).

1. Reading (`read_rows`): a line that is not JSON, not an object, or not a function-call row
   (stages/tasks/funccall/rows.py's `check_row`: a missing key, a call or an accepted answer
   naming a tool the row does not offer, ...) stops the gate with one line naming the file, the
   line and the key or tool. Such a file is not data the gate can judge row by row.
2. Row checks (stages/tasks/funccall/checks.py): the fields and their types, called tools known
   and offered, offered tools as the catalogue has them, (a) arguments valid against the tool's
   schema with the catalogue's format checker, canonical argument order, (b) every leaf value
   grounded in the request, (f) accepted answers containing the canonical call; then the set
   checks, (g) a later copy of an id and (d) a train row whose normalised request a test row
   also has (the train copy fails: the test set stays as generated). A failing row goes to
   quarantine with its failed checks.
3. GX judges five tables, each expectation named in its meta:
   - `input`, every row read: ids unique, strictly; each row check true on at least
     mostly = 1 - max_reject_rate of the rows (the share the recipe lets the gate quarantine).
   - `accepted`, the rows kept, strictly: unique ids, kind, split, domain, surface and source in
     their sets, kind agreeing with the number of calls, a non-empty request, 1..N tools offered.
   - `calls`, one line per call of the kept rows: the tool is in the catalogue and offered, and
     (a) again, evaluated by GX itself: the arguments match the tool's JSON Schema (one
     expectation per tool; GX does not check formats, the row check does).
   - `requests`, one line per distinct (normalised request, split) of the kept rows: (d) again,
     by GX: a normalised request is in one split only.
   - `tools`, one line per catalogue tool: (e) the kept train rows calling it, and the kept test
     rows, are each at least min_per_tool.
4. The reject rate (quarantined / read) must be at most max_reject_rate.

The stage writes quarantine.jsonl and quality.json (counts per check, the mix of the kept rows,
the rows calling each tool per split, every expectation's outcome) either way. When the gate fails
it leaves no validated.jsonl behind and raises SLMBenchError naming the failed expectations in one line.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.errors import SLMBenchError
from stages.core.params import FuncCallData
from stages.core.params import funccall_data as recipe  # noqa: F401 (the stage's parts: recipe(p, name))
from stages.core.records import jsonl_objects
from stages.core.rowgate import GateResult, RunGX, Table
from stages.core.rowgate import named as _named
from stages.tasks.funccall.catalogue import Catalogue, load_catalogue
from stages.tasks.funccall.checks import KINDS, ROW_CHECKS, SET_CHECKS, SPLITS, norm, row_failures, set_failures
from stages.tasks.funccall.generate import SOURCE, SURFACES
from stages.tasks.funccall.rows import TEACHER_SURFACE, check_row
from stages.tasks.funccall.rows import write_call_rows as write_rows  # noqa: F401 (the stage's parts: the row writer)

NAME, TITLE = "funccall", "EdgeFuncCall"  # the generic validate stage's parts (stages/tasks/registry.py), with gate below
INPUT, ACCEPTED, CALLS, REQUESTS, TOOLS = "input", "accepted", "calls", "requests", "tools"
NAMED_TOOLS = 5  # tools named in the gate's message when coverage falls short
FRAME_CHECKS = ROW_CHECKS + ("leak",)  # boolean columns of the input table (unique ids are GX's own)
WHAT = {
    "row_format": "the row has the fields of the format, kind agreeing with its calls",
    "tool_known": "every called tool is in the catalogue",
    "tool_offered": "every called tool is among the tools offered",
    "tools_match": "every offered tool is the catalogue's, schema and all",
    "schema_valid": "the calls validate against their tools' schemas, formats checked",
    "argument_order": "arguments in canonical order (required, then optional, as declared)",
    "grounded": "every argument value is grounded in the request after normalisation",
    "accepted_canonical": "the accepted answers list every parameter and contain the canonical call",
    "leak": "no train request is also a test request (after normalisation)",
}


def check_params(max_reject_rate: float, min_per_tool: int) -> None:
    if not 0.0 <= max_reject_rate < 1.0:
        raise SLMBenchError(f"funccall validate: max_reject_rate is {max_reject_rate}; expected 0 <= rate < 1")
    if min_per_tool < 1:
        raise SLMBenchError(f"funccall validate: min_per_tool is {min_per_tool}; expected 1 or more")


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, "file:line" of each) of a JSONL file; a malformed line is a one-line SLMBenchError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SLMBenchError(f"{path}: file not found; expected generated function-call rows (JSONL)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SLMBenchError(f"{path}: cannot read it ({exc.__class__.__name__}); expected a UTF-8 JSONL file of function-call rows") from None
    rows, where = [], []
    for line, row in jsonl_objects(text, str(path)):
        check_row(row, f"{path}:{line}")
        rows.append(row)
        where.append(f"{path}:{line}")
    if not rows:
        raise SLMBenchError(f"{path}: no rows; expected JSONL function-call rows")
    return rows, where


def mostly(max_reject_rate: float) -> float:
    return round(1.0 - max_reject_rate, 6)


def run(
    rows: list[dict[str, Any]],
    catalogue: Catalogue,
    *,
    max_reject_rate: float,
    min_per_tool: int,
    run_gx: RunGX,
    where: list[str] | None = None,
) -> GateResult:
    """The gate over rows in memory; `where` ("file:line" per row) is quoted by failures that name a
    row's place; `run_gx`: the GX runner (stages/data/gx.py's gx_gate)."""
    check_params(max_reject_rate, min_per_tool)
    verdicts = [row_failures(r, catalogue, where[i] if where else None) for i, r in enumerate(rows)]
    for fails, more in zip(verdicts, set_failures(rows), strict=True):
        fails.update(more)
    accepted, quarantine = [], []
    by_check: Counter[str] = Counter()
    for row, fails in zip(rows, verdicts, strict=True):
        if fails:
            quarantine.append({**row, "failed_checks": {c: fails[c] for c in ROW_CHECKS + SET_CHECKS if c in fails}})
            by_check.update(fails.keys())
        else:
            accepted.append(row)
    calls = {s: Counter[str]() for s in SPLITS}
    for r in accepted:
        calls[r["split"]].update(list(dict.fromkeys(c["name"] for c in r["calls"])))  # rows, not calls: a tool called twice counts once
    coverage = {name: {s: calls[s].get(name, 0) for s in SPLITS} for name in catalogue.tools}
    below = [name for name, n in coverage.items() if min(n.values()) < min_per_tool]
    reject_rate = round(len(quarantine) / max(1, len(rows)), 6)
    quality: dict[str, Any] = {
        "rows_in": len(rows),
        "rows_accepted": len(accepted),
        "rows_quarantined": len(quarantine),
        "reject_rate": reject_rate,
        "max_reject_rate": max_reject_rate,
        "failures_by_check": {c: by_check.get(c, 0) for c in ROW_CHECKS + SET_CHECKS},
        "rows_by_split": {s: sum(1 for r in accepted if r["split"] == s) for s in SPLITS},
        "rows_by_kind": {k: sum(1 for r in accepted if r["kind"] == k) for k in KINDS},
        "rows_by_domain": dict(sorted(Counter(r["domain"] for r in accepted).items())),
        "rows_by_tool": coverage,
        "min_per_tool": min_per_tool,
        "tools_below_min": below,
        "catalogue_sha256": catalogue.sha256,
        "catalogue_version": catalogue.version,
        "mostly": mostly(max_reject_rate),
    }
    result = GateResult(accepted, quarantine, quality)
    tables = [
        Table(INPUT, input_frame(rows, verdicts), f"funccall_{INPUT}", input_expectations(max_reject_rate)),
        Table(ACCEPTED, accepted_frame(accepted), f"funccall_{ACCEPTED}", accepted_expectations(catalogue)),
        Table(CALLS, calls_frame(accepted), f"funccall_{CALLS}", calls_expectations(catalogue)),
        Table(REQUESTS, requests_frame(accepted), f"funccall_{REQUESTS}", requests_expectations()),
        Table(TOOLS, tools_frame(catalogue, coverage), f"funccall_{TOOLS}", tools_expectations(min_per_tool)),
    ]
    failed, result.expectations = run_gx("funccall", tables, source_name="edgefunccall")
    result.failed_expectations = [f + f" (tools: {', '.join(below[:NAMED_TOOLS])})" if f.startswith(f"{TOOLS}.") and below else f for f in failed]
    if reject_rate > max_reject_rate:
        result.failed_expectations.append(f"reject rate {reject_rate:.4f} exceeds max_reject_rate {max_reject_rate}")
    quality["gate"] = {"passed": result.passed, "expectations": result.expectations, "failed_expectations": list(result.failed_expectations)}
    return result


def _text(row: dict[str, Any], key: str) -> str:
    return str(row.get(key))  # a missing field reads "None", which no value set holds


def input_frame(rows: list[dict[str, Any]], verdicts: list[dict[str, str]]) -> Any:
    """Every row read, with one boolean column per check (True: the row passes it)."""
    import pandas as pd

    data: dict[str, list[Any]] = {"id": [_text(r, "id") for r in rows], "split": [_text(r, "split") for r in rows]}
    for check in FRAME_CHECKS:
        data[check] = [check not in v for v in verdicts]
    return pd.DataFrame(data)


def input_expectations(max_reject_rate: float) -> list[Any]:
    import great_expectations as gx

    E = gx.expectations
    tolerance = mostly(max_reject_rate)
    s = [E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{INPUT}.unique_id", "every row has its own id"))]
    for check in FRAME_CHECKS:
        s.append(E.ExpectColumnValuesToBeInSet(column=check, value_set=[True], mostly=tolerance, **_named(f"{INPUT}.{check}", WHAT[check])))
    return s


def accepted_frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "id": [_text(r, "id") for r in rows],
            "source": [_text(r, "source") for r in rows],
            "domain": [_text(r, "domain") for r in rows],
            "kind": [_text(r, "kind") for r in rows],
            "surface": [_text(r, "surface") for r in rows],
            "split": [_text(r, "split") for r in rows],
            "request": [str(r.get("request", "")) for r in rows],
            "n_calls": [len(r["calls"]) for r in rows],
            "n_tools": [len(r["tools"]) for r in rows],
        }
    )


def accepted_expectations(catalogue: Catalogue) -> list[Any]:
    """Over the kept rows, strictly: properties GX evaluates itself."""
    import great_expectations as gx

    E = gx.expectations
    pairs = [("none", 0), ("single", 1)] + [("parallel", n) for n in range(2, 9)]
    return [
        E.ExpectColumnValuesToBeUnique(column="id", **_named(f"{ACCEPTED}.unique_id", "every row has its own id")),
        E.ExpectColumnValuesToBeInSet(column="kind", value_set=list(KINDS), **_named(f"{ACCEPTED}.kind_in_set", f"kind is one of {', '.join(KINDS)}")),
        E.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS), **_named(f"{ACCEPTED}.split_in_set", "split is train or test")),
        E.ExpectColumnValuesToBeInSet(column="domain", value_set=sorted(catalogue.domains), **_named(f"{ACCEPTED}.domain_in_set", "a catalogue domain")),
        E.ExpectColumnValuesToBeInSet(
            column="surface", value_set=[*SURFACES, TEACHER_SURFACE], **_named(f"{ACCEPTED}.surface_in_set", "surface is a generator surface or the teacher's")
        ),
        E.ExpectColumnValuesToBeInSet(column="source", value_set=[SOURCE], **_named(f"{ACCEPTED}.source_in_set", f"source is {SOURCE}")),
        E.ExpectColumnPairValuesToBeInSet(
            column_A="kind", column_B="n_calls", value_pairs_set=pairs,
            **_named(f"{ACCEPTED}.kind_matches_calls", "none has no call, single one, parallel two or more"),
        ),
        E.ExpectColumnValuesToMatchRegex(column="request", regex=r"\S", **_named(f"{ACCEPTED}.request_nonempty", "the request is not empty")),
        E.ExpectColumnValuesToBeBetween(
            column="n_tools", min_value=1, max_value=len(catalogue.tools),
            **_named(f"{ACCEPTED}.tools_offered", "1 or more tools offered, at most the catalogue"),
        ),
    ]  # fmt: skip


def calls_frame(rows: list[dict[str, Any]]) -> Any:
    """One line per call of the kept rows: its tool, arguments (JSON) and whether the row offers the tool."""
    import pandas as pd

    out: dict[str, list[Any]] = {"id": [], "split": [], "name": [], "arguments": [], "offered": []}
    for r in rows:
        names = {t["name"] for t in r["tools"]}
        for c in r["calls"]:
            out["id"].append(str(r["id"]))
            out["split"].append(str(r["split"]))
            out["name"].append(c["name"])
            out["arguments"].append(json.dumps(c["arguments"], sort_keys=True, ensure_ascii=False))
            out["offered"].append(c["name"] in names)
    return pd.DataFrame(out)


def calls_expectations(catalogue: Catalogue) -> list[Any]:
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    name = Column(name="name")
    s = [
        E.ExpectColumnValuesToBeInSet(
            column="name", value_set=sorted(catalogue.tools), **_named(f"{CALLS}.tool_in_catalogue", "every called tool is in the catalogue")
        ),
        E.ExpectColumnValuesToBeInSet(column="offered", value_set=[True], **_named(f"{CALLS}.tool_offered", "every called tool is offered by its row")),
    ]
    for tool_name, tool in catalogue.tools.items():
        s.append(
            E.ExpectColumnValuesToMatchJsonSchema(
                column="arguments", json_schema=tool.parameters, row_condition=name == tool_name,
                **_named(f"{CALLS}.schema_valid.{tool_name}", f"{tool_name}'s arguments validate against its schema ({tool.path.name})"),
            )
        )  # fmt: skip
    return s


def requests_frame(rows: list[dict[str, Any]]) -> Any:
    """One line per distinct (normalised request, split) of the kept rows."""
    import pandas as pd

    pairs = sorted({(norm(r["request"]), r["split"]) for r in rows})
    return pd.DataFrame({"request_norm": [p[0] for p in pairs], "split": [p[1] for p in pairs]})


def requests_expectations() -> list[Any]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeUnique(column="request_norm", **_named(f"{REQUESTS}.no_leak", "no normalised request is in both train and test"))
    ]


def tools_frame(catalogue: Catalogue, coverage: dict[str, dict[str, int]]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "tool": list(coverage),
            "domain": [catalogue.tools[t].domain for t in coverage],
            "train": [n["train"] for n in coverage.values()],
            "test": [n["test"] for n in coverage.values()],
        }
    )


def tools_expectations(min_per_tool: int) -> list[Any]:
    import great_expectations as gx

    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeBetween(
            column=split,
            min_value=min_per_tool,
            **_named(f"{TOOLS}.coverage_{split}", f"every catalogue tool is called in at least {min_per_tool} accepted {split} rows"),
        )
        for split in SPLITS
    ]


def gate(name: str, r: FuncCallData, inp: Path, tools_dir: Path | None, run_gx: RunGX) -> GateResult:
    """The `gate` part: dataset `name`'s generated rows `inp` against the catalogue in `tools_dir`
    (the stage's --constraint), with the recipe's reject rate and coverage bounds."""
    check_params(r.max_reject_rate, r.min_per_tool)
    if tools_dir is None:
        raise SLMBenchError(f"--constraint: the EdgeFuncCall gate checks {inp}'s calls against a tool catalogue; give its tools folder")
    catalogue = load_catalogue(Path(tools_dir))
    rows, where = read_rows(inp)
    return run(rows, catalogue, max_reject_rate=r.max_reject_rate, min_per_tool=r.min_per_tool, run_gx=run_gx, where=where)
