"""The server's memory upkeep: one trimming thread per process, and glibc's malloc_trim really called."""
import threading
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from ui import upkeep

APP = str(Path(__file__).resolve().parent.parent / "app.py")


FREED_BLOCKS, BLOCK_BYTES = 16384, 4096  # 64 MiB in heap-sized blocks (below glibc's 128 KiB mmap threshold)
TRIM_CHECK = f"""
import ctypes, os
from ui import upkeep
trim = upkeep._libc_trim()
assert trim is not None, "no malloc_trim: the development and CI machines are Debian (glibc)"
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
page = os.sysconf("SC_PAGE_SIZE")
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * page
blocks = [libc.malloc({BLOCK_BYTES}) for _ in range({FREED_BLOCKS})]
for b in blocks:
    ctypes.memset(b, 1, {BLOCK_BYTES})  # touched: resident
pin = libc.malloc(64)  # above them on the heap: free() alone cannot shrink the heap past it
for b in blocks:
    libc.free(b)
before = rss()
released = trim(0)
print(released, before - rss())
"""


def test_malloc_trim_hands_freed_heap_memory_back_to_the_system():
    """What the trimming thread is for: memory freed below a live block stays resident until malloc_trim.

    Run in a fresh interpreter with one thread, so the heap holds only what this check put there.
    """
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", TRIM_CHECK], cwd=Path(APP).parent, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    released, returned = map(int, out.stdout.split())
    assert released == 1  # glibc: 1 when memory was given back
    assert returned >= FREED_BLOCKS * BLOCK_BYTES // 2, f"only {returned / 2**20:.1f} MiB of 64 MiB left the process"


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
