"""Which models a page shows: the sidebar picker, resolved once per run by app.py, and cached loads.

A cached model is shared by every session, so it is never mutated: cmcore returns
frozen eval-mode copies, and pages only call them under no_grad.  The choice is
the URL parameter ``model``: ``ours`` / ``lesson`` (that recipe's shipped pair trained on the
dataset chosen above it, ``ui.data``) or the id of a run (``ui.runs``; a content address, so a
link to a run opens it for anyone on the same server while the server holds it).  A run is
listed only under the dataset it was trained on; a link to a run shows its dataset, and
picking another dataset returns the picker to our shipped defaults on that dataset.
``app.py`` calls ``resolve()`` once per run; pages read the result with ``current()``,
which has no side effects.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from torch import nn

from cmcore import datasets, runstore, zoo
from cmcore.config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig
from ui import data, runs
from viz import glossary, names

MODEL_PARAM = "model"
_PICKER = "_model_picker"  # widget key of the sidebar select box (with the model it opened on: see resolve)
PICKER_LABEL = "Models shown on every page"
PICKER_FITS = 28  # characters the sidebar's select box shows before it cuts a name: longer ones are repeated below it
_CHOICE = "_model_choice"  # the model this session chose last (the URL loses it when the page changes)
_CURRENT = "_model_current"  # this run's Selection, set by resolve()
_GONE = "_model_gone"  # a linked run whose weights this server no longer holds (its card is still known)


@dataclass(frozen=True)
class Selection:
    """The teacher/consistency pair a page shows."""

    model_id: str  # ours | lesson | run-...
    teacher_name: str  # ours | lesson
    cm_cfg: ConsistencyConfig
    label: str
    dataset: str = DEFAULT_DATASET  # what the teacher (and so the consistency model) learned

    @property
    def teacher_cfg(self) -> TeacherConfig:
        return zoo.recipe(self.teacher_name, self.dataset).teacher

    @property
    def shipped(self) -> bool:
        return self.model_id in zoo.RECIPES


def shipped(name: str, dataset: str = DEFAULT_DATASET) -> Selection:
    recipe = zoo.recipe(name, dataset)
    return Selection(name, name, recipe.consistency, names.shipped_name(name, not datasets.is_upload(dataset)), dataset)


def run_label_of(run) -> str:
    """A run's settings by name (``viz.names.setting_name``; ``run``: a RunModel or a runstore.Card)."""
    return names.setting_name(run.teacher, run.cfg)


def run_label(run) -> str:
    """How a run is named everywhere (``viz.names.run_name``): its settings and how far it trained."""
    return names.run_name(run.teacher, run.cfg, run.steps_done)


def of_run(run: runs.RunModel) -> Selection:
    return Selection(run.model_id, run.teacher, run.cfg, run_label(run), run.dataset)


def _not_trained(dataset: str) -> LookupError:
    return LookupError(f"No model has been trained on {datasets.noun(dataset)} yet (none is shipped for uploaded "
                       "data). Train one on page 3, *3. Consistency distillation*: Retrain first trains the "
                       "teacher on these points, then distils it.")


@st.cache_resource(show_spinner="Loading the teacher ...", max_entries=16)
def _teacher(cfg: TeacherConfig) -> nn.Module:
    if zoo.is_shipped_teacher(cfg):
        return zoo.load_teacher(cfg).model
    return zoo.load_teacher(cfg, runs.teacher_root()).model  # trained on an upload by a run of this server


def has_teacher(cfg: TeacherConfig) -> bool:
    return zoo.is_shipped_teacher(cfg) or zoo.is_shipped_teacher(cfg, runs.teacher_root())


def teacher(cfg: TeacherConfig) -> nn.Module:
    """The teacher of ``cfg``: shipped, or trained here on an upload (LookupError if there is none yet)."""
    if datasets.is_upload(cfg.dataset) and not has_teacher(cfg):  # a missing shipped file: CheckpointError says which
        raise _not_trained(cfg.dataset)
    return _teacher(cfg)


@st.cache_resource(show_spinner="Loading the consistency model ...", max_entries=16)
def _shipped_consistency(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig) -> nn.Module:
    return zoo.load_consistency(teacher_cfg, cfg).model


def consistency(sel: Selection) -> nn.Module:
    """The consistency model of ``sel`` (LookupError if a run's model is no longer held)."""
    if sel.shipped:
        if not zoo.is_shipped_consistency(sel.teacher_cfg, sel.cm_cfg) and datasets.is_upload(sel.dataset):
            raise _not_trained(sel.dataset)
        return _shipped_consistency(sel.teacher_cfg, sel.cm_cfg)
    run = runs.find(sel.model_id)
    if run is None:
        raise LookupError(f"The run {sel.model_id} is no longer held by this server; retrain it on page 3.")
    return run.model


