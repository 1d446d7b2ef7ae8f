"""Where a student's wait goes after typing a new noise seed on pages 1, 2 and 4, measured in real Chromium.

    python bench/ui_speed.py [--changes 5] [--against REV] [--out bench/UI_BENCHMARKS.md]

One fresh ``streamlit run app.py`` (the clock starts at the launch: "first page" is Home drawn and idle),
one browser session, one warm-up visit to each page (results shown, its first seed computed), then
``--changes`` new seeds typed into each page's "Noise seed" box.  Each change is timed in the page itself
(``performance.now()``): from the Enter key that commits the seed to the last change of the page's DOM after
which the page is idle with every chart drawn and no "Computing" note (ui/later.py), held 300 ms.  The server's
messages are timestamped as they arrive (one websocket frame each), which splits that time into

* **first script run**: key press to the server's "script finished" of the first run (that run's work, its
  wait for the numbers included, plus the round trip; the browser handles the messages as they come, so its
  drawing of the run's first elements is inside this too);
* **fill-in polling**: from there to the last run's "finished" (the fragment's looks until the numbers are in);
* **browser render**: from the last message to the page's last drawn change;
* **browser busy**: the browser's main thread in tasks of 50 ms or more (Chromium's long-task timeline:
  React, Vega parsing and drawing the charts) anywhere between the key and the end.

Every timing is also affected by what else the machine runs: the load average is printed with the figures.

In the same process, after the browser part, the page's own computation for the same seeds is timed
in-process (the ``ui.compute`` functions' bodies, uncached, one torch thread as on the server), and so are its
chart building (``compute.chart_spec``'s builders, uncached) and the serialisation of those specs (JSON, and
Arrow for the tables a spec carries), and the page's whole script run (AppTest, numbers computed inside it).
The ratio is the browser median over that computation's median.  ``--against REV`` first measures the app as it
was at ``REV`` the same way (just before, so under about the same load) for a before/after table.  Figures only;
nothing asserts on time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from ui_bench import CHROMIUM, CHROMIUM_ARGS, _free_port, _healthy, _load  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "UI_BENCHMARKS.md"
BEGIN, END = "<!-- ui speed: begin -->", "<!-- ui speed: end -->"  # this script's section of the file
TARGET_RATIO, TARGET_S, FIRST_PAGE_TARGET_S = 1.5, 0.6, 3.0
QUIET_MS = 300  # the page counts as done when nothing changed in it for this long while idle
TIMEOUT_S = 120.0
IMPORTS = ("torch", "altair", "pandas", "scipy.special", "sklearn.datasets")  # what the first page's run imports
FIRST_SEED = 100  # the warm-up's seed; the changes type FIRST_SEED + 1, + 2, ...

# page title, url path, reveal query, seed widget key, charts drawn once its numbers are in
PAGES = [("1. Self-consistency", "self-consistency", "sc_show=1", "sc_seed"),
         ("2. One-step ODE vs endpoint", "one-step-ode", "os_show=1", "os_seed"),
         ("4. Multi-step consistency", "multistep", "ms_show=1", "ms_seed")]

# Before the app's scripts: every websocket frame's arrival time and what it says (protobuf ForwardMsg: field 6
# script_finished, 9 session_status_changed with field 2 script_is_running), every DOM change's time, the time
# of the Enter key.
_INIT_JS = r"""
(() => {
  const s = window.__sp = {frames: [], lastChange: 0, key: 0};
  const varint = (b, i) => { let x = 0, m = 1, c; do { c = b[i++]; x += (c & 0x7f) * m; m *= 128; } while (c & 0x80 && i < b.length); return [x, i]; };
  const fields = (b) => { const out = {}; let i = 0;
    while (i < b.length) { let tag, v; [tag, i] = varint(b, i); const wire = tag % 8, num = Math.floor(tag / 8);
      if (wire === 0) { [v, i] = varint(b, i); out[num] = v; }
      else if (wire === 2) { [v, i] = varint(b, i); out[num] = b.subarray(i, i + v); i += v; }
      else if (wire === 1) i += 8; else if (wire === 5) i += 4; else break; }
    return out; };
  const Native = window.WebSocket;
  function Timed(...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (ev) => {
      const t = performance.now();
      if (!(ev.data instanceof ArrayBuffer)) return;
      const f = fields(new Uint8Array(ev.data));
      s.frames.push({t, bytes: ev.data.byteLength, finished: 6 in f ? f[6] : null,
                     running: 9 in f ? !!fields(f[9])[2] : null});
    });
    return ws;
  }
  Timed.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Timed[k] = Native[k];
  window.WebSocket = Timed;
  const watch = () => new MutationObserver(() => {
    requestAnimationFrame(() => { s.lastChange = performance.now(); });  // the frame that shows the change
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  if (document.body) watch(); else document.addEventListener('DOMContentLoaded', watch);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') s.key = performance.now(); }, true);
  s.busy = [];  // the browser's main thread busy for 50 ms or more at a time (parsing, compiling and drawing charts)
  try { new PerformanceObserver((list) => { for (const e of list.getEntries()) s.busy.push([e.startTime, e.duration]); })
          .observe({type: 'longtask', buffered: true}); } catch (e) { s.busy = null; }
})();
"""

# Idle, every visible chart drawn, no "Computing" note, and nothing changed for QUIET_MS: returns the time of
# the last change, else false.
_DONE_JS = """
([since, quiet]) => {
  const s = window.__sp, now = performance.now();
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning' || app.dataset.testConnectionState !== 'CONNECTED') return false;
  if (document.querySelector('[data-testid="stSkeleton"]') || document.querySelector('[data-stale="true"]')) return false;
  if (Array.from(document.querySelectorAll('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]'))
        .some((el) => el.innerText.trim().startsWith('Computing'))) return false;
  const frames = s.frames.filter((f) => f.t > since);
  const last = frames[frames.length - 1];
  if (!last || last.running !== false) return false;  // the server has not said "not running" since the key
  const charts = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'));
  if (!charts.length || !charts.every((el) => el.querySelector('canvas, svg.marks'))) return false;
  if (now - Math.max(s.lastChange, last.t) < quiet) return false;
  return {end: Math.max(s.lastChange, last.t), charts: charts.length,
          renderers: charts.map((el) => el.querySelector('canvas') ? 'canvas' : 'svg')};
}
"""


@dataclass
class FirstPage:
    marks: dict[str, float]  # seconds from `streamlit run` to each step, in order

    @property
    def total(self) -> float:
        return list(self.marks.values())[-1]


@dataclass
class Change:
    seed: int
    total_s: float
    answer_s: float  # key -> the server's first message (the browser sent the change, the server started a run)
    first_run_s: float  # key -> first "script finished"
    polling_s: float  # first -> last "script finished"
    render_s: float  # last message -> last drawn change
    busy_s: float  # the browser's main thread in tasks of 50 ms or more between the key and the end
    runs: int  # script runs (full and fragment) the change caused
    kbytes: float  # received over the websocket
    charts: int
    renderers: str


@dataclass
class PageTimes:
    title: str
    changes: list[Change] = field(default_factory=list)
    compute_s: list[float] = field(default_factory=list)  # in-process, per seed
    run_s: list[float] = field(default_factory=list)  # the page's whole script run in-process (AppTest), per seed
    charts_s: list[float] = field(default_factory=list)
    json_s: list[float] = field(default_factory=list)
    spec_kb: list[float] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(c, attr) for c in self.changes)


def _wait_done(page, since: float) -> dict:
    return page.wait_for_function(_DONE_JS, arg=[since, QUIET_MS], polling=50, timeout=TIMEOUT_S * 1000).json_value()


def start_server(log_file, root: Path = REPO) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "CONSISTENCY_FILL_IN"}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
           "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    while not _healthy(url):
        if proc.poll() is not None or time.perf_counter() - t0 > TIMEOUT_S:
            raise RuntimeError("streamlit did not become healthy")
        time.sleep(0.02)
    return proc, url, t0


def measure_browser(changes: int, log, root: Path = REPO) -> tuple[FirstPage, list[PageTimes]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryFile() as server_log, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        proc, url, t0 = start_server(server_log, root)
        try:
            marks = {"server healthy": time.perf_counter() - t0}
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(_INIT_JS)
            page = context.new_page()
            page.goto(url)
            marks["page and its scripts loaded"] = time.perf_counter() - t0
            page.wait_for_function("() => !!document.querySelector('[data-testid=\"stMain\"] h1')", polling=20,
                                   timeout=TIMEOUT_S * 1000)
            marks["Home's heading drawn"] = time.perf_counter() - t0
            page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length > 0",
                                   polling=20, timeout=TIMEOUT_S * 1000)
            marks["its first chart drawn"] = time.perf_counter() - t0
            page.wait_for_function("""([q]) => { const app = document.querySelector('[data-testid="stApp"]');
                return app && app.dataset.testScriptState === 'notRunning' && performance.now() - window.__sp.lastChange > q; }""",
                                   arg=[QUIET_MS], polling=50, timeout=TIMEOUT_S * 1000)
            marks["Home drawn and idle"] = time.perf_counter() - t0 - QUIET_MS / 1000
            first_page = FirstPage(marks)
            log(f"first page (Home) usable {first_page.total:.2f} s after launch: {marks}")
            results = []
            for title, path, reveal, key in PAGES:
                times = PageTimes(title)
                page.goto(f"{url}/{path}?{reveal}&{key.split('_')[0]}_seed={FIRST_SEED}")
                _wait_done(page, 0)  # the warm-up visit
                box = page.locator(f'.st-key-{key} input')
                for i in range(1, changes + 1):
                    seed = FIRST_SEED + i
                    box.fill(str(seed))
                    frames_before = page.evaluate("() => window.__sp.frames.length")
                    box.press("Enter")
                    key_t = page.evaluate("() => window.__sp.key")
                    done = _wait_done(page, key_t)
                    frames = page.evaluate("([n]) => window.__sp.frames.slice(n)", [frames_before])
                    finished = [f["t"] for f in frames if f["finished"] is not None and f["finished"] != 2]
                    last_msg = max(f["t"] for f in frames)
                    busy = page.evaluate("([a, b]) => (window.__sp.busy || []).filter(([t]) => t >= a && t <= b)"
                                         ".reduce((x, [, d]) => x + d, 0)", [key_t, done["end"]])
                    change = Change(seed, (done["end"] - key_t) / 1000, (frames[0]["t"] - key_t) / 1000,
                                    (finished[0] - key_t) / 1000,
                                    (finished[-1] - finished[0]) / 1000, max(0.0, done["end"] - last_msg) / 1000, busy / 1000,
                                    len([f for f in frames if f["finished"] is not None]),
                                    sum(f["bytes"] for f in frames) / 1024, done["charts"],
                                    ",".join(sorted(set(done["renderers"]))))
                    log(f"{title} seed {seed}: {change}")
                    times.changes.append(change)
                results.append(times)
            context.close()
            return first_page, results
        finally:
            browser.close()
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)


# ---------------------------------------------------------------------------- in-process

def serialised(spec: dict) -> bytes:
    """What goes over the wire for a chart, as Streamlit makes it: Arrow IPC for table datasets, JSON for the rest."""
    import pyarrow as pa

    tables = {k: v for k, v in spec.get("datasets", {}).items() if isinstance(v, pa.Table)}
    rest = {**spec, "datasets": {k: v for k, v in spec.get("datasets", {}).items() if k not in tables}}
    out = json.dumps(rest).encode()
    for table in tables.values():
        sink = pa.BufferOutputStream()
        with pa.RecordBatchStreamWriter(sink, table.schema) as writer:
            writer.write_table(table)
        out += sink.getvalue().to_pybytes()
    return out

def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def measure_in_process(results: list[PageTimes], changes: int) -> None:
    """Each page's computation, chart building and serialisation for the same seeds, uncached, in this process."""
    import warnings

    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from cmcore.evaluate import CM_STEPS, TEACHER_STEPS
    from ui import compute, models, multistep
    from viz import charts, trajectories
    from viz.charts import Panel

    sel = models.shipped("ours")
    tcfg = sel.teacher_cfg
    models.teacher(tcfg), models.consistency(sel)

    def page1(seed):
        v = compute.self_consistency.fn(tcfg, 8, seed, 200, "euler", 2, (0.9, 0.7, 0.5, 0.3, 0.1), None)
        return v, lambda: [trajectories.self_consistency_chart(v.xs, v.ts, v.chosen, v.points, v.t_used, v.endpoints,
                                                               v.true_endpoint, size=320, part=part, **kw)
                           for part, kw in (("overview", {}), ("zoom", {"clickable": False}))]

    def page2(seed):
        def numbers():
            v = compute.one_step.fn(tcfg, 1000, seed)
            compute.one_step._values.clear()  # k_step reads one_step's memo: keep it uncached but computed once
            compute.one_step._values[(tcfg, 1000, seed)] = (v, time.monotonic())
            return v, compute.k_step.fn(tcfg, 1000, seed, 5)
        v, vk = numbers()
        panels = [Panel("Real data", v.real, "real"), Panel("ODE, 200 steps", v.true_endpoints, "teacher"),
                  Panel("One Euler step", v.euler_one, "teacher_one"), Panel("x0", v.x0_prediction, "teacher_one"),
                  Panel("ODE, 5 steps", vk.points, "teacher")]
        return (v, vk), lambda: [charts.panel_spec(p, 170, table=True) for p in panels]

    def page4(seed):
        pts = [compute.teacher_points.fn(tcfg, s, 2000, seed) for s in TEACHER_STEPS]
        pts += [compute.cm_points.fn(sel, k, 2000, seed) for k in CM_STEPS]
        real = compute.real_points.fn(tcfg.dataset, 2000, seed)
        paths = compute.jump_paths.fn(sel, 4, 6, seed)
        return (pts, real, paths), lambda: (
            [charts.panel_spec(Panel(str(i), p, "teacher"), 170, table=True) for i, p in enumerate(pts + [real])]
            + [trajectories.multistep_steps_spec(paths.inputs, paths.x0_hats, paths.levels, samples_bg=real, size=185,
                                                 only_step=i, table=True) for i in range(4)])

    _ = multistep
    for times, work in zip(results, (page1, page2, page4)):
        work(FIRST_SEED)  # warm: first calls pay for imports and allocations, as the warm-up visit does
        for i in range(1, changes + 1):
            seed = FIRST_SEED + i
            compute_s, (values, build) = _timed(lambda: work(seed))
            charts_s, specs = _timed(build)
            specs = [s if isinstance(s, dict) else charts.to_spec(s) for s in specs]
            json_s, text = _timed(lambda: [serialised(s) for s in specs])
            times.compute_s.append(compute_s - 0)  # (building is timed apart: `work` only makes the builder)
            times.charts_s.append(charts_s)
            times.json_s.append(json_s)
            times.spec_kb.append(sum(len(t) for t in text) / 1024)


def measure_script_runs(results: list[PageTimes], changes: int) -> None:
    """The page's whole script run for each new seed, in-process (AppTest, numbers computed inside the run)."""
    os.environ["CONSISTENCY_FILL_IN"] = "sync"
    from streamlit.testing.v1 import AppTest

    from ui import streamlit_internals

    cls, name, init = streamlit_internals.navigation_only_init()  # app.py's st.navigation in charge, as on a server
    setattr(cls, name, init)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.run()
    for times, (_, path, reveal, key) in zip(results, PAGES):
        script = next(p for p in (REPO / "pages").glob("*.py") if path.replace("-", "_") in p.stem.replace("-", "_"))
        at.query_params.clear()
        at.query_params.update(dict(kv.split("=") for kv in reveal.split("&")))
        at.switch_page(str(script.relative_to(REPO)))
        at.run()
        for i in range(1, changes + 1):
            next(w for w in at.number_input if w.key == key).set_value(FIRST_SEED + 1000 + i)  # seeds not yet computed
            run_s, _ = _timed(at.run)
            if at.exception:
                raise RuntimeError(f"{script.name}: {at.exception[0].value}")
            times.run_s.append(run_s)


# ---------------------------------------------------------------------------- report

def import_costs() -> dict[str, float]:
    """Seconds to import each library the first page needs, each in a fresh interpreter (so none is counted twice
    only where two share a dependency: torch and scipy both bring numpy)."""
    out = {}
    for name in IMPORTS:
        code = f"import time; t = time.perf_counter(); import {name}; print(time.perf_counter() - t)"
        out[name] = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                         cwd=REPO).stdout)
    return out


