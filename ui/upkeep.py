"""Give freed memory back to the operating system while the server runs.

Every script run happens in a thread of its own, and glibc's allocator keeps what those threads
freed in per-thread arenas instead of returning it, so the server's resident memory stays higher
than what it holds.  ``start`` runs one daemon thread per server process that, every
``TRIM_EVERY_S`` seconds, drops the per-seed numbers nobody asked for lately (``ui.shared``) and
calls glibc's ``malloc_trim(0)``, which hands free pages of every arena back (a few milliseconds).
Measured (bench/LOAD.md): 12 sessions left 508 MiB instead of 579 MiB 40 s after leaving, peak
686 MiB instead of 917 MiB.  Where glibc is absent (macOS, musl) there is no trimming.

``preload`` imports, once per process and in a thread of its own, the libraries that only some pages
use (scikit-learn's datasets, POT): ~100 MiB and ~1 s of interpreter time that the first student to
open such a page would otherwise wait for, and that would otherwise count as the class's memory.
app.py calls it after its first page is drawn, so the first visitor does not wait for it either.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import threading

from ui import shared

TRIM_EVERY_S = 15.0
PRELOAD = ("sklearn.datasets", "ot")  # imported on first use by cmcore (datasets, metrics, ot_coupling)


def _libc_trim():
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def _loop(trim, stop: threading.Event) -> None:
    while not stop.wait(TRIM_EVERY_S):
        shared.expire_all()  # per-seed numbers nobody asked for lately, then their pages go back
        trim(0)


_lock = threading.Lock()
_started = False
_stop: threading.Event | None = None  # set once per process (a module global: clearing Streamlit's caches must not start another)


def start() -> threading.Event | None:
    """Start the trimming thread once per process; returns the event that stops it (None without glibc)."""
    global _stop, _started
    with _lock:
        if not _started:
            _started = True
            trim = _libc_trim()
            if trim is not None:
                _stop = threading.Event()
                threading.Thread(target=_loop, args=(trim, _stop), name="malloc-trim", daemon=True).start()
        return _stop


_preloaded: threading.Thread | None = None


def preload() -> threading.Thread:
    """Start importing ``PRELOAD`` once per process (at nice +4, like the pool); returns that thread."""
    global _preloaded
    with _lock:
        if _preloaded is None:
            _preloaded = threading.Thread(target=_import_all, name="preload", daemon=True)
            _preloaded.start()
        return _preloaded


def _import_all() -> None:
    shared.lower_priority(shared.WORKER_NICE)
    for name in PRELOAD:
        importlib.import_module(name)
