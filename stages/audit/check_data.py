"""`slmbench check-data FILE --schemas DIR`: audit any EdgeJSON-format file with today's checks.

External files may lack `complexity`, `surface` and the other optional fields, may store
`expected_output` as a JSON string, and may use schemas of another draft: each schema is
validated with the validator its `$schema` names.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from stages.core.catalog import load_catalog, with_generated
from stages.core.errors import SLMBenchError
from stages.core.records import read_rows
from stages.tasks.edgejson.checks import SUITES, screen


def check_rows(rows: list[dict[str, Any]], catalog: dict[str, Any], suite_name: str, min_per_schema: int, prompt_chars: tuple[int, int]) -> dict[str, Any]:
    if suite_name not in SUITES:
        raise SLMBenchError(f"--suite: expected one of {', '.join(SUITES)}, got {suite_name!r}")
    suite = SUITES[suite_name]
    fails = screen(rows, catalog, prompt_chars, suite)
    by_check = Counter(c for f in fails for c in f)
    counts = Counter(str(r.get("schema_id")) for r in rows)
    coverage_problems = []
    if min_per_schema > 0:
        short = [sid for sid in sorted(catalog) if counts.get(sid, 0) < min_per_schema]
        coverage_problems = [f"{sid}: {counts.get(sid, 0)} rows, expected >= {min_per_schema}" for sid in short]
    failed = [(r, f) for r, f in zip(rows, fails, strict=True) if f]
    return {
        "rows": len(rows),
        "failed_rows": len(failed),
        "failures_by_check": {c: by_check.get(c, 0) for c in suite},
        "failed_by_schema": dict(sorted(Counter(str(r.get("schema_id")) for r, _ in failed).items())),
        "rows_by_schema": dict(sorted(counts.items())),
        "coverage_problems": coverage_problems,
        "examples": [{"id": r.get("id"), "failed_checks": f} for r, f in failed[:10]],
    }


def check_file(path: Path, schemas: Path, suite_name: str, min_per_schema: int, prompt_chars: tuple[int, int], generated: Path | None = None) -> dict[str, Any]:
    """`generated`: a version's generated schemas (`data/<v>/generated_schemas.json`), beside the named ones."""
    return check_rows(read_rows(path), with_generated(load_catalog(schemas), generated), suite_name, min_per_schema, prompt_chars)
