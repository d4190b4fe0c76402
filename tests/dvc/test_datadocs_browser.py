"""`slmbench task-validate --task edgejson` writes Data Docs that a browser without network shows in full.

The real validate stage (the CLI) gates a tiny v3 (2 rows per schema) and writes its Data Docs
site. Headless Chromium with no network at all (tests/browser.py) opens it from file://:

* index.html lists every validation run and every suite of the site: bootstrap-table fills those
  tables in from data in the page, so they stay empty when the scripts do not load;
* each validation page shows every expectation with its status icon (font-awesome's glyph, so
  its CSS and font loaded), and bootstrap's styles apply;
* no page logs an error: no failed load, no exception, no console.error.

As a control, the same index pointed back at the CDNs must show an empty index and failed loads:
the checks above can fail. Screenshots are kept in the test's tmp dir.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from browser import INSTALL, Browser, chromium_path
from typer.testing import CliRunner

from stages.cli import app
from stages.core.records import write_rows
from stages.data import datadocs
from stages.tasks.edgejson import generate

pytestmark = pytest.mark.slow

MIN_SCREENSHOT_BYTES = 10_000
RUNS_TABLE = "table.ge-index-page-validation-results-table"
SUITES_TABLE = "table.ge-index-page-expectation_suites-table"
INDEX_STATE = f"""(async () => {{
  await document.fonts.ready;
  const rows = sel => [...document.querySelectorAll(sel + ' tbody tr[data-index]')]
    .map(r => ({{text: r.innerText.replace(/\\s+/g, ' ').trim(), href: r.dataset.href}}));
  const icon = document.querySelector('{RUNS_TABLE} i.fas');
  const logo = document.querySelector('.navbar-brand img');
  return {{
    runs: rows('{RUNS_TABLE}'),
    suites: rows('{SUITES_TABLE}'),
    navbar: getComputedStyle(document.querySelector('.navbar')).display,
    icon: icon ? getComputedStyle(icon, '::before').content : null,
    fonts: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family),
    logo: logo ? logo.naturalWidth : 0,
  }};
}})()"""
VALIDATION_STATE = """(async () => {
  await document.fonts.ready;
  const icons = [...document.querySelectorAll('td i.fas')];
  const cell = [...document.querySelectorAll('td')].find(td => td.innerText.trim() === 'Evaluated Expectations');
  return {
    statuses: icons.map(i => i.className),
    glyphs: icons.filter(i => !['none', 'normal', '""'].includes(getComputedStyle(i, '::before').content)).length,
    evaluated: cell ? Number(cell.nextElementSibling.innerText) : -1,
    fonts: [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family),
  };
})()"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, real_params, catalog, repo_root: Path) -> tuple[Path, dict]:
    """A Data Docs site written by `slmbench task-validate --task edgejson` for a tiny v3, and its gate.json."""
    import yaml

    work = tmp_path_factory.mktemp("datadocs")
    raw = yaml.safe_load((repo_root / "params.yaml").read_text(encoding="utf-8"))
    raw["schemas_dir"] = str(repo_root / "schemas")
    raw["datasets"]["v3"].update(rows_per_schema=2, min_per_schema=2)
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    generated = work / "generated.jsonl"
    write_rows(generated, generate.run("v3", dataclasses.replace(real_params.datasets["v3"], rows_per_schema=2), catalog, progress=False))
    args = ["task-validate", "--task", "edgejson", "--name", "v3", "--in", str(generated), "--validated", str(work / "validated.jsonl"), "--quarantine", str(work / "quarantine.jsonl"),
            "--metrics", str(work / "quality.json"), "--docs", str(work / "docs"), "--params", str(params)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return work / "docs", json.loads((work / "gate.json").read_text(encoding="utf-8"))


def test_data_docs_open_offline_in_chromium(site: tuple[Path, dict], tmp_path: Path) -> None:
    # A missing browser is a failure, never a skip: the README's test command installs it.
    assert chromium_path() is not None, f"chromium is not installed: {INSTALL}"
    docs, gate = site
    runs = sorted(p.relative_to(docs).as_posix() for p in (docs / "validations").rglob("*.html"))
    suites = sorted(p.stem for p in (docs / "expectations").glob("*.html"))
    assert len(runs) == 2 and suites == ["edgejson_v3_full_accepted", "edgejson_v3_full_generated"], (runs, suites)
    expectations = {t: sum(1 for n in gate["expectations"] if n.startswith(f"{t}.")) for t in ("generated", "accepted")}

    with Browser(tmp_path) as browser:
        index = browser.open((docs / "index.html").as_uri())
        index.wait_for(f"document.querySelectorAll('{RUNS_TABLE} tbody tr[data-index]').length >= {len(runs)}")
        state = index.evaluate(INDEX_STATE)
        shot = index.screenshot(tmp_path / "index.png")
        print(f"screenshot {shot}")
        assert sorted(r["href"] for r in state["runs"]) == runs, f"validation runs in the index: {state['runs']}; on disk: {runs}"
        for row in state["runs"]:
            assert "v3_gate" in row["text"] and any(s in row["text"] for s in suites), row
        assert sorted(r["text"] for r in state["suites"]) == suites, state["suites"]
        assert sorted(r["href"] for r in state["suites"]) == [f"expectations/{s}.html" for s in suites]
        assert state["navbar"] == "flex", f"bootstrap's CSS did not apply: {state}"
        assert state["icon"] not in (None, "none", "normal") and "Font Awesome 6 Free" in state["fonts"], f"font-awesome did not load: {state}"
        assert state["logo"] > 0, "the logo did not load"
        assert shot.stat().st_size > MIN_SCREENSHOT_BYTES
        assert index.errors == [], index.errors

        for run in runs:
            page = browser.open((docs / run).as_uri())
            state = page.evaluate(VALIDATION_STATE)
            table = "accepted" if "accepted" in run else "generated"
            n = expectations[table]
            assert state["evaluated"] == n and len(state["statuses"]) == n, f"{run}: {n} expectations, page shows {state}"
            assert set(state["statuses"]) == {"fas fa-check-circle text-success"}, state["statuses"]
            assert state["glyphs"] == n and "Font Awesome 6 Free" in state["fonts"], f"{run}: status icons not drawn: {state}"
            page.screenshot(tmp_path / f"{table}.png")
            assert page.errors == [], f"{run}: {page.errors}"

        # Control: the same index loading its libraries from the CDNs is empty here, with failed loads.
        online = docs / "index_cdn.html"
        html = (docs / "index.html").read_text(encoding="utf-8")
        root = datadocs.LIBRARIES / "vendor"
        for url, path in datadocs.libraries().items():
            html = html.replace(f'"{datadocs.VENDOR}/{path.relative_to(root).as_posix()}"', f'"{url}"')
        assert "static/vendor/" not in html
        online.write_text(html, encoding="utf-8")
        try:
            control = browser.open(online.as_uri())
            browser.pump(1.0)
            assert control.evaluate(f"document.querySelectorAll('{RUNS_TABLE} tbody tr[data-index]').length") == 0
            assert any("ERR_" in e for e in control.errors), control.errors
        finally:
            online.unlink()
