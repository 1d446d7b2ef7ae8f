"""The server process's upkeep: memory handed back, the interpreter lock shared fairly.

Every script run happens in a thread of its own, and glibc's allocator keeps what those threads
freed in per-thread arenas instead of returning it, so the server's resident memory stays higher
than what it holds.  ``start`` runs one daemon thread per server process that, every
``TRIM_EVERY_S`` seconds, drops the per-seed numbers nobody asked for lately (``ui.shared``) and
calls glibc's ``malloc_trim(0)``, which hands free pages of every arena back (a few milliseconds).
Measured (bench/LOAD.md): 12 sessions left 508 MiB instead of 579 MiB 40 s after leaving, peak
686 MiB instead of 917 MiB.  Where glibc is absent (macOS, musl) there is no trimming.  ``start``
also shortens the interpreter lock's switch interval.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

from ui import shared

TRIM_EVERY_S = 15.0
# How long a thread may hold the interpreter lock while another waits for it (Python's default: 5 ms).  The
# worker threads (ui/shared.py) let go of the lock for every small torch call and must take it back after:
# with script runs busy, each take-back waited up to 5 ms, and an ODE solve of a few hundred calls took
# seconds instead of a fraction of one.  1 ms cuts that wait fivefold for a little more switching.
SWITCH_INTERVAL_S = 0.001


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
    """Once per process: the lock's switch interval and the trimming thread; returns the event
    that stops the trimming (None without glibc)."""
    global _stop, _started
    with _lock:
        if not _started:
            _started = True
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            trim = _libc_trim()
            if trim is not None:
                _stop = threading.Event()
                threading.Thread(target=_loop, args=(trim, _stop), name="malloc-trim", daemon=True).start()
        return _stop
