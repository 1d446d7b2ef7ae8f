"""The "Recipes compared" page's glue: which runs can be compared, where their numbers come from, training one.

A side of the comparison is a ``Choice``: a preset of ``cmcore.presets`` (its two full
recipes are the shipped models), a run of this session (``runs.session_runs()``) or a
run a link names that this server holds.  A preset's model is looked up by content
address (``runs.find(runs.model_id(teacher, cfg))``), so a preset anyone on this
server already trained is reused, never retrained.  A preset nobody trained offers
*Train it*, which starts the normal retrain job (``runs.start``: page 3's job manager,
one run at a time, a queue); nothing trains when the page loads.

Numbers: W2 against NFE from ``ui.compute`` (the one protocol, at its standard size),
W2 against training step from the run's ``retrain_job.Track`` (kept in its card) or,
for a shipped pair, from ``checkpoints/track-*.json`` (``python -m cmcore.lab_cli track``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd
import streamlit as st

from cmcore import datasets, evaluate, jobs, retrain_job, tracks, zoo
from cmcore.config import DEFAULT_DATASET, ConsistencyConfig, to_dict
from cmcore.presets import PRESETS, Preset
from ui import compute, models, retrain_view, runs
from ui.models import Selection
from viz import compare_charts, names
from viz.words.claims import settings_diff

_ADOPTED = "_recipes_adopted"  # serial of the finished job already added to this session's runs


@dataclass(frozen=True)
class Choice:
    """One entry of the page's two menus."""

    key: str  # URL value: a preset key or a run id
    label: str  # its name everywhere: menu, legends, sentences (viz.names)
    teacher: str  # "ours" | "lesson" (zoo.RECIPES)
    cfg: ConsistencyConfig
    model_id: str  # "ours" / "lesson" for the shipped pairs, else the run's content address
    dataset: str = DEFAULT_DATASET  # what the teacher learned (the sidebar's dataset, for presets)

    @property
    def shipped(self) -> bool:
        return self.model_id in zoo.RECIPES


def _of_preset(p: Preset, dataset: str) -> Choice:
    recipe = zoo.RECIPES.get(p.key)
    shipped = not datasets.is_upload(dataset)  # nothing is shipped for uploaded points
    if shipped and recipe is not None and recipe.consistency == p.cfg and p.teacher == p.key:  # a shipped pair
        return Choice(p.key, names.shipped_name(p.key), p.teacher, p.cfg, p.key, dataset)
    return Choice(p.key, names.run_name(p.teacher, p.cfg), p.teacher, p.cfg,
                  runs.model_id(p.teacher, p.cfg, dataset=dataset), dataset)


def _of_run(run: runs.RunModel) -> Choice:
    return Choice(run.model_id, models.run_label(run), run.teacher, run.cfg, run.model_id, run.dataset)


def choices(dataset: str, linked: Iterable[str | None] = ()) -> dict[str, Choice]:
    """Every preset on ``dataset``, then this session's runs on it and the runs ``linked`` names that the
    server holds (those keep their own dataset; the page warns when A and B learned different data).

    A run with a preset's full settings has the preset's content address, so it is that preset.
    """
    out = {p.key: _of_preset(p, dataset) for p in PRESETS.values()}
    known = {c.model_id for c in out.values()}
    held = ([r for r in runs.session_runs() if r.dataset == dataset]
            + [r for r in (runs.find(m) for m in linked if m) if r is not None])
    for run in held:
        if run.model_id not in known:
            out[run.model_id], known = _of_run(run), known | {run.model_id}
    return out


def keep_known(keys: Iterable[str], options: dict[str, Choice], defaults: dict[str, str]) -> None:
    """A menu whose value left the options (a session run dropped from the list) falls back to its default."""
    for key in keys:
        if st.session_state.get(key) not in options:
            st.session_state[key] = defaults[key]


# --- One side: its model, scores and track ---------------------------------------------------------

@dataclass(frozen=True)
class Side:
    letter: str  # "A" | "B"
    choice: Choice
    sel: Selection | None  # None: no model for these settings on this server yet
    track: retrain_job.Track | None

    @property
    def series(self) -> str:
        return f"{self.letter}: {self.choice.label}"

    @property
    def color(self) -> str:
        return compare_charts.SIDE_COLORS["AB".index(self.letter)]


@st.cache_data(show_spinner=False, max_entries=16)
def shipped_track(name: str, dataset: str) -> retrain_job.Track | None:
    recipe = zoo.recipe(name, dataset)
    return tracks.load_track(recipe.teacher, recipe.consistency)


def side(letter: str, choice: Choice) -> Side:
    if choice.shipped:
        return Side(letter, choice, models.shipped(choice.key, choice.dataset), shipped_track(choice.key, choice.dataset))
    run = runs.find(choice.model_id)
    return Side(letter, choice, models.of_run(run) if run else None, run.track if run else None)


