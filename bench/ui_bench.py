"""UI speed benchmark: start-up to a usable Home page, and server time of a rerun after each widget change.

    python bench/ui_bench.py [--repeats 3] [--cores 2] [--out bench/UI_BENCHMARKS.md]

Targets (issue 3): the first page is usable <= 5 s after ``streamlit run`` starts on 2 cores;
after a widget change a page's rerun takes <= 200 ms of server time at default settings.

(a) Start-up: a fresh ``python -m streamlit run app.py`` (pinned to ``--cores`` CPUs with
    ``taskset`` when the machine has more) is launched; the clock stops when headless Chromium
    shows the Home page's main heading and Streamlit has stopped running (held for 300 ms;
    the time reported is when that idle period began).  Repeated ``--repeats`` times.
(b) Rerun server time: ``streamlit.testing.v1.AppTest`` runs the app in-process; each page is
    run once at its defaults (warm caches, "predict first" answered so the results are shown),
    then every widget on the page is changed to a neighbouring value in turn and ``at.run()``
    is timed (the wall time of the script run is the server time), then set back.  The first
    change to a value is timed, so caches keyed on that value are cold, as for a real user.
    Valid values come from the ``ui.params.Param`` each page declares for its widgets; the
    sidebar model picker is switched through the URL's ``model`` (what the picker writes).
    Widgets inside a form are listed apart: the browser reruns only when the form is submitted.

Figures only: nothing here asserts on time (the tests do not time anything).
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "UI_BENCHMARKS.md"

STARTUP_TARGET_S = 5.0
RERUN_TARGET_MS = 200.0
STARTUP_TIMEOUT_S = 120.0
SETTLE_S = 0.3  # Streamlit must stay idle this long to count as "usable" (query-param sync reruns)
RUN_TIMEOUT_S = 120.0  # AppTest's per-run limit (its default of 3 s is for tiny apps)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]

# The pages, as AppTest switches to them (paths relative to app.py); read from app.py's st.Page calls.
_PAGE_RE = re.compile(r'st\.Page\(\s*"([^"]+)"\s*,\s*title="([^"]+)"')


def discover_pages() -> list[tuple[str, str]]:
    """(title, path) of every page app.py routes to, default page first."""
    found = [(title, path) for path, title in _PAGE_RE.findall((REPO / "app.py").read_text())]
    if not found:
        raise RuntimeError("no st.Page(\"...\", title=\"...\") found in app.py")
    return found


# ============================================================================ (a) start-up

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def _pin(cores: int) -> list[str]:
    """``taskset`` prefix that confines the server to ``cores`` CPUs (none needed if the machine has no more)."""
    have = os.cpu_count() or 1
    if have <= cores or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", ",".join(str(c) for c in range(cores))]


_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  const heading = !!h1 && h1.offsetParent !== null && h1.innerText.trim().length > 0;
  const idle = heading && !!app && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
  return {heading, idle};
}"""


@dataclass
class StartupRun:
    health_s: float  # server answers /_stcore/health
    heading_s: float  # Home heading first drawn (the script may still be running)
    usable_s: float  # Home heading visible and Streamlit idle
    heading: str


