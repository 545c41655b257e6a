"""A real headless Chromium, driven over the DevTools protocol on a pipe, for checking pages.

No extra Python packages: Chromium is started with ``--remote-debugging-pipe`` and reads
JSON commands (each ended by a NUL byte) on its file descriptor 3 and answers on 4. Every wait
is bounded (``TIMEOUT`` seconds), the profile is a fresh temporary folder, and ``close`` ends
the browser's process group, so a hung browser can neither stall nor outlive a test.

    with Browser.start() as browser:
        browser.open(Path("report.html"))
        browser.evaluate("document.images.length")
        browser.screenshot(Path("headline.png"), selector="#headline-section")

Run as a script to take the README's screenshot of a report's headline:

    python -m tests.chromium REPORT.html OUT.png [SELECTOR]
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TIMEOUT = 30.0
"""Seconds any single wait on the browser may take."""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def _high(*fds: int) -> tuple[int, ...]:
    """The same pipe ends moved to fds >= 10, so that placing them on 3 and 4 cannot clash."""
    out = []
    for fd in fds:
        out.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return tuple(out)


def find() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium and one page in it."""

    def __init__(self, process: subprocess.Popen[bytes], send: int, receive: int, profile: str):
        self.process = process
        self.send_fd = send
        self.receive_fd = receive
        self.profile = profile
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    @classmethod
    def start(cls, width: int = 1280, height: int = 900) -> Browser:
        executable = find()
        if executable is None:
            raise BrowserError("chromium is not installed")
        profile = tempfile.mkdtemp(prefix="sim-chromium-")
        to_browser_r, to_browser_w = _high(*os.pipe())
        from_browser_r, from_browser_w = _high(*os.pipe())
        command = [
            executable,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # bash (dash cannot name fds above 9) puts the pipe ends on the fds 3 and 4 that
        # Chromium reads and writes, then becomes Chromium (exec), in a session of its own so
        # that close() ends every process it starts
        process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} '
                f"{to_browser_r}<&- {from_browser_w}>&-",
                "sh",
                *command,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_browser_r, from_browser_w),
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        browser = cls(process, to_browser_w, from_browser_r, profile)
        try:
            browser._attach(width, height)
        except BaseException:
            browser.close()
            raise
        return browser

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the protocol ----------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> Any:
        """Send one command and wait (bounded) for its answer."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        data = json.dumps(message).encode() + b"\0"
        os.write(self.send_fd, data)
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The next event of a kind (bounded)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for k, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(k)
            reply = self._read(deadline)
            if "method" in reply:
                self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer from chromium within {TIMEOUT:.0f} s")
            ready, _, _ = select.select([self.receive_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.receive_fd, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed the pipe (it exited)")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def _attach(self, width: int, height: int) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, False
        )
        self.session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    # --- what tests use --------------------------------------------------------------------

    def open(self, path: Path) -> None:
        """Load a local file and wait for its load event (images included)."""
        self.events.clear()
        self.call("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (an exception is an error)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Uncaught exceptions the page raised so far."""
        return [
            str(e["params"].get("exceptionDetails", {}).get("text", ""))
            for e in self.events
            if e.get("method") == "Runtime.exceptionThrown"
        ]

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """A PNG of the page, or of one element of it."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if selector is not None:
            box = self.evaluate(
                f"(function () {{ var r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return [r.left + window.scrollX, r.top + "
                "window.scrollY, r.width, r.height]; })()"
            )
            x, y, w, h = box
            pad = 8
            params["clip"] = {
                "x": max(0, x - pad), "y": max(0, y - pad), "width": w + 2 * pad,
                "height": h + 2 * pad, "scale": 1,
            }  # fmt: skip
        data = self.call("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """End the browser's whole process group (bounded) and remove its profile."""
        for fd in (self.send_fd, self.receive_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        group = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
            if _gone(group, self.process, within=5.0):
                break
        shutil.rmtree(self.profile, ignore_errors=True)


def _gone(group: int, process: subprocess.Popen[bytes], within: float) -> bool:
    """Wait (at most ``within`` seconds) until no process of the group is left."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        process.poll()  # reaps the leader, so that it does not linger as a zombie
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    with Browser.start(width=1200, height=900) as browser:
        browser.open(Path(argv[0]))
        browser.screenshot(Path(argv[1]), argv[2] if len(argv) == 3 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