def status(choice: Choice) -> str:
    """Where this choice's model comes from (shown under its menu; the menu's labels never change, so a
    selection survives the run that trains it)."""
    if choice.shipped:
        return ":material/inventory_2: Shipped with the app."
    if choice.key not in PRESETS:
        return ":material/person: A run of yours."
    if runs.find(choice.model_id):
        return ":material/check_circle: Trained on this server: reused, not retrained."
    return ":material/hourglass_empty: Not trained on this server yet."


def differences(a: Side, b: Side) -> str:
    """What B changes relative to A (settings by name)."""
    diff = settings_diff(to_dict(b.choice.cfg), to_dict(a.choice.cfg))
    if a.choice.teacher != b.choice.teacher:
        diff.insert(0, f"teacher: {names.TEACHER_NAMES[a.choice.teacher]} → {names.TEACHER_NAMES[b.choice.teacher]}")
    return ("B changes, relative to A: " + ", ".join(diff) + ".") if diff else "A and B have the same settings."


# --- Numbers as frames ---------------------------------------------------------------------------

def nfe_scores(s: Side) -> dict[int, evaluate.Score]:
    """W2 at every NFE of the lesson's exercise 4, by the protocol at its standard size (stored or cached)."""
    return {k: compute.cm_score(s.sel, k) for k in evaluate.CM_STEPS}


def nfe_frame(scored: list[tuple[Side, dict[int, evaluate.Score]]]) -> pd.DataFrame:
    return pd.DataFrame([{"run": s.series, "nfe": k, "w2": v.mean, "sem": v.sem}
                         for s, scores in scored for k, v in scores.items()])


def track_frame(sides: list[Side]) -> pd.DataFrame:
    return pd.DataFrame([{"run": s.series, "step": p.step, "w2": p.score.mean, "sem": p.score.sem}
                         for s in sides for p in s.track.points])


def no_track_reason(s: Side) -> str:
    if s.sel is None:
        return f"**{s.letter}** is not trained yet, so it has no training curve."
    if s.choice.shipped:
        return f"No training track is stored for **{s.letter}** ({s.choice.label})."
    return (f"**{s.letter}** ({s.choice.label}) was stored without its training track (runs kept before tracks "
            "were recorded have none); train its settings again to get one.")


# --- Training a preset nobody has trained --------------------------------------------------------

def adopt_finished() -> None:
    """A run this session followed to the end (from here or page 3) joins the session's runs, once."""
    job = runs.current_job()
    if job is not None and job.state == jobs.DONE and st.session_state.get(_ADOPTED) != job.serial:
        st.session_state[_ADOPTED] = job.serial
        runs.remember(job.key)


def _train(choice: Choice) -> None:
    tcfg = zoo.recipe(choice.teacher, choice.dataset).teacher
    # No teacher yet (uploaded points): the job trains it first.
    runs.start(choice.teacher, choice.cfg, models.teacher(tcfg) if models.has_teacher(tcfg) else None, choice.dataset)


def _discard(job: jobs.Job) -> None:
    runs.stop(job, keep=False)


def training(s: Side) -> None:
    """For a side without a model: its run's progress, or the Train button."""
    job = runs.current_job()
    mine = job is not None and job.key == s.choice.model_id
    if mine and job.progress().active:
        _progress(s.letter, s.choice.model_id)
        return
    st.info(f"**{s.letter}** ({s.choice.label}) has not been trained on this server yet.", icon=":material/info:")
    if mine and job.state == jobs.CANCELLED:
        st.caption(f"Its last run stopped after step {job.progress().step:,}; nothing was kept.")
    elif mine and job.state == jobs.FAILED:
        st.caption(f"Its last run failed: {job.progress().error}")
    other = runs.busy() and not mine
    st.button("Train it", key=f"rc_train_{s.letter.lower()}", icon=":material/model_training:", type="primary",
              on_click=_train, args=(s.choice,),
              help=f"{s.choice.cfg.steps:,} steps in the background, by page 3's trainer (one run at a time on this "
                   "server; others wait in a queue)." + (" You stop following the run you follow now." if other else ""))


@st.fragment(run_every=retrain_view.POLL_SECONDS)
def _progress(letter: str, model_id: str) -> None:
    """Redrawn every POLL_SECONDS while the side's run is queued or training; the whole page reruns when it ends."""
    job = runs.current_job()
    if job is None or job.key != model_id or not job.progress().active:
        st.rerun(scope="app")
    job.touch(runs.watcher_id())
    p, tracker = job.progress(), job.info
    st.progress(p.fraction, text=f"**{letter}** · {retrain_view.progress_text(p)}")
    if tracker.points:
        last = tracker.points[-1]
        st.caption(f"One-step W2 at step {last.step:,}: {last.score} ({retrain_job.TRACK_SPEC.describe()}). "
                   "The charts fill in when the run ends.")
    st.button("Stop and discard", key=f"rc_stop_{letter.lower()}", icon=":material/stop_circle:", on_click=_discard,
              args=(job,), disabled=p.stopping)