def measure_startup(browser, cores: int) -> StartupRun:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    cmd = [*_pin(cores), sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.perf_counter() - t0 > STARTUP_TIMEOUT_S:
                log.seek(0)
                raise RuntimeError(f"streamlit did not become healthy:\n{log.read().decode(errors='replace')[-4000:]}")
            time.sleep(0.02)
        health = time.perf_counter() - t0
        page.goto(url)
        idle_since = heading_at = None
        while True:
            now = time.perf_counter()
            if now - t0 > STARTUP_TIMEOUT_S:
                raise RuntimeError("Home page did not become usable in time")
            state = page.evaluate(_IDLE_JS)
            if heading_at is None and state["heading"]:
                heading_at = now
            if state["idle"]:
                idle_since = idle_since or now
                if now - idle_since >= SETTLE_S:
                    break
            else:
                idle_since = None
            time.sleep(0.02)
        heading = page.locator('[data-testid="stMain"] h1').first.inner_text().strip()
        return StartupRun(health, (heading_at or idle_since) - t0, idle_since - t0, heading)
    finally:
        page.close()
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
        log.close()


def bench_startup(repeats: int, cores: int, log: Callable[[str], None]) -> list[StartupRun]:
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for i in range(repeats):
                run = measure_startup(browser, cores)
                log(f"start-up {i + 1}/{repeats}: healthy {run.health_s:.2f} s, heading {run.heading_s:.2f} s, "
                    f"usable {run.usable_s:.2f} s")
                runs.append(run)
        finally:
            browser.close()
    return runs


# ============================================================================ (b) rerun server time

MODEL_PICKER_KEY = "_model_picker"  # app.py's sidebar select box (ui.models.resolve: the key is this plus ":<model>")
WIDGET_KINDS = ("slider", "select_slider", "selectbox", "radio", "multiselect", "number_input", "checkbox",
                "toggle", "button_group")


def record_specs() -> dict[str, Any]:
    """Capture every ``ui.params.Param`` the pages declare (AppTest runs the pages in this process).

    Pages create their URL-bound widgets with ``key=param.key``, so a page's Params say which
    widgets are its settings and which raw values they accept (choices, ranges, kinds).
    """
    from ui import params

    seen: dict[str, Any] = {}
    if getattr(params.bind, "_bench_wrapped", False):
        return params.bind._bench_seen
    original = params.bind

    def bind(spec, *a, **kw):
        for p in spec.params:
            seen[p.key] = p
        return original(spec, *a, **kw)

    bind._bench_wrapped, bind._bench_seen = True, seen
    params.bind = bind
    return seen


def _near(v: float, step: float, lo, hi):
    up = v + step
    return up if hi is None or up <= hi else v - step


def changed_value(w, param) -> tuple[Any, str] | None:
    """A nearby, valid, different value for widget ``w`` (its ``Param`` if it has one) and a description."""
    kind, v = w.type, w.value
    if kind in ("checkbox", "toggle"):
        return (not v), f"{v} -> {not v}"
    if param is not None and param.kind in ("choice", "multi") and param.choices:
        choices = list(param.choices)
        if param.kind == "choice":
            i = choices.index(v) if v in choices else 0
            new = choices[i + 1] if i + 1 < len(choices) else choices[i - 1]
            return new, f"{v} -> {new}"
        if len(v) > 1:
            return list(v[:-1]), f"{list(v)} -> {list(v[:-1])}"
        extra = next(c for c in choices if c not in v)
        return [*v, extra], f"{list(v)} -> {[*v, extra]}"
    if kind in ("slider", "number_input"):
        step = getattr(w, "step", None) or 1
        hi = w.max if kind == "slider" else getattr(w, "max", None)
        if isinstance(v, (list, tuple)):
            return (v[0], _near(v[1], step, None, hi)), f"{tuple(v)} -> upper end moved"
        new = _near(v, step, None, hi)
        new = int(new) if isinstance(v, int) else round(float(new), 10)
        return new, f"{v} -> {new}"
    if (w.key or "").startswith(MODEL_PICKER_KEY):  # the sidebar model picker: labels -> names from ui.models
        from ui.models import MODEL_LABELS

        names = {label: name for name, label in MODEL_LABELS.items()}
        options = [names[o] for o in w.options if o in names]
        if len(options) > 1:
            new = options[1] if v == options[0] else options[0]
            return new, f"{v} -> {new}"
        return None
    if kind in ("selectbox", "radio", "select_slider", "button_group"):
        # No Param: only widgets whose options are the plain str() of their values can be driven.
        options = list(w.options)
        cur = str(w.format_func(v)) if v is not None else None
        if cur not in options or len(options) < 2:
            return None
        i = options.index(cur)
        nb = options[i + 1] if i + 1 < len(options) else options[i - 1]
        for cand in (nb, _typed(nb, v)):
            if cand is not None and str(w.format_func(cand)) == nb and type(cand) is type(v):
                return cand, f"{v} -> {cand}"
        return None
    return None


def _typed(text: str, like: Any) -> Any:
    try:
        return type(like)(text) if isinstance(like, (int, float)) and not isinstance(like, bool) else None
    except ValueError:
        return None


@dataclass
class Change:
    widget: str
    description: str
    ms: float
    error: str | None = None
    in_form: bool = False  # a form widget: the browser does not rerun until the form is submitted
    back_ms: float | None = None  # the rerun that sets it back to the default (that result is cached)


@dataclass
class PageResult:
    name: str
    first_ms: float = 0.0  # first visit (cold caches)
    default_ms: float = 0.0  # a plain rerun at defaults (warm)
    changes: list[Change] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def timed(self) -> list[float]:
        """Reruns a person triggers by changing a widget (form widgets only rerun on submit)."""
        return [c.ms for c in self.changes if c.error is None and not c.in_form]

    @property
    def form_timed(self) -> list[float]:
        return [c.ms for c in self.changes if c.error is None and c.in_form]


def _timed_run(at) -> float:
    t = time.perf_counter()
    at.run(timeout=RUN_TIMEOUT_S)
    return (time.perf_counter() - t) * 1000


def _exceptions(at) -> str | None:
    exc = list(at.exception)
    return "; ".join(e.message.splitlines()[0][:200] for e in exc) if exc else None


def _in_sidebar(w) -> bool:
    node = w
    while getattr(node, "parent", None) is not None:
        node = node.parent
        if getattr(node, "type", None) == "sidebar":
            return True
    return False


def _label(w) -> str:
    where = "sidebar " if _in_sidebar(w) else ""
    return f"{where}{w.type} '{w.label}'" + (f" (`{w.key}`)" if w.key else "")


def _widgets(at) -> list:
    out = []
    for kind in WIDGET_KINDS:
        out.extend(getattr(at, kind))
    return out


def _find(at, kind: str, key: str | None, label: str):
    for w in getattr(at, kind):
        if (key and w.key == key) or (not key and w.label == label):
            return w
    return None


def reveal(at) -> bool:
    """Press the page's "Skip the question and show the results" button, as a person would, if it has one."""
    for b in at.button:
        if "skip" in (b.label or "").lower():
            b.click()
            at.run(timeout=RUN_TIMEOUT_S)
            return True
    return False


def _open(path: str, home: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=RUN_TIMEOUT_S)
    at.run()
    if path != home:
        at.switch_page(path)
        at.run()
    return at


def bench_page(name: str, path: str, home: str, specs: dict, log: Callable[[str], None]) -> PageResult:
    from streamlit.testing.v1 import AppTest

    res = PageResult(name)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=RUN_TIMEOUT_S)
    if path == home:
        res.first_ms = _timed_run(at)
    else:
        at.run()  # AppTest needs one run before it can switch to a page with a custom url_path
        at.switch_page(path)
        res.first_ms = _timed_run(at)
    if (err := _exceptions(at)):
        res.error = err
        return res
    if reveal(at):
        log(f"  {name}: pressed Skip to show the results")
    at.run()  # warm: every cache the defaults need is filled
    res.default_ms = _timed_run(at)
    if (err := _exceptions(at)):
        res.error = err
        return res
    targets = [(w.type, w.key, w.label) for w in _widgets(at)]
    for kind, key, wlabel in targets:
        if key and key.startswith("predict_"):  # the predict-first question: an answer, not a setting
            continue
        w = _find(at, kind, key, wlabel)
        if w is None or getattr(w, "disabled", False):
            continue
        label = _label(w)
        change = changed_value(w, specs.get(key))
        if change is None:
            res.skipped.append(label)
            continue
        new, desc = change
        original = w.value
        in_form = bool(getattr(w, "form_id", ""))
        try:
            w.set_value(new)
            ms = _timed_run(at)
            err = _exceptions(at)
            res.changes.append(Change(label, desc, ms, err, in_form))
            log(f"  {name}: {label} {desc}: {ms:.0f} ms" + (f"  EXCEPTION {err}" if err else ""))
        except Exception as exc:  # noqa: BLE001 - a widget we could not drive is reported, not fatal
            res.changes.append(Change(label, desc, float("nan"), f"{type(exc).__name__}: {exc}", in_form))
            log(f"  {name}: {label}: could not be changed ({exc})")
        back = _find(at, kind, key, wlabel)  # back to the default, so every change starts from the defaults
        try:
            if back is None:
                raise LookupError(label)
            back.set_value(original)
            if res.changes and res.changes[-1].widget == label:
                res.changes[-1].back_ms = _timed_run(at)
            else:
                at.run()
            if _exceptions(at):
                raise RuntimeError(_exceptions(at))
        except Exception:  # noqa: BLE001 - start over from a fresh session at defaults
            at = _open(path, home)
            reveal(at)
            at.run()
    if not any((w.key or "").startswith(MODEL_PICKER_KEY) for w in _widgets(at)):
        # AppTest drops the sidebar from its element tree after the first run; the picker only writes
        # ``model`` to the URL and reruns, so the same change is made through the URL.
        change_model_through_url(at, res, log)
    return res


