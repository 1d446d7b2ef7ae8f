"""Browser end-to-end fixtures: a real ``streamlit run app.py`` driven by headless Chromium.

* ``server`` (session): starts the app on a free port in its own process group, waits
  (bounded) for ``/_stcore/health``, yields the base URL, kills the group at the end.
* ``browser`` (session): Playwright's Chromium pointed at Debian's ``/usr/bin/chromium``
  (Playwright's own download does not work here; a missing browser or package FAILS).
* ``app`` (function): a fresh browser context (own Streamlit session, 1400x1000) wrapped in
  :class:`AppPage`, whose helpers wait on conditions (Streamlit's script state, the element a
  test needs, charts with drawn marks), check for exception elements and save screenshots.
  On teardown a screenshot of the page is saved to ``artifacts/screenshots/<test name>.png``.

Nothing here waits a fixed time.  "The run my action caused is over" is read from the server's own
messages (an init script counts the script-run chains the server reports finished, once the browser has
drawn them; see ``_RUN_COUNTER_JS``) together with Streamlit's script state on the app root,
``[data-testid="stApp"][data-test-script-state="notRunning"]``, which alone cannot tell "not started
yet" or "between two runs of a chain" from "done".  Tests then wait for the element they need with
Playwright's ``expect``; charts count as drawn when Vega has put data marks in them.
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
IDLE_TIMEOUT_MS = 90_000  # bound on one script run (a guard against a hang, not a speed check; a loaded 2-core box)
CHART_TIMEOUT_MS = 60_000  # bound on Vega drawing every chart of a page
EXPECT_TIMEOUT_MS = 30_000  # Playwright's expect(...) default is 5 s: too short on a busy 2-core machine


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

    def __init__(self, root: Path = REPO, port: int | None = None, extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None):
        self.root, self.port = root, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", *extra_args]
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        env.pop("CONSISTENCY_FILL_IN", None)  # a real server fills numbers in as they finish (tests/conftest.py: AppTest's sync)
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


def running_server(**env: str):
    """Start a server, wait until it is healthy, hand it over, always stop it."""
    srv = StreamlitServer(env=env)
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
    context = new_context(browser)
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


def new_context(browser, viewport: dict = VIEWPORT):
    """A browser context (one Streamlit session per page) that counts script runs from the first byte."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(_RUN_COUNTER_JS)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    return context


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120]


@pytest.fixture
def app(browser, base_url, request):
    """A fresh Streamlit session in a 1400x1000 page; screenshot on teardown."""
    wrapped = AppPage(new_context(browser).new_page(), base_url)
    yield wrapped
    try:
        wrapped.screenshot(_safe_name(request.node.name))
    finally:
        wrapped.page.context.close()


@pytest.fixture
def new_session(browser, base_url):
    """Factory for more sessions in one test (a second person opening a link); closed on teardown.

    ``new_session()`` opens on the shared server; ``new_session(url)`` on another one.
    """
    contexts = []

    def make(url: str | None = None, viewport: dict = VIEWPORT) -> AppPage:
        context = new_context(browser, viewport)
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

