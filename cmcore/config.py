"""Frozen, typed configs: the one home of every default.

Every config is a frozen dataclass, so it is hashable and can key a cache
(Streamlit's ``st.cache_resource`` or a checkpoint file name).  Each field
carries a one-line reason.  ``validate()`` checks a config at the boundary and
raises ``ValueError`` naming the field and the allowed range.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, TypeVar

# Boundary of the consistency function: f(x, SIGMA_MIN) = x (lesson: 0.002).
SIGMA_MIN = 0.002
# Pure noise level of the flow x_t = (1 - t) x0 + t eps.
SIGMA_MAX = 1.0

DEFAULT_DATASET = "two_moons"  # the lesson's dataset: every default that names a dataset reads this
LR_SCHEDULES = ("constant", "onecycle")
MODES = ("distillation", "training")
SCHEDULES = ("uniform", "karras")
SOLVERS = ("euler", "heun")
LOSSES = ("l2", "pseudo_huber")

# Ranges accepted at the boundary: (low, high) inclusive.
RANGES: dict[str, tuple[float, float]] = {
    "hidden": (8, 1024),
    "steps": (1, 200_000),
    "batch": (8, 8192),
    "lr": (1e-6, 1e-1),
    "ema": (0.0, 0.99999),
    "seed": (0, 2**31 - 1),
    "threads": (1, 64),
    "n_levels": (2, 1000),
    "rho": (1.0, 20.0),
    "ema_mu": (0.0, 0.99999),
    "huber_c": (1e-5, 1.0),
}

C = TypeVar("C")


def _check_range(cfg: Any, name: str) -> None:
    lo, hi = RANGES[name]
    value = getattr(cfg, name)
    want = next(f.type for f in dataclasses.fields(cfg) if f.name == name)
    if want in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{type(cfg).__name__}.{name}={value!r} must be a whole number.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{type(cfg).__name__}.{name}={value!r} must be a number.")
    if not (lo <= value <= hi):
        raise ValueError(f"{type(cfg).__name__}.{name}={value!r} is out of range; use a value in [{lo}, {hi}].")


def check_choice(cfg: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(cfg, name)
    if value not in choices:
        raise ValueError(f"{type(cfg).__name__}.{name}={value!r} is unknown; choose one of {', '.join(choices)}.")


@dataclass(frozen=True)
class TeacherConfig:
    """Flow-matching teacher v_theta(x_t, t) trained on a 2D dataset."""

    dataset: str = DEFAULT_DATASET  # which registry entry (cmcore.datasets.REGISTRY) the teacher learns
    hidden: int = 128  # width of the lesson's MLP
    steps: int = 4000  # optimiser steps (lesson: 500, too few for clean samples)
    batch: int = 512  # points per step (lesson: 512)
    lr: float = 5e-3  # peak learning rate (lesson: 3e-4 constant, which under-trains)
    lr_schedule: str = "onecycle"  # warm-up then anneal: converges in fewer steps
    ema: float = 0.995  # EMA of weights used for sampling (0 = off); averages out SGD noise
    seed: int = 0  # one seed for init, data and noise: same config -> same weights
    threads: int = 2  # torch intra-op threads (set explicitly; results depend on it)

    def validate(self) -> "TeacherConfig":
        from .datasets import REGISTRY, is_known  # the one list of names; a registered upload is a dataset too

        if not (isinstance(self.dataset, str) and is_known(self.dataset)):
            raise ValueError(f"TeacherConfig.dataset={self.dataset!r} is unknown; choose one of {', '.join(REGISTRY)} "
                             "or an upload this server holds.")
        check_choice(self, "lr_schedule", LR_SCHEDULES)
        for name in ("hidden", "steps", "batch", "lr", "ema", "seed", "threads"):
            _check_range(self, name)
        return self


@dataclass(frozen=True)
class ConsistencyConfig:
    """Consistency model f_theta(x_t, t) = c_skip(t) x_t + c_out(t) F_theta(x_t, t)."""

    mode: str = "distillation"  # distillation (teacher ODE step) or training (no teacher)
    n_levels: int = 12  # N discrete levels t_1 < ... < t_N (lesson: 20)
    schedule: str = "uniform"  # spacing of the levels (lesson: uniform)
    rho: float = 7.0  # Karras schedule exponent (only for schedule="karras")
    sigma_min: float = SIGMA_MIN  # t_1: the boundary level
    sigma_max: float = SIGMA_MAX  # t_N: pure noise
    ema_mu: float = 0.95  # target network theta^- <- mu theta^- + (1-mu) theta (lesson: 0.999)
    lr: float = 5e-3  # peak learning rate (lesson: 3e-4 constant)
    lr_schedule: str = "onecycle"  # warm-up then anneal
    steps: int = 1200  # optimiser steps (lesson: 1000)
    batch: int = 512  # points per step
    teacher_solver: str = "heun"  # ODE step the teacher takes from t_{n+1} to t_n
    loss: str = "pseudo_huber"  # distance d(f_theta, f_theta^-) (lesson: l2)
    huber_c: float = 0.03  # pseudo-Huber constant c (only for loss="pseudo_huber")
    init_from_teacher: bool = True  # start F = x - t v_teacher, so f starts as one Euler jump
    seed: int = 0  # one seed for init, data and noise
    threads: int = 2  # torch intra-op threads

    def validate(self) -> "ConsistencyConfig":
        check_choice(self, "mode", MODES)
        check_choice(self, "schedule", SCHEDULES)
        check_choice(self, "lr_schedule", LR_SCHEDULES)
        check_choice(self, "teacher_solver", SOLVERS)
        check_choice(self, "loss", LOSSES)
        for name in ("n_levels", "rho", "ema_mu", "lr", "steps", "batch", "huber_c", "seed", "threads"):
            _check_range(self, name)
        if not (0 < self.sigma_min < self.sigma_max <= 1.0):
            raise ValueError(
                f"ConsistencyConfig needs 0 < sigma_min < sigma_max <= 1; got sigma_min={self.sigma_min}, "
                f"sigma_max={self.sigma_max}."
            )
        if self.mode == "training" and self.init_from_teacher:
            raise ValueError("ConsistencyConfig: mode='training' has no teacher to start from; set init_from_teacher=False.")
        return self


# The lesson's recipe, for side-by-side comparison (bench, Home page claims).
LESSON_TEACHER = TeacherConfig(steps=500, batch=512, lr=3e-4, lr_schedule="constant", ema=0.0, seed=42)
LESSON_CONSISTENCY = ConsistencyConfig(
    n_levels=20,
    ema_mu=0.999,
    lr=3e-4,
    lr_schedule="constant",
    steps=1000,
    batch=512,
    teacher_solver="euler",
    loss="l2",
    init_from_teacher=False,
    seed=42,
)


@dataclass(frozen=True)
class HostLimits:
    """What one server lets a class train, set by its host through environment variables (``ENV`` names them).

    The defaults fit the 2-core server the app is tuned for: the largest run (20,000 steps at batch 4,096) finished
    in 11.7 minutes on the quiet development machine, about one of them paused for shorter runs (``bench/LOAD.md``,
    ``--long-run``), inside one run's time.
    """

    max_steps: int = 20_000  # optimiser steps per run
    max_batch: int = 4096  # points per step
    max_run_minutes: float = 20.0  # a run estimated to train longer on this server is refused
    session_minutes: float = 30.0  # training a session may start per rolling hour (joining costs nothing; 60+: none)
    trainers: int = 1  # runs training at once: one per 2 cores (each uses 2 torch threads)

    ENV = {"max_steps": "CMCORE_MAX_STEPS", "max_batch": "CMCORE_MAX_BATCH",
           "max_run_minutes": "CMCORE_MAX_RUN_MINUTES", "session_minutes": "CMCORE_SESSION_MINUTES",
           "trainers": "CMCORE_TRAINERS"}

    def validate(self) -> "HostLimits":
        checks = {"max_steps": RANGES["steps"], "max_batch": RANGES["batch"], "max_run_minutes": (0.1, 24 * 60),
                  "session_minutes": (0.1, 24 * 60), "trainers": (1, 64)}
        for name, (lo, hi) in checks.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"{self.ENV[name]}={value} is out of range; use a value in [{lo}, {hi}].")
        return self

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> "HostLimits":
        """The limits a host set in ``environ`` (``os.environ``), defaults for the rest; ValueError names a bad one."""
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(cls.ENV[f.name], "").strip()
            if raw:
                try:
                    values[f.name] = int(raw) if f.type in ("int", int) else float(raw)
                except ValueError:
                    raise ValueError(f"{cls.ENV[f.name]}={raw!r} is not a number.") from None
        return cls(**values).validate()


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build a config from a dict, refusing unknown keys (a foreign or stale file)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(unknown)}.")
    return cls(**data)  # type: ignore[call-arg]


def config_hash(*cfgs: Any) -> str:
    """Short stable digest of one or more configs (file names, cache keys)."""
    blob = json.dumps([type(c).__name__ for c in cfgs] + [to_dict(c) for c in cfgs], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
