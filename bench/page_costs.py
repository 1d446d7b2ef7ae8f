"""Server time of one script run per page and per widget a browsing user moves (bench/load.py's MOVES), one user, warm.

    python bench/page_costs.py

Runs the real app in-process (AppTest): opens each page (results shown), reruns it, then sets each
moved widget to two new values (as a person would) and prints the wall time of each run, with the
page's numbers computed inside the run (on a server they are computed beside it and filled in).  Figures only,
nothing asserted; the load test (bench/load.py) shows what these cost when thirty sessions share a server.
"""
import os
import sys
import time
from pathlib import Path

os.environ["CONSISTENCY_FILL_IN"] = "sync"  # the cost of computing a page's numbers, inside the run (ui/later.py)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from streamlit.testing.v1 import AppTest
from ui import streamlit_internals
_cls, _name, _init = streamlit_internals.navigation_only_init()  # app.py's st.navigation in charge, as on a warm server
setattr(_cls, _name, _init)
CASES = [("pages/1_self-consistency.py", "sc", {"sc_seed": [5, 6], "sc_n_traj": [4, 12], "sc_steps": [150, 333]}),
         ("pages/2_one-step-ode.py", "os", {"os_seed": [5, 6], "os_k": [7, 31]}),
         ("pages/4_multistep.py", "ms", {"ms_seed": [5, 6], "ms_paths": [3, 15]}),
         ("pages/home.py", None, {}), ("pages/3_distillation.py", "cd", {})]
at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600); at.run()
for page, pre, moves in CASES:
    q = {f"{pre}_show": "1"} if pre else {}
    at.query_params.clear(); at.query_params.update(q); at.switch_page(page)
    t = time.perf_counter(); at.run(); print(page, "open", round(time.perf_counter() - t, 2), flush=True)
    t = time.perf_counter(); at.run(); print(page, "rerun", round(time.perf_counter() - t, 2), flush=True)
    for key, vals in moves.items():
        for v in vals:  # moved as a person moves it: the widget's new value, then the page's run
            widget = next(w for kind in ("number_input", "slider", "select_slider") for w in getattr(at, kind)
                          if w.key == key)
            widget.set_value(v)
            t = time.perf_counter(); at.run(); print(page, key, v, round(time.perf_counter() - t, 2), [e.value for e in at.exception][:1], flush=True)