# Runs before the app's own scripts in every page of a context: counts the script-run chains the server has
# reported over, and only once the browser has drawn what they sent.
#
# Why not the app root's ``data-test-script-state`` alone: it reads "notRunning" before a rerun starts, and
# between the runs of one chain (``st.rerun()``), and when a run is quick React can apply "running" and
# "notRunning" in one commit, so the attribute never visibly changes.  The server's own messages say it
# exactly.  Each websocket frame is one ``ForwardMsg`` (protobuf); its top-level field 6 is ``script_finished``
# (2 = FINISHED_EARLY_FOR_RERUN: another run of the chain follows) and field 9 ``session_status_changed``,
# whose field 2 ``script_is_running`` is absent when false.  A chain is over at the first "not running" that
# does not follow an early finish.  Streamlit turns each frame into React state in that frame's task; React
# draws it in a task it posts on a MessageChannel; the counter is raised from a MessageChannel task posted
# after that one (Chromium runs posted messages in order), i.e. once the DOM shows the chain's last run.
_RUN_COUNTER_JS = r"""
(() => {
  const s = window.__st = {settled: 0, finished: -1, frames: 0};
  const varint = (b, i) => { let x = 0, m = 1, c; do { c = b[i++]; x += (c & 0x7f) * m; m *= 128; } while (c & 0x80 && i < b.length); return [x, i]; };
  const fields = (b) => {  // top-level fields of a protobuf message: {number: varint value | bytes}
    const out = {}; let i = 0;
    while (i < b.length) {
      let tag, v; [tag, i] = varint(b, i);
      const wire = tag % 8, num = Math.floor(tag / 8);
      if (wire === 0) { [v, i] = varint(b, i); out[num] = v; }
      else if (wire === 2) { [v, i] = varint(b, i); out[num] = b.subarray(i, i + v); i += v; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break;
    }
    return out;
  };
  const afterReactDraws = (fn) => setTimeout(() => {
    const ch = new MessageChannel(); ch.port1.onmessage = fn; ch.port2.postMessage(null);
  }, 0);
  const onFrame = (data) => {
    if (!(data instanceof ArrayBuffer)) return;
    s.frames += 1;
    const f = fields(new Uint8Array(data));
    if (6 in f) s.finished = f[6];
    if (9 in f && !fields(f[9])[2] && s.finished !== 2 && s.finished !== -1) {
      s.finished = -1;
      afterReactDraws(() => { s.settled += 1; });
    }
  };
  const Native = window.WebSocket;
  function Counting(...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (ev) => { try { onFrame(ev.data); } catch (e) { s.error = String(e); } });
    return ws;
  }
  Counting.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Counting[k] = Native[k];
  window.WebSocket = Counting;
})();
"""

# True when a run chain ended after ``since`` (a value of __st.settled), the app root says no run is in
# progress, and no element is still a skeleton (Streamlit draws one while a widget's or chart's code loads).
_IDLE_JS = """
(since) => {
  const s = window.__st;
  const app = document.querySelector('[data-testid="stApp"]');
  return !!s && !!app && s.settled > since && app.dataset.testScriptState === 'notRunning'
      && app.dataset.testConnectionState === 'CONNECTED'
      && !document.querySelector('[data-testid="stSkeleton"]')
      // ui/later.py: a part whose numbers are still coming shows this note until a fragment run fills it in
      // (its text, not the alert's: the alert's starts with the icon's name)
      && !Array.from(document.querySelectorAll('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]'))
            .some((el) => el.innerText.trim().startsWith('Computing'));
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

# The visible charts (as _CHARTS_JS) once at least ``n`` are visible and every one has a size and data marks;
# false until then.
_CHARTS_DRAWN_JS = f"""
(n) => {{
  const charts = ({_CHARTS_JS})().filter(c => c.visible);
  return charts.length >= n && charts.every(c => c.w > 0 && c.h > 0 && c.marks > 0) ? charts : false;
}}
"""

# Resolves after the browser has drawn two more frames (layout and paint of what was just changed).
_TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"

# How far the page, Streamlit's scrolling main view and its block container are wider than the window.
_OVERFLOW_JS = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const block = document.querySelector('[data-testid="stMainBlockContainer"]');
  return {win: window.innerWidth, doc: document.documentElement.scrollWidth,
          main: main ? main.scrollWidth : 0, mainClient: main ? main.clientWidth : 0,
          block: block ? block.scrollWidth : 0, blockClient: block ? block.clientWidth : 0};
}
"""

# The outermost elements that stick out past the right edge of the window (their parent does not), skipping
# whatever a scroll container clips (a data grid's own canvas): the elements that make a page scroll sideways.
_WIDE_ELEMENTS_JS = """
() => {
  const limit = window.innerWidth + 0.5;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip')
          && !['stMain', 'stAppViewContainer', 'stApp'].includes(p.dataset.testid)
          && p.getBoundingClientRect().right <= limit) return true;
    }
    return false;
  };
  const wide = (el) => el.getBoundingClientRect().right > limit;
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    if (!wide(el) || (el.parentElement && wide(el.parentElement)) || clipped(el)) continue;
    const r = el.getBoundingClientRect();
    let owner = el.closest('[data-testid]');
    out.push({tag: el.tagName.toLowerCase(), testid: el.dataset.testid || null,
              inside: owner ? owner.dataset.testid : null, cls: (el.getAttribute('class') || '').slice(0, 80),
              text: (el.innerText || el.textContent || '').trim().slice(0, 80),
              left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width)});
  }
  return out.slice(0, 20);
}
"""


