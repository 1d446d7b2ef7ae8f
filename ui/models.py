"""Models for the pages, through Streamlit's caches keyed on frozen configs.

A cached model is shared by every session, so it is never mutated: cmcore
returns frozen eval-mode copies, and pages only call them under no_grad.
Which consistency model a session sees is the URL parameter ``model``:
``ours`` / ``lesson`` (shipped) or ``session`` (retrained on page 3 in this
browser session; kept in ``st.session_state``, so one person's retrain never
changes what another sees).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from torch import nn

from cmcore import zoo
from cmcore.config import ConsistencyConfig, TeacherConfig

MODEL_PARAM = "model"
MODEL_LABELS = {
    "ours": "Shipped (our defaults)",
    "lesson": "Shipped (the lesson's recipe)",
    "session": "Retrained in this session",
}
SESSION_MODEL_KEY = "session_model"  # ConsistencyConfig of this session's retrained model
_PICKER = "_model_picker"  # widget key of the sidebar select box
_PICKER_SHOWN = "_model_picker_shown"  # the selection the select box showed on the previous run
_CHOICE = "_model_choice"  # the model this session chose last (the URL loses it when the page changes)


@dataclass(frozen=True)
class Selection:
    """The teacher/consistency pair a page shows."""

    name: str  # ours | lesson | session
    teacher_cfg: TeacherConfig
    cm_cfg: ConsistencyConfig

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.name]


@st.cache_resource(show_spinner="Loading the teacher ...", max_entries=8)
def teacher(cfg: TeacherConfig) -> nn.Module:
    return zoo.load_teacher(cfg).model


@st.cache_resource(show_spinner="Loading the consistency model ...", max_entries=32)
def consistency(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig) -> nn.Module:
    if zoo.is_shipped_consistency(teacher_cfg, cfg):
        return zoo.load_consistency(teacher_cfg, cfg).model
    from ui.retrain import finished_model  # a model retrained in this server process

    return finished_model(teacher_cfg, cfg)


@st.cache_data(show_spinner=False, max_entries=8)
def shipped_metrics(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig) -> dict:
    """Metrics stored in the shipped checkpoints (W2 by NFE, training time)."""
    return {"teacher": zoo.load_teacher(teacher_cfg).metrics, "consistency": zoo.load_consistency(teacher_cfg, cfg).metrics}


def session_model() -> ConsistencyConfig | None:
    return st.session_state.get(SESSION_MODEL_KEY)


def set_session_model(cfg: ConsistencyConfig) -> None:
    st.session_state[SESSION_MODEL_KEY] = cfg
    st.session_state[_CHOICE] = st.query_params[MODEL_PARAM] = "session"


def selection() -> Selection:
    """The pair chosen by the URL's ``model`` parameter (corrected, with a note, if unusable).

    Moving to another page drops the URL's query string, so without ``model`` in the URL the
    session's last choice applies (and is written back, so the link still says which model).
    """
    name = st.query_params.get(MODEL_PARAM)
    if name is None:
        name = st.session_state.get(_CHOICE, "ours")
        if name != "ours":
            st.query_params[MODEL_PARAM] = name
    st.session_state[_CHOICE] = name
    if name == "session" and session_model() is not None:
        return Selection("session", zoo.DEFAULT.teacher, session_model())
    if name not in zoo.RECIPES:
        note = ("no model has been retrained in this session yet" if name == "session"
                else f"`{name}` is not a model name (use ours, lesson or session)")
        st.warning(f"Link setting `model`: {note}; showing the shipped defaults.", icon=":material/link_off:")
        st.session_state[_CHOICE] = st.query_params[MODEL_PARAM] = "ours"
        name = "ours"
    recipe = zoo.RECIPES[name]
    return Selection(name, recipe.teacher, recipe.consistency)


def model_picker() -> Selection:
    """Sidebar select box for the model pair; returns the current selection."""
    sel = selection()
    options = ["ours", "lesson"] + (["session"] if session_model() is not None else [])
    if st.session_state.get(_PICKER_SHOWN) != sel.name or st.session_state.get(_PICKER) not in options:
        st.session_state[_PICKER] = sel.name  # the URL changed the model (a link, a finished retrain): follow it
    st.session_state[_PICKER_SHOWN] = sel.name
    choice = st.sidebar.selectbox("Models shown on every page", options, format_func=MODEL_LABELS.get, key=_PICKER)
    if choice != sel.name:
        st.session_state[_CHOICE] = choice
        if choice == "ours":
            st.query_params.pop(MODEL_PARAM, None)
        else:
            st.query_params[MODEL_PARAM] = choice
        st.rerun()
    return sel
