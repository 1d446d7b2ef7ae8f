"""The server's memory upkeep: one trimming thread per process, and glibc's malloc_trim really called."""
import threading
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from ui import upkeep

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_malloc_trim_is_found_and_runs_on_this_glibc_machine():
    trim = upkeep._libc_trim()
    assert trim is not None  # the development and CI machines are Debian (glibc)
    assert trim(0) in (0, 1)  # 1: memory was released, 0: there was nothing to release


def test_the_app_starts_one_trimming_thread_however_often_it_runs():
    st.cache_resource.clear()  # as other tests and a redeploy do: must not start a second thread
    for _ in range(2):  # two sessions, two runs each
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.run()
        assert not at.exception
    trimmers = [t for t in threading.enumerate() if t.name == "malloc-trim"]
    assert len(trimmers) == 1 and trimmers[0].daemon and trimmers[0].is_alive()



def test_preload_imports_the_page_libraries_once_in_a_thread_of_its_own():
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import os, sys
        from ui import upkeep
        assert not any(name in sys.modules for name in upkeep.PRELOAD), "imported before preload"
        first = upkeep.preload()
        assert upkeep.preload() is first  # once per process
        first.join(120)
        assert all(name in sys.modules for name in upkeep.PRELOAD)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(APP).parent, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]


def test_the_app_preloads_after_its_first_run():
    AppTest.from_file(APP, default_timeout=120).run()
    assert upkeep._preloaded is not None and upkeep._preloaded.name == "preload"
