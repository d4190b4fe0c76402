"""The NLM's page in a real browser classifies as onnxruntime does in Python, row for row.

A tiny NLM (6 BANKING77 classes and CLINC150's out-of-scope rows, so the threshold rule runs
too) is built into a site (stages/tasks/intent/page.py: the page, onnxruntime-web from the venv, the
model), served by Python's http.server on 127.0.0.1, and opened in headless Chromium
(tests/browser.py: no network beyond that one local address). In the page:

* the featuriser (featurize.js) gives exactly Python's ids, on test rows and on texts with
  non-ASCII letters, typographic punctuation, emoji, a lone surrogate and nothing at all;
* `classifyAll` (one query at a time, onnxruntime-web's wasm backend, one thread) gives exactly
  the labels of `predict_onnx`; its per-query latencies are reported (p50/p95);
* typing into the box shows the label Python gives, and the page logs no error;
* with model.onnx missing, the page shows a visible load-failure message instead of a blank page.

The screenshots and latencies are kept in the test's tmp dir.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import browser
import numpy as np
import pytest
from browser import INSTALL, Browser, chromium_path
from intent_models import TRICKY, tiny_nlm

from stages.tasks.intent.page import build_site, runtime_dir
from stages.inference.nlm_runtime import load_nlm, predict_onnx

pytestmark = pytest.mark.slow

READY = "document.body.dataset.state !== 'loading' && document.body.dataset.state"
MIN_SCREENSHOT_BYTES = 10_000
LABEL_SHOWN = "document.getElementById('label').textContent"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[object]:
    """serve(folder) -> the http://127.0.0.1:PORT/ URL of a static server for it, until the test ends."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """tests/browser.py's offline Chromium, with 127.0.0.1 (our server, by IP) left resolvable."""
    if chromium_path() is None:
        pytest.fail(f"chromium is not installed: {INSTALL}")
    rules = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
    monkeypatch.setattr(browser, "FLAGS", tuple(rules if f.startswith("--host-resolver-rules=") else f for f in browser.FLAGS))
    with Browser(tmp_path / "chromium", timeout_s=60) as b:
        yield b


def test_page_classifies_like_python_and_shows_load_failures(tmp_path: Path, serve, local_browser: Browser) -> None:
    missing = [f for f in ("ort.wasm.min.js", "ort-wasm-simd-threaded.wasm") if not (runtime_dir() / f).is_file()]
    assert not missing, f"onnxruntime-web not in {runtime_dir()}: run `bash .ci/web.sh`"
    model_dir = tmp_path / "model"
    _, test_rows, _ = tiny_nlm(model_dir, with_oos=True)
    texts = [r["text"] for r in test_rows] + TRICKY
    site = build_site(model_dir, tmp_path / "site")
    page = local_browser.open(serve(site) + "index.html")
    assert page.wait_for(READY, timeout_s=30) == "ready", page.evaluate("document.getElementById('error').textContent")

    python_ids = [load_nlm(model_dir).featurizer.ids(t) for t in texts]
    browser_ids = page.evaluate(f"window.featurizeAll({json.dumps(texts)})")
    diff = [t for t, a, b in zip(texts, python_ids, browser_ids, strict=True) if a != b]
    assert not diff, f"featurize.js and nlm_features.py differ on {diff}"

    expected = predict_onnx(model_dir, texts)
    got = page.evaluate(f"window.classifyAll({json.dumps(texts)})")
    disagree = [(t, e, g) for t, e, g in zip(texts, expected, got["labels"], strict=True) if e != g]
    assert not disagree, f"browser and Python labels differ on {len(disagree)} of {len(texts)} rows: {disagree[:3]}"
    assert "oos" in expected, "the tiny model should answer oos somewhere, so the threshold rule is compared too"
    p50, p95 = np.percentile(got["latencies_ms"], [50, 95])
    report = {"n": len(texts), "agreement": 1.0, "latency_ms_p50": round(float(p50), 3), "latency_ms_p95": round(float(p95), 3)}
    (tmp_path / "browser_latency.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"browser: {report}")

    # a person typing: the label under the box is Python's
    query = test_rows[0]["text"]
    page.evaluate("document.getElementById('query').focus()")
    local_browser.call("Input.insertText", {"text": query}, page.session)
    shown = page.wait_for(f"{LABEL_SHOWN} === {json.dumps(predict_onnx(model_dir, [query])[0])}", timeout_s=10)
    assert shown, f"typed {query!r}; the page shows {page.evaluate(LABEL_SHOWN)!r}"
    assert page.evaluate("document.querySelectorAll('#top li').length") == 5
    shot = page.screenshot(tmp_path / "intent_page.png")
    assert shot.stat().st_size > MIN_SCREENSHOT_BYTES
    local_browser.pump(0.3)
    assert page.errors == [], page.errors

    # the model cannot load: a visible message, not a blank page
    (site / "model.onnx").unlink()
    broken = local_browser.open(serve(site) + "index.html")
    assert broken.wait_for(READY, timeout_s=30) == "error"
    message = broken.evaluate("(() => { const e = document.getElementById('error'); return e.hidden ? '' : e.textContent; })()")
    assert "could not be loaded" in message and "model.onnx" in message and "404" in message, message
    broken.screenshot(tmp_path / "intent_page_error.png")
