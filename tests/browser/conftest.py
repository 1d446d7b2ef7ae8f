"""Browser end-to-end fixtures: a real ``streamlit run app.py`` driven by headless Chromium.

* ``server`` (session): starts the app on a free port in its own process group, waits
  (bounded) for ``/_stcore/health``, yields the base URL, kills the group at the end.
* ``browser`` (session): Playwright's Chromium pointed at Debian's ``/usr/bin/chromium``
  (Playwright's own download does not work here; a missing browser or package FAILS).
* ``app`` (function): a fresh browser context (own Streamlit session, 1400x1000) wrapped in
  :class:`AppPage`, whose helpers wait for Streamlit to go idle, check for exception elements
  and check that Vega-Lite charts are drawn.  On teardown a screenshot of the page is saved
  to ``artifacts/screenshots/<test name>.png``.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1400, "height": 1000}

SERVER_START_TIMEOUT_S = 90  # first start imports torch and loads checkpoints
IDLE_TIMEOUT_MS = 60_000  # one script run at default settings, generous for slow CI machines
IDLE_SETTLE_MS = 400  # "not running" must hold this long (reruns triggered by query-param sync)
CHART_TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = 15_000  # Playwright's expect(...) default is 5 s: too short on a busy 2-core machine


# ---------------------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


class StreamlitServer:
    """``python -m streamlit run app.py`` in its own process group; output goes to a log file."""

    def __init__(self, root: Path = REPO, port: int | None = None, extra_args: tuple[str, ...] = ()):
        self.root, self.port = root, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", *extra_args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, cwd=root, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def output(self, tail: int = 6000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-tail:]

    def wait_healthy(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {self.proc.returncode} before it was healthy:\n{self.output()}")
            if _healthy(self.url):
                return
            time.sleep(0.2)
        pytest.fail(f"streamlit was not healthy after {timeout_s:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()
        os.unlink(self.log.name)


def running_server():
    """Start a server, wait until it is healthy, hand it over, always stop it."""
    srv = StreamlitServer()
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server():
    yield from running_server()


@pytest.fixture(scope="session")
def base_url(server, browser) -> str:
    """The server's URL, after one visit to Home (loads the models; registers the app's pages)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        AppPage(context.new_page(), server.url).goto("")
    finally:
        context.close()
    return server.url


# ---------------------------------------------------------------------------- the browser

def launch_chromium(playwright):
    """Debian's Chromium; never Playwright's download.  Missing pieces fail, they do not skip."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.fail(f"Chromium not found at {CHROMIUM} (install Debian's `chromium`; tests/run.sh does)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def playwright_instance():
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:  # a missing package must fail the run, not skip it
        pytest.fail(f"playwright is not installed ({exc}); run `pip install -r requirements-dev.txt`")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = launch_chromium(playwright_instance)
    yield b
    b.close()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120]


@pytest.fixture
def app(browser, base_url, request):
    """A fresh Streamlit session in a 1400x1000 page; screenshot on teardown."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    wrapped = AppPage(page, base_url)
    yield wrapped
    try:
        wrapped.screenshot(_safe_name(request.node.name))
    finally:
        context.close()


@pytest.fixture
def new_session(browser, base_url):
    """Factory for more sessions in one test (a second person opening a link); closed on teardown.

    ``new_session()`` opens on the shared server; ``new_session(url)`` on another one.
    """
    contexts = []

    def make(url: str | None = None) -> AppPage:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        return AppPage(context.new_page(), url or base_url)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def fresh_server():
    """A server of its own that no browser has visited yet (for first-visit behaviour)."""
    yield from running_server()


# ---------------------------------------------------------------------------- helpers

# Streamlit marks the app root with the script state; "notRunning" once a run (or fragment run) ends.
_IDLE_JS = """
(settleMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = !!app && app.dataset.testScriptState === 'notRunning'
      && app.dataset.testConnectionState === 'CONNECTED'
      && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  const now = performance.now();
  if (!idle) { window.__stIdleSince = null; return false; }
  if (!window.__stIdleSince) window.__stIdleSince = now;
  return now - window.__stIdleSince >= settleMs;
}
"""

