"""`dvc plots show` on a built repo makes a page that draws every plot offline, in a real browser.

The tiny release repo of tests/dvc/conftest.py (the whole graph reproduced: per-model training
curves and tier scores, the per-version quality plot) gets `dvc plots show` with the offline page
template that `.ci/plots.sh` writes (vega, vega-lite and vega-embed inlined). Headless Chromium then opens the
page: the template records JavaScript errors and describes the vega views it drew in the body's
data attributes, which `--dump-dom` returns; a screenshot is kept next to the page for a look.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from dvc_project import REPO_ROOT, Releases, dvc

pytestmark = pytest.mark.slow

TEMPLATE = REPO_ROOT / ".venv" / "share" / "slmbench" / "plots" / "template.html"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=20000",  # ms of page time: the template reports within about 10 s
)
CHROMIUM_TIMEOUT_S = 90
HTML_ID = {ord(c): "_" for c in r"!@#$%^&*()[]{};,<>?\/:.|`~=_+ "}  # a plot's div id, as dvc_render's Renderer makes it
EMBED_CALL = re.compile(r"vegaEmbed\('#([^']+)'")
MIN_SCREENSHOT_BYTES = 10_000


def chromium() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


class _PageState(HTMLParser):
    """The body's attributes and the text of the template's error box in a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.errors = ""
        self._in_errors = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and not self.body:
            self.body = {k: v or "" for k, v in attrs}
        self._in_errors = tag == "pre" and dict(attrs).get("id") == "slmbench-js-errors"

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.errors += data


def top_level_plots_with_data(project: Path) -> list[str]:
    """The HTML ids of dvc.yaml's top-level plots whose data files are all in the clone."""
    ids = []
    for entry in yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8")).get("plots") or []:
        name, spec = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        files = set()
        for axis in ("x", "y"):
            value = (spec or {}).get(axis)
            if isinstance(value, dict):
                files.update(value)
        if not files:
            files = {name}  # a plot named by its data file
        if all((project / f).is_file() for f in files):
            ids.append(name.translate(HTML_ID))
    return ids


def browse(browser: str, page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `page`, with a fresh profile (a used one can hang on refused connections)."""
    profile = work / f"profile-{len(list(work.glob('profile-*')))}"
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish in {CHROMIUM_TIMEOUT_S} s: {' '.join(cmd)}")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-3000:]}"
    return proc


def test_plots_show_renders_offline_in_chromium(tmp_path: Path, releases: Releases) -> None:
    # A missing template or browser is a failure, never a skip: the README's test command installs both.
    assert TEMPLATE.is_file(), f"no offline plots template at {TEMPLATE.relative_to(REPO_ROOT)}: run `bash .ci/setup.sh --tests`"
    browser = chromium()
    assert browser is not None, "chromium is not installed: run `bash .ci/setup.sh --tests` (as root it installs chromium with apt-get)"
    project = releases.root  # `plots show` only reads the repo; the page goes to tmp_path

    out = tmp_path / "plots"
    dvc(project, "plots", "show", "--html-template", str(TEMPLATE), "-o", str(out))
    page = out / "index.html"
    assert page.is_file(), f"dvc plots show wrote no {page}"
    html = page.read_text(encoding="utf-8")
    remote = re.findall(r"<script[^>]+src=[\"']?([^\"'\s>]+)", html)
    assert not remote, f"the plots page loads scripts from elsewhere, it needs the network: {remote}"
    expected = EMBED_CALL.findall(html)
    assert expected, f"dvc plots show wrote no vega plot into {page}"
    missing = sorted(set(top_level_plots_with_data(project)) - set(expected))
    assert not missing, f"top-level plots of dvc.yaml not in the page (no data?): {missing}"

    state = _PageState()
    state.feed(browse(browser, page, tmp_path, "--dump-dom").stdout)
    body = state.body
    screenshot = tmp_path / "plots.png"
    browse(browser, page, tmp_path, f"--screenshot={screenshot}", "--window-size=1400,2400")
    size = screenshot.stat().st_size if screenshot.is_file() else 0
    shot = f"screenshot {screenshot} ({size} bytes)"
    print(shot)

    assert body.get("data-plots-done") == "1", f"the page did not report its plots (template not used?): body {body}; {shot}"
    assert body.get("data-js-errors") == "0", f"JavaScript errors in {page}:\n{state.errors}\n{shot}"
    n = str(len(expected))
    counts = {k: body.get(f"data-vega-{k}") for k in ("calls", "embedded", "failed", "views")}
    assert counts == {"calls": n, "embedded": n, "failed": "0", "views": n}, (
        f"{n} plots in the page, vega views: {counts}; {shot}"
    )
    status = json.loads(body.get("data-vega-status", "[]"))
    assert sorted(v["id"] for v in status) == sorted(expected), f"drawn views {status} != plots {expected}; {shot}"
    empty = [v for v in status if v["marks"] <= 0 or v["ink"] <= 0]
    assert not empty, f"views with no data marks or nothing painted: {empty}; {shot}"
    assert size > MIN_SCREENSHOT_BYTES, f"{shot}: expected more than {MIN_SCREENSHOT_BYTES} bytes"
