"""The Great Expectations gate, shared by every task's validate stage.

A task builds its `Table`s (stages/core/rowgate.py: a pandas DataFrame and the expectations its
suite holds, each named in `meta["name"]` with `named`); `gx_gate` validates them in one GX context and returns every
expectation's outcome, with each failure described on one line (`describe`). With a docs folder
it writes the Data Docs site of the run, made to work offline (stages/data/datadocs.py).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from stages.core.records import atomic_dir
from stages.core.rowgate import GateResult, Table, named  # noqa: F401 (what a gate builds, re-exported for the EdgeJSON gate)

# Unexpected values quoted per failed expectation, each cut to this many characters.
QUOTED_VALUES, QUOTE_CHARS = 3, 80


def gx_gate(version: str, tables: list[Table], docs_dir: Path | None = None, *, source_name: str) -> tuple[list[str], dict[str, bool]]:
    """Validate each table with its suite: (the failed expectations described, every expectation name -> passed).

    With `docs_dir`, a Data Docs site of both validations is written there (atomically), made to work offline."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if docs_dir is not None:
        from stages.data.datadocs import libraries

        libraries()  # before any work: a missing install is a one-line error naming the setup command
    failed: list[str] = []
    outcome: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="gx-") as tmp:
        # The Data Docs site needs a file context (in a temporary folder); without it, memory is enough.
        ctx = gx.get_context(mode="file", project_root_dir=tmp) if docs_dir is not None else gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = ctx.data_sources.add_pandas(source_name)
        run_id = RunIdentifier(run_name=f"{version}_gate", run_time=dt.datetime.now(dt.UTC))
        for table in tables:
            if table.frame.empty:
                failed.append(f"{table.name}: no rows")
                continue
            batch = source.add_dataframe_asset(name=f"{version}_{table.name}").add_batch_definition_whole_dataframe("all")
            suite = ctx.suites.add(gx.ExpectationSuite(name=table.suite, expectations=table.expectations))
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{version}_{table.name}", data=batch, suite=suite))
            result = vd.run(batch_parameters={"dataframe": table.frame}, result_format={"result_format": "SUMMARY"}, run_id=run_id)
            for er in result.results:
                cfg = er.expectation_config
                assert cfg is not None, "GX returned a result without its expectation"
                name = (cfg.meta or {}).get("name", cfg.type)
                outcome[name] = bool(er.success)
                if not er.success:
                    failed.append(describe(name, er))
        if docs_dir is not None:
            from stages.data.datadocs import make_offline

            ctx.build_data_docs()
            site = Path(tmp) / "gx" / "uncommitted" / "data_docs" / "local_site"
            with atomic_dir(Path(docs_dir)) as staging:
                shutil.copytree(site, staging, dirs_exist_ok=True)
                make_offline(staging)
    return sorted(failed), dict(sorted(outcome.items()))


def describe(name: str, er: Any) -> str:
    """One failed expectation in a line: its name, GX type and column, and what GX saw."""
    cfg = er.expectation_config
    column = cfg.kwargs.get("column")
    where = f"{cfg.type} on {column}" if column else cfg.type
    r = er.result or {}
    info = er.exception_info or {}
    if info.get("raised_exception"):
        detail = f"raised {str(info.get('exception_message'))[:QUOTE_CHARS]}"
    elif "unexpected_count" in r:
        quoted = ", ".join(repr(str(v)[:QUOTE_CHARS]) for v in (r.get("partial_unexpected_list") or [])[:QUOTED_VALUES])
        detail = f"{r['unexpected_count']} of {r.get('element_count')} rows unexpected"
        detail += f" (mostly {cfg.kwargs['mostly']})" if cfg.kwargs.get("mostly") is not None else ""
        detail += f", e.g. {quoted}" if quoted else ""
    else:
        detail = f"observed {r.get('observed_value')}"
    return f"{name} ({where}): {detail}"