def report(first_page: FirstPage, results: list[PageTimes], load_before: str, load_after: str, command: str,
           before: tuple[str, FirstPage, list[PageTimes]] | None = None,
           imports: dict[str, float] | None = None) -> str:
    med = statistics.median
    lines = ["## Speed as one student feels it: a new noise seed on pages 1, 2 and 4 (issue 18)", "",
             f"Written by `{command}`. Figures only; no test asserts on time.", "",
             f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs. Load average "
             f"(1/5/15 min) before: {load_before}, after: {load_after}; other work on the machine inflates every "
             "figure (a quiet machine gives lower ones: rerun the command).", "",
             "### Targets", "",
             "| what | target | measured | ratio | verdict |", "|---|---|---|---|---|",
             f"| first page (Home drawn and idle) after `streamlit run` | <= {FIRST_PAGE_TARGET_S:.0f} s | "
             f"{first_page.total:.2f} s | {first_page.total / FIRST_PAGE_TARGET_S:.2f}x of target | "
             f"{'meets' if first_page.total <= FIRST_PAGE_TARGET_S else 'MISSES'} |"]
    for p in results:
        total, comp = p.median("total_s"), med(p.compute_s)
        ratio = total / comp
        ok = ratio <= TARGET_RATIO and total <= TARGET_S
        lines.append(f"| {p.title}: new seed to numbers drawn (median of {len(p.changes)}) | <= {TARGET_S} s and <= "
                     f"{TARGET_RATIO}x its computation | {total:.2f} s (computation {comp:.2f} s) | {ratio:.2f}x | "
                     f"{'meets' if ok else 'MISSES'} |")
    if before is not None:
        rev, first_before, pages_before = before
        lines += ["", f"### Before and now, measured in the same run (before: `{rev}`, the same script against that "
                      "commit's app, just before)", "",
                  "| page | key to drawn, before | now | ratio to its computation, before | now | script runs, before | now "
                  "| browser busy, before | now |", "|---|---|---|---|---|---|---|---|---|",
                  f"| first page after `streamlit run` | {first_before.total:.2f} s | {first_page.total:.2f} s | | | | | | |"]
        for p, b in zip(results, pages_before):
            comp = med(p.compute_s)
            lines.append(f"| {p.title} | {b.median('total_s'):.2f} s | {p.median('total_s'):.2f} s | "
                         f"{b.median('total_s') / comp:.2f}x | {p.median('total_s') / comp:.2f}x | {b.median('runs'):.0f} | "
                         f"{p.median('runs'):.0f} | {b.median('busy_s'):.2f} s | {p.median('busy_s'):.2f} s |")
    lines += ["", "### The first page, step by step", "",
              "Seconds from `streamlit run` (the server's start-up and the first session's script run, in which the "
              "app imports its libraries once per process) to each step in the browser:", "",
              "| step | after launch | since the step before |", "|---|---|---|"]
    last = 0.0
    for step, at in first_page.marks.items():
        lines.append(f"| {step} | {at:.2f} s | {at - last:.2f} s |")
        last = at
    if imports:
        lines += ["", "Importing what that first script run needs, each library alone in a fresh interpreter: "
                  + ", ".join(f"{name} {sec:.2f} s" for name, sec in imports.items())
                  + f" ({sum(imports.values()):.2f} s together, counting what they share more than once)."]
    lines += ["", "### Where the time goes (medians per page)", "",
              "Browser columns from one Chromium session (see the script's docstring); in-process columns from the "
              "same seeds computed again in the bench's own process after the browser part.", "",
              "| page | key to drawn | first script run | fill-in polling | browser render | browser busy | runs | received | "
              "script run (in-process) | computation (in-process) | chart building | serialising specs | charts (renderer) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in results:
        lines.append(f"| {p.title} | **{p.median('total_s'):.2f} s** | {p.median('first_run_s'):.2f} s | "
                     f"{p.median('polling_s'):.2f} s | {p.median('render_s'):.2f} s | {p.median('busy_s'):.2f} s | "
                     f"{p.median('runs'):.0f} | "
                     f"{p.median('kbytes'):.0f} kB | {med(p.run_s):.2f} s | {med(p.compute_s):.2f} s | {med(p.charts_s):.3f} s | "
                     f"{med(p.json_s):.3f} s ({med(p.spec_kb):.0f} kB) | {p.changes[0].charts} "
                     f"({p.changes[0].renderers}) |")
    lines += ["", "### Every change", "", "| page | seed | key to drawn | first run | polling | render | busy | runs | received |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in results:
        for c in p.changes:
            lines.append(f"| {p.title} | {c.seed} | {c.total_s:.2f} s | {c.first_run_s:.2f} s | {c.polling_s:.2f} s | "
                         f"{c.render_s:.2f} s | {c.busy_s:.2f} s | {c.runs} | {c.kbytes:.0f} kB |")
    return "\n".join(lines) + "\n"


def write_section(out: Path, text: str) -> None:
    """Replace this script's section of ``out`` (between its markers), or add it at the end."""
    old = out.read_text() if out.exists() else ""
    section = f"{BEGIN}\n{text}{END}\n"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        new = head + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + section
    out.write_text(new)


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=5, help="new seeds typed per page")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--against", metavar="REV", help="first measure the app as it was at this git revision (exported "
                    "to a temporary folder with `git archive`), for a before/after table under the same load")
    args = ap.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    os.chdir(REPO)
    load_before = _load()
    before = None
    if args.against:
        with tempfile.TemporaryDirectory() as old:
            archive = subprocess.run(["git", "archive", args.against], cwd=REPO, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
            log(f"measuring {args.against} in {old}")
            first_old, pages_old = measure_browser(args.changes, log, Path(old))
        rev = subprocess.run(["git", "rev-parse", "--short", args.against], cwd=REPO, capture_output=True, text=True)
        before = (rev.stdout.strip() or args.against, first_old, pages_old)
    first_page, results = measure_browser(args.changes, log)
    measure_in_process(results, args.changes)
    measure_script_runs(results, args.changes)
    command = ("python bench/ui_speed.py" + (f" --changes {args.changes}" if args.changes != 5 else "")
               + (f" --against {args.against}" if args.against else ""))
    text = report(first_page, results, load_before, _load(), command, before, import_costs())
    write_section(args.out, text)
    print(text)
    return text


if __name__ == "__main__":
    main()