class AppPage:
    """A Playwright page on the running app, with Streamlit-aware waits and checks."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.page_errors: list[str] = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    # -- navigation and waiting
    def goto(self, path: str = "", **query) -> "AppPage":
        """Open ``path`` in this session and wait until its first run is over and its title is drawn."""
        from urllib.parse import urlencode

        url = f"{self.base_url}/{path.lstrip('/')}"
        if query:
            url += "?" + urlencode(query)
        self.page.goto(url)
        # The title is drawn by the run that reaches the page (after any st.rerun of a first visit) ...
        pw_expect(self.main().locator("h1").first).to_be_visible(timeout=IDLE_TIMEOUT_MS)
        self.wait_run(0)  # ... and that run is over
        return self

    def runs_ended(self) -> int:
        """How many run chains this page has seen end (pass it to ``wait_run`` before an action)."""
        return self.page.evaluate("() => window.__st.settled")

    def wait_run(self, since: int, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
        """Wait until a run chain ended after ``since`` (a ``runs_ended()`` value), is drawn, and none runs now."""
        try:
            self.page.wait_for_function(_IDLE_JS, arg=since, timeout=timeout_ms)
        except Exception as exc:  # noqa: BLE001 - say what the app showed
            state = self.page.evaluate("() => [window.__st, document.querySelector('[data-testid=stApp]')"
                                       "?.dataset.testScriptState, !!document.querySelector('[data-testid=stSkeleton]')]")
            raise AssertionError(f"no script run ended after #{since} within {timeout_ms} ms on {self.page.url} "
                                 f"(runs seen, state: {state}): {exc}") from None

    def wait_idle(self, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
        """Wait until the app root says no run is in progress.  Only meaningful once an element drawn by the
        run the test caused is on screen (before that, the state still says how the previous run ended)."""
        self.wait_run(-1, timeout_ms)

    def rerun(self, action, until=None, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
        """Do ``action`` (a click, a key press) and wait until the run chain it causes is over and drawn.

        ``until`` (a locator that must become visible, or a callable that waits itself) is what the test
        needs from that run; it is waited for first, with the same bound.
        """
        since = self.runs_ended()
        action()
        if until is not None:
            until() if callable(until) else pw_expect(until).to_be_visible(timeout=timeout_ms)
        self.wait_run(since, timeout_ms)

    def frames(self, n: int = 2) -> None:
        """Let the browser lay out and paint ``n`` frames (after a resize, before measuring)."""
        for _ in range(max(1, n // 2)):
            self.page.evaluate(_TWO_FRAMES_JS)

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
        """At least ``at_least`` visible Vega charts, each with a non-empty SVG/canvas holding data marks.

        Returns the charts as measured at the moment the condition held (a fragment may redraw them later).
        """
        try:
            return self.page.wait_for_function(_CHARTS_DRAWN_JS, arg=at_least, timeout=timeout_ms).json_value()
        except Exception:  # noqa: BLE001 - say what is missing
            charts = self.charts()
        visible = [c for c in charts if c["visible"]]
        assert len(visible) >= at_least, f"expected >= {at_least} drawn charts on {self.page.url}, found {charts}"
        empty = [c for c in visible if not (c["w"] > 0 and c["h"] > 0 and c["marks"] > 0)]
        assert not empty, f"charts without marks on {self.page.url}: {empty} (all: {charts})"
        return visible

    def overflow(self) -> dict:
        return self.page.evaluate(_OVERFLOW_JS)

    def wide_elements(self) -> list[dict]:
        """The elements that stick out past the window's right edge (what makes the page scroll sideways)."""
        return self.page.evaluate(_WIDE_ELEMENTS_JS)

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
                self.frames(2)  # the new layout is drawn ...
                try:  # ... and Vega has redrawn what it re-fits (a picture, not a check: never fails the test)
                    self.page.wait_for_function(_CHARTS_DRAWN_JS, arg=0, timeout=10_000)
                except Exception:  # noqa: BLE001
                    pass
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            if tall > size["height"]:
                self.page.set_viewport_size(size)
        return path


def pw_expect(locator):
    from playwright.sync_api import expect

    return expect(locator)
