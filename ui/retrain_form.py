"""Page 3's settings: presets that fill the form, every distillation setting, refusals in the user's words.

Every widget is built from its ``Param`` (ranges and choices from ``cmcore.config``,
capped by the host's limits per run, ``ui.retrain_costs.HOST``, so one link cannot occupy a shared server
for hours; a link asking for more is corrected with that reason).  Options that do not apply to the chosen mode are disabled, with the
reason in their help text.
"""
from __future__ import annotations

import re
from dataclasses import fields

import streamlit as st

from cmcore import zoo
from cmcore.config import LOSSES, LR_SCHEDULES, MODES, RANGES, SCHEDULES, SOLVERS, ConsistencyConfig
from cmcore.presets import PRESETS
from ui import params, retrain_costs
from ui.params import Param, Spec
from viz import glossary, names
from viz.names import FIELD_LABELS

HOST = retrain_costs.HOST
LIMITS = {"steps": HOST.max_steps, "batch": HOST.max_batch}  # per run; ~11 min at the defaults on a quiet 2 cores
_D = ConsistencyConfig()
_LABELS = {
    "distillation": "Distillation (from the teacher)", "training": "Training (no teacher)",
    "uniform": "Uniform (lesson)", "karras": "Karras",
    "constant": "Constant (lesson)", "onecycle": "One-cycle",
    "euler": "Euler (lesson)", "heun": "Heun",
    "l2": "Squared L2 (lesson)", "pseudo_huber": "Pseudo-Huber",
    "ours": "Ours (4,000 steps, one-cycle)", "lesson": "The lesson's (500 steps, 3e-4)",
}
PRESET_KEY = "cd_preset"


def _p(key: str, field: str, kind: str, choices: tuple = ()) -> Param:
    lo, hi = RANGES.get(field, (None, None))
    limit = "this server's limit per run" if field in LIMITS else ""
    hi = min(hi, LIMITS[field]) if field in LIMITS else hi
    return Param(key, getattr(_D, field), kind, lo, hi, choices, label=field, limit=limit)


TEACHER_PARAM = Param("cd_teacher", "ours", "choice", choices=tuple(zoo.RECIPES), label="teacher")
# URL name -> ConsistencyConfig field (the Param's label); ranges and choices come from cmcore.config.
SPEC_PARAMS = (
    _p("cd_mode", "mode", "choice", MODES),
    _p("cd_levels", "n_levels", "int"),
    _p("cd_schedule", "schedule", "choice", SCHEDULES),
    _p("cd_rho", "rho", "float"),
    _p("cd_mu", "ema_mu", "float"),
    _p("cd_lr", "lr", "float"),
    _p("cd_lr_schedule", "lr_schedule", "choice", LR_SCHEDULES),
    _p("cd_steps", "steps", "int"),
    _p("cd_batch", "batch", "int"),
    _p("cd_solver", "teacher_solver", "choice", SOLVERS),
    _p("cd_loss", "loss", "choice", LOSSES),
    _p("cd_huber", "huber_c", "float"),
    _p("cd_init", "init_from_teacher", "bool"),
    _p("cd_seed", "seed", "int"),
)
assert {p.label for p in SPEC_PARAMS} <= {f.name for f in fields(ConsistencyConfig)}
FORM_PARAMS = (TEACHER_PARAM, *SPEC_PARAMS)


def form_config() -> ConsistencyConfig:
    """The config the form's current values describe (not validated)."""
    return ConsistencyConfig(**{p.label: st.session_state.get(p.key, p.default) for p in SPEC_PARAMS})


def form_teacher() -> str:
    return st.session_state.get(TEACHER_PARAM.key, TEACHER_PARAM.default)


def query_for(teacher: str, cfg: ConsistencyConfig) -> dict[str, str]:
    """URL parameters that fill the form with ``teacher`` and ``cfg`` (defaults left out, as params.sync does)."""
    values = {TEACHER_PARAM.key: teacher, **{p.key: getattr(cfg, p.label) for p in SPEC_PARAMS}}
    return {p.key: p.encode(values[p.key]) for p in FORM_PARAMS if values[p.key] != p.default}


def _apply_preset() -> None:
    preset = PRESETS.get(st.session_state.get(PRESET_KEY))
    if preset is None:
        return
    st.session_state[TEACHER_PARAM.key] = preset.teacher
    for p in SPEC_PARAMS:
        st.session_state[p.key] = getattr(preset.cfg, p.label)


def matching_preset(teacher: str, cfg: ConsistencyConfig) -> str | None:
    return next((k for k, p in PRESETS.items() if p.teacher == teacher and p.cfg == cfg), None)


