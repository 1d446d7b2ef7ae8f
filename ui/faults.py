"""Load tests only: one pooled computation that fails on purpose, so a fault under load can be watched.

``bench/load.py --faults`` starts the server with ``CONSISTENCY_FAULT_SEED`` set; page 1's trajectories for that
noise seed then raise ``InjectedFault`` in the worker pool.  Unset (always, outside that script) nothing happens.
"""
from __future__ import annotations

import os

FAULT_SEED_ENV = "CONSISTENCY_FAULT_SEED"


class InjectedFault(RuntimeError):
    """The failure a load test asked for (never raised unless ``CONSISTENCY_FAULT_SEED`` is set)."""


def check(seed: int) -> None:
    """Raise ``InjectedFault`` when ``seed`` is the noise seed the load test named."""
    fault = os.environ.get(FAULT_SEED_ENV)
    if fault and seed == int(fault):
        raise InjectedFault(f"injected fault for noise seed {seed} ({FAULT_SEED_ENV} is set by a load test)")
