"""bench/load.py against a real server: its simulated users browse, retrain and leave without an error.

The load script itself starts ``streamlit run app.py`` (``--start``) and speaks Streamlit's websocket
protocol; every wait in it is on a message from the server (a run's script-finished, the retrain's
finished page), never a fixed sleep (``--think 0``, ``--ramp 0``, ``--settle 0``).

The server's worker pool holds every job for ``HOLD_S`` first (``CONSISTENCY_POOL_HOLD_S``), longer than
``ui/later.py``'s grace, so every page and every change takes the path a busy server takes: the run ends
with the waiting note and fragment runs fill the numbers in.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOLD_S = 1.0


def test_two_sessions_one_small_retrain(tmp_path):
    out = tmp_path / "load.json"
    cmd = [sys.executable, "bench/load.py", "--start", "--sessions", "2", "--retrainers", "1", "--cd-steps", "50",
           "--pages", "home", "self-consistency", "one-step-ode", "multistep", "--actions", "1", "--think", "0", "--ramp", "0",
           "--warmup", "0", "--settle", "0", "--timeout", "600", "--retrain-timeout", "900", "--json", str(out)]
    env = dict(os.environ, CONSISTENCY_POOL_HOLD_S=str(HOLD_S))
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800, env=env)  # guards only: a loaded CI machine is slow
    assert out.exists(), f"bench/load.py wrote no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    r = json.loads(out.read_text())
    assert r["errors"] == 0, f"errors: {r['error_samples']}"
    assert r["sessions"]["served"] == r["sessions"]["planned"] == 2
    assert r["retrains"] == {**r["retrains"], "asked": 1, "finished": 1}
    browse = next(u for u in r["users"] if u["role"] == "browse")
    # every page after the first was opened, and each page with widgets had one moved and answered
    assert len(browse["page_s"]) == 3 and len(browse["interaction_s"]) == 3
    assert r["interaction_s"]["n"] == 3 and r["memory_mb"]["peak_mb"] > 0
    # every change's run ended with the waiting note (the numbers were held back), and fragment runs then drew
    # the numbers: not before the hold was over, never before the run that asked for them had finished
    assert browse["waited"] == [True] * 3 and r["changes_that_waited"] == {"n": 3, "waited": 3}
    assert all(f >= max(i, HOLD_S) for f, i in zip(browse["filled_s"], browse["interaction_s"]))
    assert len(browse["filled_s"]) == 3 and len(browse["page_filled_s"]) == 4
    assert min(browse["page_filled_s"][1:]) >= HOLD_S  # every exercise page waited for its numbers too
    # (page 4 has two parts that fill in, and Streamlit may fold their timers' ticks into one fragment run)
    # every filled-in part stopped its own timer (ui/later.py's stop_auto_rerun), so nothing polls on
    assert browse["timers_left"] == 0 and browse["fragment_runs"] >= 2
    assert proc.returncode == 0