def settings_form(spec: Spec) -> bool:
    """Presets and every setting; returns True when Retrain was pressed."""
    current = matching_preset(form_teacher(), form_config())
    if PRESET_KEY not in st.session_state or st.session_state[PRESET_KEY] != current:  # (dropped on leaving the page)
        st.session_state[PRESET_KEY] = current  # the form was edited by hand (or a link): show which preset it is
    st.selectbox("Start from a preset", list(PRESETS), key=PRESET_KEY, on_change=_apply_preset,
                 format_func=lambda k: names.setting_name(PRESETS[k].teacher, PRESETS[k].cfg),
                 placeholder="Custom settings (pick a preset to fill the form)",
                 help="Fills every setting below. 'The lesson's recipe' uses the lesson's teacher and settings; "
                      "the other variants change one thing of ours.")
    training = st.session_state.get("cd_mode") == "training"
    if training and st.session_state.get("cd_init"):
        st.session_state["cd_init"] = False  # disabled below: training has no teacher to start from
        st.info("*Init from teacher* was turned off: consistency training has no teacher to start from.",
                icon=":material/info:")
    no_teacher = "Consistency training learns without a teacher, so this does not apply."
    with st.container(border=True):
        c = st.columns(4, gap="medium")
        c[0].markdown("**What to learn from**")
        params.select(spec, "cd_mode", "Mode", c[0], format_func=_LABELS.get, help=(
            "Distillation: the teacher takes one ODE step from t_{n+1} to t_n (Algorithm 2). Training: no teacher; "
            "both levels share the same noise (Algorithm 3)."))
        params.select(spec, "cd_teacher", "Teacher", c[0], format_func=_LABELS.get, disabled=training,
                      help=no_teacher if training else "Which shipped teacher to distil from. " + glossary.tip("teacher"))
        params.select(spec, "cd_solver", "Teacher solver", c[0], format_func=_LABELS.get, disabled=training,
                      help=no_teacher if training else glossary.tips("euler", "heun"))
        c[0].checkbox("Init from teacher", key="cd_init", disabled=training,
                      help=no_teacher if training else "Start the network so that f is one Euler jump of the teacher "
                      "(off: random weights).")
        params.number(spec, "cd_seed", "Seed", c[0], step=1, help="One seed for the initial weights, data and noise.")
        c[1].markdown("**Noise levels**")
        params.number(spec, "cd_levels", "Levels N", c[1], step=1, help=glossary.tip("levels"))
        params.select(spec, "cd_schedule", "Spacing", c[1], format_func=_LABELS.get, help=glossary.tip("karras"))
        karras = st.session_state.get("cd_schedule") == "karras"
        params.number(spec, "cd_rho", "ρ (Karras spacing)", c[1], step=0.5, format="%g", disabled=not karras,
                      help="Karras exponent: larger packs more levels near t = 0." if karras else
                      "Only used by Karras spacing; pick it above to set ρ.")
        c[2].markdown("**Loss and target**")
        params.select(spec, "cd_loss", "Distance", c[2], format_func=_LABELS.get,
                      help="How f_θ(x_{t_{n+1}}) and f_θ⁻(x̂_{t_n}) are compared. " + glossary.tips("pseudo_huber"))
        huber = st.session_state.get("cd_loss") == "pseudo_huber"
        params.number(spec, "cd_huber", "Huber c", c[2], step=0.005, format="%g", disabled=not huber,
                      help=glossary.tip("pseudo_huber") if huber else
                      "Only used by the pseudo-Huber distance.")
        params.number(spec, "cd_mu", "EMA μ of the target", c[2], step=0.005, format="%g", help=glossary.tips("ema_mu", "theta"))
        c[3].markdown("**Optimiser**")
        params.number(spec, "cd_lr", "Learning rate", c[3], step=1e-4, format="%g", help="Peak Adam learning rate.")
        params.select(spec, "cd_lr_schedule", "Learning-rate schedule", c[3], format_func=_LABELS.get,
                      help="Constant, or one-cycle: warm up for 15 % of the steps, then anneal.")
        params.number(spec, "cd_steps", "Steps", c[3], step=100,
                      help=f"Optimiser steps (at most {HOST.max_steps:,} per run on this shared server).")
        params.number(spec, "cd_batch", "Batch", c[3], step=64, help=f"Data points per step (at most {HOST.max_batch:,}).")
    return st.button("Retrain", type="primary", icon=":material/model_training:",
                     help=glossary.tips("estimate", "queue"))


def problem(cfg: ConsistencyConfig) -> str | None:
    """Why these settings cannot be trained, in the form's words (None when they can)."""
    try:
        cfg.validate()
    except ValueError as exc:
        return user_words(str(exc))
    return None


def user_words(message: str) -> str:
    """``ConsistencyConfig.ema_mu=2 is out of range ...`` -> ``EMA μ: 2 is out of range ...``."""
    m = re.match(r"ConsistencyConfig\.(\w+)=(\S+) (.*)", message)
    if m and m.group(1) in FIELD_LABELS:
        return f"{FIELD_LABELS[m.group(1)]}: {m.group(2)} {m.group(3)}"
    return message.replace("ConsistencyConfig: ", "").replace("ConsistencyConfig", "The settings")