# Per visible Vega chart: renderer, size, and the number of drawn data marks (not axes/legends).
_CHARTS_JS = """
() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]')).map((el) => {
  const r = el.getBoundingClientRect();
  const visible = r.width > 0 && r.height > 0 && el.offsetParent !== null;
  const svg = el.querySelector('svg.marks');
  const canvas = el.querySelector('canvas');
  if (svg) {
    const items = svg.querySelectorAll(
      'g.role-mark > path, g.role-mark > line, g.role-mark > text, g.role-mark > rect, g.role-mark > image');
    let marks = 0;
    for (const it of items) {
      const d = it.getAttribute('d');
      if (it.tagName === 'path' && (!d || d === 'M0,0Z' || d === '')) continue;
      marks += 1;
    }
    return {renderer: 'svg', visible, w: svg.clientWidth || +svg.getAttribute('width'),
            h: svg.clientHeight || +svg.getAttribute('height'), marks};
  }
  if (canvas) {
    let marks = 0;
    try {
      const ctx = canvas.getContext('2d');
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const first = [data[0], data[1], data[2], data[3]];
      for (let i = 4; i < data.length; i += 4 * 7) {
        if (data[i] !== first[0] || data[i+1] !== first[1] || data[i+2] !== first[2] || data[i+3] !== first[3]) marks += 1;
      }
    } catch (e) { marks = -1; }
    return {renderer: 'canvas', visible, w: canvas.width, h: canvas.height, marks};
  }
  return {renderer: 'none', visible, w: 0, h: 0, marks: 0};
})
"""


class AppPage:
    """A Playwright page on the running app, with Streamlit-aware waits and checks."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.page_errors: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    # -- navigation and waiting
    def goto(self, path: str = "", **query) -> "AppPage":
        from urllib.parse import urlencode

        url = f"{self.base_url}/{path.lstrip('/')}"
        if query:
            url += "?" + urlencode(query)
        self.page.goto(url)
        self.wait_idle()
        return self

    def wait_idle(self, timeout_ms: int = IDLE_TIMEOUT_MS, settle_ms: int = IDLE_SETTLE_MS) -> None:
        """Wait until Streamlit is connected and no script run is in progress (bounded)."""
        self.page.evaluate("() => { window.__stIdleSince = null; }")
        self.page.wait_for_function(_IDLE_JS, arg=settle_ms, timeout=timeout_ms, polling=100)

    def main(self):
        return self.page.locator('[data-testid="stMain"]')

    def sidebar(self):
        return self.page.locator('[data-testid="stSidebar"]')

    def query(self) -> dict[str, list[str]]:
        from urllib.parse import parse_qs, urlparse

        return parse_qs(urlparse(self.page.url).query)

    # -- checks
    def exceptions(self) -> list[str]:
        loc = self.page.locator('[data-testid="stException"]')
        return [loc.nth(i).inner_text()[:2000] for i in range(loc.count())]

    def assert_no_exception(self) -> None:
        exc = self.exceptions()
        assert not exc, f"Streamlit shows {len(exc)} exception(s) on {self.page.url}:\n" + "\n---\n".join(exc)

    def charts(self) -> list[dict]:
        return self.page.evaluate(_CHARTS_JS)

    def assert_charts_drawn(self, at_least: int = 1, timeout_ms: int = CHART_TIMEOUT_MS) -> list[dict]:
        """At least ``at_least`` visible Vega charts, each with a non-empty SVG/canvas holding data marks."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            charts = self.charts()
            visible = [c for c in charts if c["visible"]]
            ok = len(visible) >= at_least and all(c["w"] > 0 and c["h"] > 0 and c["marks"] > 0 for c in visible)
            if ok or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert len(visible) >= at_least, f"expected >= {at_least} drawn charts on {self.page.url}, found {charts}"
        empty = [c for c in visible if not (c["w"] > 0 and c["h"] > 0 and c["marks"] > 0)]
        assert not empty, f"charts without marks on {self.page.url}: {empty} (all: {charts})"
        return visible

    # -- artefacts
    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """Save ``artifacts/screenshots/<name>.png``; the whole scrolled page when ``full_page``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if not full_page:
            self.page.screenshot(path=str(path))
            return path
        # Streamlit scrolls an inner container, not the document: grow the viewport to its height.
        height = self.page.evaluate("""() => {
          const els = [document.scrollingElement, document.querySelector('[data-testid="stMain"]'),
                       document.querySelector('[data-testid="stAppViewContainer"]'),
                       document.querySelector('[data-testid="stSidebarContent"]')];
          return Math.max(...els.filter(Boolean).map(e => e.scrollHeight));
        }""")
        size = self.page.viewport_size or VIEWPORT
        tall = max(size["height"], min(int(height) + 40, 12_000))
        try:
            if tall > size["height"]:
                self.page.set_viewport_size({"width": size["width"], "height": tall})
                self.page.wait_for_timeout(300)  # let Vega re-fit to the new layout
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            if tall > size["height"]:
                self.page.set_viewport_size(size)
        return path
