"""The engine's one thread policy: side work (studies, lab runs, page inference) runs on one torch thread.

Why one (measured, not assumed): these MLPs are tiny (128 wide, batches of 512), so a second
intra-op thread has little to split and, on a machine where other work runs, it waits for a
core that is busy.  ``python bench/one_thread.py`` times teacher training steps of the shipped
recipe with one thread and with torch's default count, alternating, and prints the medians.
On this project's shared 2-core machine (load average about 11 from other work), 150 steps took
1.43 s with one thread and 46.1 s with two (32x slower).  The thread count changes the weights
only by float rounding (see ``cmcore.train``'s docstring), and a config records the count it
ran with.  ``intra_op_threads`` is how a block gets a count without leaking it to the thread's
later work (torch's count is per thread in this build).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

ONE_THREAD = 1  # every study, lab run and page evaluation: see the module docstring for the measurement


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads in this thread, then restore this thread's count.

    ``get_num_threads`` first: it runs torch's lazy per-thread set-up now, which would
    otherwise re-read the process default (shared with other threads) at the first op.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def use_one_thread() -> None:
    """This thread computes with ``ONE_THREAD`` from now on (a cached page function, a CLI command)."""
    torch.get_num_threads()  # initialise this thread first (see intra_op_threads)
    torch.set_num_threads(ONE_THREAD)
