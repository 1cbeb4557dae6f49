"""What the browser tests share: posthog-js in Debian's headless Chromium, driven by playwright-core from a node
script (never a downloaded browser), against pytest-django's live server, for a website on another origin.

- `needs_browser(*packages)`: skip unless node, /usr/bin/chromium and these npm packages (tests/js) are there
  (CI installs them all, so nothing skips there).
Its fixtures are everywhere (tests/conftest.py loads this module as a plugin):
- `page_server` (fixture): the website, a static server on another origin serving the test's tmp_path.
- `through_the_app` (fixture): /static/ answered by the app (WhiteNoise, then the URLs) as the real server does,
  not by the live server's own static handler.
- `SNIPPET_LOADER`: PostHog's HTML snippet in readable form (the README's): a stub queueing calls and one script
  tag loading `api_host + /static/array.js`, which takes the queue over when it runs.
- `run_node(script, arguments, home)`: run a script with the JSON arguments; its last stdout line, parsed.
- `NodeDialogue(script, arguments, home)`: a script run beside the test that talks in lines: it prints JSON
  messages (`next_message()`), the test answers on its stdin (`say()`), e.g. "ready" → the test acts → "flushed".
"""

from __future__ import annotations

import functools
import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler

ROOT = Path(__file__).resolve().parents[1]
JS_PACKAGE_JSON = ROOT / "tests" / "js" / "package.json"
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")

SNIPPET_LOADER = """(function (w, d) {
  if (w.posthog && w.posthog.__SV) return;
  var stub = (w.posthog = []);
  stub.__SV = 1;
  stub._i = [];
  stub.people = [];
  stub.init = function (token, config, name) {
    var script = d.createElement("script");
    script.async = true;
    script.crossOrigin = "anonymous";
    script.src = config.api_host + "/static/array.js";
    d.head.appendChild(script);
    stub._i.push([token, config, name]);
  };
  "capture identify register reset".split(" ").forEach(function (method) {
    stub[method] = function () { stub.push([method].concat([].slice.call(arguments))); };
  });
})(window, document);"""


def needs_browser(*packages: str) -> pytest.MarkDecorator:
    missing = shutil.which("node") is None or not CHROMIUM.exists()
    missing = missing or any(not (NODE_MODULES / package).exists() for package in packages)
    return pytest.mark.skipif(missing, reason=f"node, {CHROMIUM} or one of {', '.join(packages)} is missing")


@contextmanager
def website(directory: Path) -> Iterator[str]:
    """A static server on another origin (CORS is exercised) serving ``directory``; its base URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with website(tmp_path) as url:
        yield url, tmp_path


@pytest.fixture
def through_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StaticFilesHandler, "_should_handle", lambda self, path: False)


def node_env(home: Path) -> dict[str, str]:
    return {"SDK_PACKAGE_JSON": str(JS_PACKAGE_JSON), "PATH": "/usr/bin:/bin", "HOME": str(home)}


def run_node(script: Path, arguments: dict[str, Any], home: Path, *, timeout: float = 120) -> dict[str, Any]:
    run = subprocess.run(
        ["node", str(script), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=node_env(home),
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


class NodeDialogue:
    """A node script with JSON arguments, run beside the test: its stdout lines starting with "{" are messages,
    its stdin takes the test's answers. ``finish()`` closes its stdin and waits for it."""

    def __init__(self, script: Path, arguments: dict[str, Any], home: Path, *, message_timeout: float = 90) -> None:
        self.process = subprocess.Popen(
            ["node", str(script), json.dumps(arguments)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=node_env(home),
        )  # fmt: skip
        self.message_timeout = message_timeout
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next_message(self) -> dict[str, Any]:
        while True:
            line = self._lines.get(timeout=self.message_timeout)
            if line is None:
                raise AssertionError(f"the browser script ended ({self.process.wait()}): {self.stderr()}")
            if line.startswith("{"):
                return json.loads(line)

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n")
        self.process.stdin.flush()

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read()[-3000:]

    def finish(self, timeout: float = 60) -> int:
        """Close the script's stdin and wait for it; its exit status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=timeout)