def change_model_through_url(at, res: PageResult, log: Callable[[str], None]) -> None:
    label = "sidebar selectbox 'Models shown on every page' (as URL `model`)"
    try:
        at.query_params["model"] = "lesson"
        ms = _timed_run(at)
        res.changes.append(Change(label, "ours -> lesson", ms, _exceptions(at)))
        log(f"  {res.name}: {label} ours -> lesson: {ms:.0f} ms")
        at.query_params.pop("model", None)
        res.changes[-1].back_ms = _timed_run(at)
    except Exception as exc:  # noqa: BLE001
        res.changes.append(Change(label, "ours -> lesson", float("nan"), f"{type(exc).__name__}: {exc}"))


def bench_reruns(log: Callable[[str], None]) -> list[PageResult]:
    specs = record_specs()
    pages = discover_pages()
    home = pages[0][1]
    results = []
    for name, path in pages:
        if not (REPO / path).exists():
            results.append(PageResult(name, error=f"{path} does not exist"))
            continue
        try:
            results.append(bench_page(name, path, home, specs, log))
        except Exception as exc:  # noqa: BLE001
            results.append(PageResult(name, error=f"{type(exc).__name__}: {exc}"))
        log(f"{name}: done")
    return results


# ============================================================================ report

def _ratio(x: float, target: float) -> str:
    return f"{x / target:.2f}x"


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def report(startup: list[StartupRun] | None, pages: list[PageResult] | None, cores: int,
           load_before: str = "", load_after: str = "") -> str:
    lines = ["# UI benchmarks", "",
             "Written by `python bench/ui_bench.py`. Figures only; no test asserts on time.", "",
             f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
             f"(server pinned to {cores} with taskset: {'yes' if _pin(cores) else 'no, the machine has no more'}). "
             f"Load average (1/5/15 min) before: {load_before or _load()}, after: {load_after or _load()}; "
             "other work on the machine inflates every figure.", ""]
    lines += ["## Targets", "",
              "| what | target | measured | ratio to target | verdict |", "|---|---|---|---|---|"]
    if startup:
        med = statistics.median(r.usable_s for r in startup)
        lines.append(f"| start-up to a usable Home page (median of {len(startup)}) | <= {STARTUP_TARGET_S:.0f} s | "
                     f"{med:.2f} s | {_ratio(med, STARTUP_TARGET_S)} | {'meets' if med <= STARTUP_TARGET_S else 'MISSES'} |")
    if pages:
        for p in pages:
            t = p.timed
            if p.error or not t:
                if p.error:
                    what = f"error: {p.error}"
                elif p.form_timed:
                    what = (f"only form widgets (the page reruns on Retrain, not on a change); their reruns: median "
                            f"{statistics.median(p.form_timed):.0f} / max {max(p.form_timed):.0f} ms")
                else:
                    what = "no widget changed"
                lines.append(f"| rerun after a widget change, {p.name} | <= {RERUN_TARGET_MS:.0f} ms | {what} | | |")
                continue
            med, mx = statistics.median(t), max(t)
            lines.append(f"| rerun after a widget change, {p.name} (median / max of {len(t)}) | <= {RERUN_TARGET_MS:.0f} ms | "
                         f"{med:.0f} / {mx:.0f} ms | {_ratio(med, RERUN_TARGET_MS)} / {_ratio(mx, RERUN_TARGET_MS)} | "
                         f"{'meets' if mx <= RERUN_TARGET_MS else ('median meets, max MISSES' if med <= RERUN_TARGET_MS else 'MISSES')} |")
    if startup:
        lines += ["", "## (a) Start-up", "",
                  "Fresh `python -m streamlit run app.py` each time; clock from launch until headless Chromium shows the "
                  f"Home heading and Streamlit has stopped running (held {SETTLE_S * 1000:.0f} ms).", "",
                  "| run | server healthy | Home heading drawn | Home usable | ratio to 5 s |", "|---|---|---|---|---|"]
        for i, r in enumerate(startup, 1):
            lines.append(f"| {i} | {r.health_s:.2f} s | {r.heading_s:.2f} s | {r.usable_s:.2f} s | "
                         f"{_ratio(r.usable_s, STARTUP_TARGET_S)} |")
        med = lambda attr: statistics.median(getattr(r, attr) for r in startup)  # noqa: E731
        lines.append(f"| **median** | {med('health_s'):.2f} s | {med('heading_s'):.2f} s | **{med('usable_s'):.2f} s** | "
                     f"{_ratio(med('usable_s'), STARTUP_TARGET_S)} |")
        lines.append(f"\nHome heading seen: \"{startup[0].heading}\".")
    if pages:
        lines += ["", "## (b) Rerun server time after a widget change", "",
                  "In-process `AppTest` (`at.run()` wall time = server time of the script run). Each widget is moved to a "
                  "neighbouring value from the page's defaults, one at a time; the first run with that value is timed "
                  "(cold caches for that value).", "",
                  "| page | first visit | rerun at defaults | changes timed | median | max | over 200 ms |",
                  "|---|---|---|---|---|---|---|"]
        for p in pages:
            if p.error:
                lines.append(f"| {p.name} | error: {p.error} | | | | | |")
                continue
            t = p.timed
            over = [c for c in p.changes if c.error is None and c.ms > RERUN_TARGET_MS]
            lines.append(f"| {p.name} | {p.first_ms:.0f} ms | {p.default_ms:.0f} ms | {len(t)} | "
                         f"{statistics.median(t):.0f} ms | {max(t):.0f} ms | {len(over)} |" if t else
                         f"| {p.name} | {p.first_ms:.0f} ms | {p.default_ms:.0f} ms | 0 | | | |")
        for p in pages:
            if p.error or not p.changes:
                continue
            lines += ["", f"### {p.name}", "", "| widget | change | server time | ratio to 200 ms | back to default (cached) |",
                      "|---|---|---|---|---|"]
            for c in p.changes:
                widget = c.widget + (" (in a form)" if c.in_form else "")
                back = f"{c.back_ms:.0f} ms" if c.back_ms is not None else ""
                if c.error:
                    lines.append(f"| {widget} | {c.description} | error: {c.error} | | {back} |")
                else:
                    flag = " **over**" if c.ms > RERUN_TARGET_MS else ""
                    lines.append(f"| {widget} | {c.description} | {c.ms:.0f} ms{flag} | {_ratio(c.ms, RERUN_TARGET_MS)} | {back} |")
            if p.form_timed:
                lines.append(f"\nWidgets in a form do not rerun the page in the browser until the form is submitted; "
                             f"their {len(p.form_timed)} reruns (median {statistics.median(p.form_timed):.0f} ms) are "
                             "listed but left out of the page's median and max.")
            if p.skipped:
                lines.append(f"\nNot changed (no neighbouring value to set): {', '.join(p.skipped)}.")
    return "\n".join(lines) + "\n"


def kept_sections(out: Path) -> str:
    """The sections other scripts write into ``out`` between their ``<!-- ...: begin/end -->`` markers (kept)."""
    old = out.read_text() if out.exists() else ""
    return "".join("\n" + m.group(0) + "\n" for m in re.finditer(r"<!-- ([^:]+): begin -->.*?<!-- \1: end -->", old, re.S))


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="fresh start-ups to time")
    ap.add_argument("--cores", type=int, default=2, help="CPUs the server may use (taskset) for the start-up figure")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--skip-startup", action="store_true")
    ap.add_argument("--skip-reruns", action="store_true")
    args = ap.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    load_before = _load()
    startup = None if args.skip_startup else bench_startup(args.repeats, args.cores, log)
    pages = None if args.skip_reruns else bench_reruns(log)
    text = report(startup, pages, args.cores, load_before, _load())
    args.out.write_text(text + kept_sections(args.out))
    print(text)
    return text


if __name__ == "__main__":
    main()
