"""Headless Chromium for the browser tests, driven over the DevTools protocol on a pipe (stdlib only).

    with Browser(work_dir) as browser:
        page = browser.open(Path("site/index.html").as_uri())
        page.wait_for("document.querySelectorAll('tr').length > 3")
        rows = page.evaluate("[...document.querySelectorAll('tr')].map(r => r.innerText)")
        page.screenshot(work_dir / "index.png")
        assert not page.errors, page.errors

The browser has no network: every host resolves to nothing and every request goes to a proxy
that does not exist, so a page that still needs a CDN shows it as a failed load in `page.errors`
(with uncaught exceptions and console.error calls). `--remote-debugging-pipe` speaks the protocol
over file descriptors 3 (commands in) and 4 (replies and events out), NUL-terminated JSON.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    # No network: no name resolves, and any connection would go to a closed local port (9, discard).
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--window-size=1400,1000",
    "--remote-debugging-pipe",
)
INSTALL = "run `bash .ci/setup.sh --tests` (as root it installs chromium with apt-get)"


def chromium_path() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


class BrowserError(RuntimeError):
    pass


def _above(fd: int, lowest: int) -> int:
    """A duplicate of `fd` numbered `lowest` or more (the original is closed)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return new


class Browser:
    """One Chromium process with a fresh profile under `work`; a context manager."""

    def __init__(self, work: Path, timeout_s: float = 30.0):
        binary = chromium_path()
        if binary is None:
            raise BrowserError(f"chromium is not installed: {INSTALL}")
        self.timeout_s = timeout_s
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        profile = self.work / f"chromium-profile-{len(list(self.work.glob('chromium-profile-*')))}"
        self.log = profile.with_suffix(".log")
        cmd_r, self._cmd_w = os.pipe()  # we write commands; chromium reads them as fd 3
        self._evt_r, evt_w = os.pipe()  # chromium writes fd 4; we read
        # The child's ends move above fd 9 first, so that moving them to 3 and 4 cannot clobber one.
        cmd_r, evt_w = (_above(fd, 10) for fd in (cmd_r, evt_w))
        args = [*FLAGS, f"--user-data-dir={profile}", "about:blank"]
        # bash moves the two pipe ends to fds 3 and 4, then becomes chromium.
        script = f'exec "$0" "$@" 3<&{cmd_r} 4>&{evt_w} {cmd_r}<&- {evt_w}>&-'
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(["bash", "-c", script, binary, *args], pass_fds=(cmd_r, evt_w), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        os.close(cmd_r)
        os.close(evt_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._send({"id": self._new_id(), "method": "Browser.close"})
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for fd in (self._cmd_w, self._evt_r):
            try:
                os.close(fd)
            except OSError:
                pass

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _send(self, msg: dict[str, Any]) -> None:
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._evt_r], [], [], left)[0]:
                raise BrowserError(f"chromium did not answer within {self.timeout_s} s (log: {self.log})")
            chunk = os.read(self._evt_r, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited ({self.proc.poll()}); log: {self.log}\n{self.log.read_text(errors='replace')[-2000:]}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its reply; events that arrive meanwhile are kept in `events`."""
        msg: dict[str, Any] = {"id": self._new_id(), "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._send(msg)
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == msg["id"]:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for a while (console messages that arrive after a command's reply)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not select.select([self._evt_r], [], [], max(0.0, deadline - time.monotonic()))[0] and b"\0" not in self._buf:
                return
            self.events.append(self._read(time.monotonic() + self.timeout_s))

    def open(self, url: str) -> Page:
        """A new tab on `url`, with its console and its log recorded, once its load event has fired."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, url)
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable", session=session)
        seen = len(self.events)
        nav = self.call("Page.navigate", {"url": url}, session=session)
        if nav.get("errorText"):
            raise BrowserError(f"{url}: {nav['errorText']}")
        deadline = time.monotonic() + self.timeout_s
        while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session for e in self.events[seen:]):
            self.events.append(self._read(deadline))
        return page


class Page:
    def __init__(self, browser: Browser, session: str, url: str):
        self.browser = browser
        self.session = session
        self.url = url

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited), or BrowserError if it throws."""
        r = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, self.session)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError(f"{expression[:80]}: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float = 10.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its last value (falsy on timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        data = self.browser.call("Page.captureScreenshot", {"format": "png"}, self.session)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    @property
    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and error log entries (failed loads) of this page."""
        out = []
        for e in self.browser.events:
            if e.get("sessionId") != self.session:
                continue
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                entry = p["entry"]
                out.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        return out
