"""bench/load.py against a real server: its simulated users browse, retrain and leave without an error.

The load script itself starts ``streamlit run app.py`` (``--start``) and speaks Streamlit's websocket
protocol; every wait in it is on a message from the server (a run's script-finished, the retrain's
finished page), never a fixed sleep (``--think 0``, ``--ramp 0``, ``--settle 0``).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_two_sessions_one_small_retrain(tmp_path):
    out = tmp_path / "load.json"
    cmd = [sys.executable, "bench/load.py", "--start", "--sessions", "2", "--retrainers", "1", "--cd-steps", "50",
           "--pages", "home", "self-consistency", "one-step-ode", "--actions", "1", "--think", "0", "--ramp", "0",
           "--warmup", "0", "--settle", "0", "--timeout", "600", "--retrain-timeout", "900", "--json", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)  # guards only: a loaded CI machine is slow
    assert out.exists(), f"bench/load.py wrote no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    r = json.loads(out.read_text())
    assert r["errors"] == 0, f"errors: {r['error_samples']}"
    assert r["sessions"]["served"] == r["sessions"]["planned"] == 2
    assert r["retrains"] == {**r["retrains"], "asked": 1, "finished": 1}
    browse = next(u for u in r["users"] if u["role"] == "browse")
    # every page after the first was opened, and each page with widgets had one moved and answered
    assert len(browse["page_s"]) == 2 and len(browse["interaction_s"]) == 2
    assert r["interaction_s"]["n"] == 2 and r["memory_mb"]["peak_mb"] > 0
    # every change was answered by a run that drew its numbers (ui/later.py's worker pool, waited for in the run)
    assert len(browse["waited"]) == 2 and r["changes_that_waited"]["n"] == 2
    assert proc.returncode == 0
