"""The slow paths issue 6 measured, measured again: server time of one script run, cold caches.

    python bench/slow_paths.py [--out bench/UI_BENCHMARKS.md]

Each path runs the real app in-process (``streamlit.testing.v1.AppTest``) in a fresh Python process, so
every cache is cold, as for the first person who asks.  The time is the wall time of the script run
that draws the result (what a person waits for; the page shows a spinner saying what it computes
meanwhile, and everything above the spinner is already drawn).  Rewrites the section between the
markers in the output file; figures only, nothing asserted.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- slow paths: begin -->", "<!-- slow paths: end -->"

# name -> (what issue 6 measured on main at b1adc54, Python run in a fresh process that prints its seconds)
SETUP = (
    "import os, sys, time, dataclasses; sys.path.insert(0, %r)\n"
    "os.environ['CONSISTENCY_FILL_IN'] = 'sync'  # numbers computed inside the timed run (ui/later.py)\n"
    "from streamlit.testing.v1 import AppTest\n"
    "from ui import streamlit_internals\n"
    "_cls, _name, _init = streamlit_internals.navigation_only_init(); setattr(_cls, _name, _init)\n"
    "def timed(page, query):\n"
    "    at = AppTest.from_file(%r, default_timeout=600); at.run()\n"
    "    at.query_params.update(query); at.switch_page(page)\n"
    "    t = time.perf_counter(); at.run(); dt = time.perf_counter() - t\n"
    "    assert not at.exception, [e.value for e in at.exception]\n"
    "    return dt\n"
) % (str(REPO), str(REPO / "app.py"))
# A finished retrain as page 3's job leaves it: trained, then scored by the job itself in the background
# (``ui.runs._job_fn``), so the page that shows it first reads the numbers.
RETRAINED = (
    "from cmcore import evaluate, zoo; from cmcore.train import train_consistency; from ui import runs\n"
    "cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=300, seed=99)\n"
    "res = train_consistency(cfg, zoo.load_teacher(zoo.DEFAULT.teacher).model)\n"
    "scores = tuple((k, evaluate.cm_score(res.model, 'two_moons', k)) for k in evaluate.CM_STEPS)\n"
    "mid = runs.model_id('ours', cfg)\n"
    "runs.store().put(runs.RunModel(mid, 'ours', cfg, res.model, cfg.steps, res.seconds, scores))\n"
)
PATHS = {
    "Home after a retrain (a new model's W2 table)": (14.6, RETRAINED + "print(timed('pages/home.py', {'model': mid}))"),
    "Page 4 at 2,000 points, shipped model (defaults)": (5.1, "print(timed('pages/4_multistep.py', {'ms_show': '1'}))"),
    "Page 4 at 2,000 points, a new seed": (6.4, "print(timed('pages/4_multistep.py', {'ms_show': '1', 'ms_seed': '7'}))"),
    "Page 2, a new noise seed": (2.9, "print(timed('pages/2_one-step-ode.py', {'os_show': '1', 'os_seed': '7'}))"),
    "Page 3 after a retrain (four panels and their W2)": (None, RETRAINED + "print(timed('pages/3_distillation.py', {'model': mid, 'cd_show': '1'}))"),
}


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0] + " (1 min)"
    except OSError:
        return "unknown"


def measure(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", SETUP + code], cwd=REPO, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "bench" / "UI_BENCHMARKS.md"))
    args = ap.parse_args(argv)
    rows = []
    for name, (before, code) in PATHS.items():
        seconds = measure(code)
        ratio = f"{seconds / before:.2f}x" if before else "—"
        rows.append(f"| {name} | {'—' if before is None else f'{before:.1f} s'} | {seconds:.1f} s | {ratio} |")
        print(rows[-1], flush=True)
    section = "\n".join([
        BEGIN, "## Slow paths (issue 6), measured again", "",
        f"Written by `python bench/slow_paths.py` ({platform.machine()}, cold caches, one fresh process per path). "
        "Server time of the script run that draws the result; the page shows a spinner naming the computation "
        "while it runs, and everything above it is already drawn. A retrained model is scored by its own training "
        f"job as it finishes (in the background), as in the app. Load average when written: {_load()}.", "",
        "| path | issue 6 (b1adc54) | now | now / then |", "|---|---|---|---|", *rows, END])
    out = Path(args.out)
    text = out.read_text() if out.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    out.write_text(text)
    return json.dumps(rows)


if __name__ == "__main__":
    main()