def resolve() -> Selection:
    """Read the URL's ``model`` (or the session's last choice), draw the sidebar picker, store the result.

    Called once per run by app.py.  A model name the server does not hold is replaced by our
    defaults, with a note that says why.
    """
    name = st.query_params.get(MODEL_PARAM) or st.session_state.get(_CHOICE, "ours")
    linked = runs.find(name) if name.startswith("run-") else None
    dataset, picked = data.resolve(follow=linked.dataset if linked is not None else None)
    if picked and linked is not None and linked.dataset != dataset:
        name = "ours"  # the person picked another dataset: our shipped pair on it
    sel, note = _lookup(name, dataset)
    if note:
        st.warning(f"Link setting `model`: {note}; showing the shipped defaults.", icon=":material/link_off:")
        st.session_state[_GONE] = name if runs.card(name) is not None else None
    options = {"ours": shipped("ours", dataset), "lesson": shipped("lesson", dataset),
               **{r.model_id: of_run(r) for r in runs.session_runs() if r.dataset == dataset}}
    options.setdefault(sel.model_id, sel)
    # The select box is keyed by the model it opens on and its dataset.  When the URL changes the model (a link,
    # a finished or kept retrain) or the dataset (whose models have other names: none is shipped for an upload),
    # a new box opens on it; a stale value or label the browser still holds for the old box (sent with a rerun
    # that crossed the change on a busy server) belongs to a widget that no longer exists.
    ids = list(options)
    choice = st.sidebar.selectbox(PICKER_LABEL, ids, index=ids.index(sel.model_id),
                                  key=f"{_PICKER}:{sel.model_id}:{dataset}",
                                  format_func=lambda m: options[m].label,
                                  help="The teacher and consistency model every page shows; a run you train on page 3 "
                                       "joins this list.\n\n" + glossary.tips("teacher", "consistency_model"))
    if choice != sel.model_id:  # the person picked another model: the page reruns with a box that opens on it
        _choose(choice)
        st.rerun()
    if len(sel.label) > PICKER_FITS:  # the box cuts a long run name: the whole name, where it can wrap
        st.sidebar.caption(f"In use: {sel.label}")
    _choose(sel.model_id)
    st.session_state[_CURRENT] = sel
    gone = st.session_state.get(_GONE)
    if gone and sel.model_id == "ours":  # until the person picks another model, offer to train the linked run
        _offer_retrain(runs.card(gone))
    elif gone:
        st.session_state[_GONE] = None
    data.upload_section()
    return sel


def _offer_retrain(card) -> None:
    """One click trains the settings of a run the server no longer holds, on page 3."""
    from ui import retrain_form

    what = f"{card.cfg.steps:,} steps" + (f" (the link's model had stopped at {card.steps_done:,})"
                                          if card.steps_done < card.cfg.steps else "")
    st.caption(f"The link asked for a run of *{run_label_of(card)}*.")
    if st.button(f"Train these settings again: {what}", key="_retrain_gone", icon=":material/model_training:"):
        st.session_state[_GONE] = None
        tcfg = zoo.recipe(card.teacher, card.dataset).teacher
        runs.start(card.teacher, card.cfg, teacher(tcfg) if has_teacher(tcfg) else None, card.dataset)
        query = {**retrain_form.query_for(card.teacher, card.cfg),
                 **({data.DATA_PARAM: card.dataset} if card.dataset != DEFAULT_DATASET else {})}
        st.switch_page("pages/3_distillation.py", query_params=query)


def _lookup(name: str, dataset: str) -> tuple[Selection, str | None]:
    if name in zoo.RECIPES:
        return shipped(name, dataset), None
    run = runs.find(name) if name.startswith("run-") else None
    if run is not None:
        return of_run(run), None
    if runstore.valid_id(name):
        known = runs.card(name) is not None
        return shipped("ours", dataset), (f"the run `{name}` is no longer held by this server (its weights were "
                                          "evicted)" if known else f"the run `{name}` is not known to this server")
    return shipped("ours", dataset), "the value is not a model name (use ours, lesson or the id of a run)"


def _choose(model_id: str) -> None:
    st.session_state[_CHOICE] = model_id
    if model_id == "ours":
        st.query_params.pop(MODEL_PARAM, None)
    elif st.query_params.get(MODEL_PARAM) != model_id:
        st.query_params[MODEL_PARAM] = model_id


def choose(model_id: str) -> None:
    """Make ``model_id`` this session's model from the next run on (e.g. a finished retrain)."""
    _choose(model_id)


def current() -> Selection:
    """This run's selection (resolved by app.py; our defaults if app.py did not run, e.g. a bare page test)."""
    return st.session_state.get(_CURRENT) or shipped("ours", data.current())
