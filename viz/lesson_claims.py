"""The lesson's claims as the notebook words them: what it asserts, what it asks students to predict.

``cmcore.evaluate.lesson_claims`` judges each claim on measured numbers (its ``text`` says how it
is checked here); this module adds the notebook's own sentence and where it stands, and splits
the list into assertions and predictions (the computed sentence on the lesson's own teacher lives
with the other sentences, ``viz.words.claims.lesson_teacher_sentence``).  Pure: no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass


ASSERTS, PREDICTS = "asserts", "predicts"


@dataclass(frozen=True)
class NotebookClaim:
    kind: str  # ASSERTS | PREDICTS
    quote: str  # the notebook's words
    where: str  # where in the notebook
    stricter: str = ""  # how the check here is stricter (or narrower) than the notebook's words, if it is


NOTEBOOK: dict[str, NotebookClaim] = {
    "self_consistency": NotebookClaim(
        ASSERTS, "Starting the ODE from any point on a trajectory reaches the same endpoint.", "Key takeaway 1"),
    "one_step_ode_poor": NotebookClaim(
        ASSERTS, "One Euler step from pure noise produces inaccurate samples.", "Key takeaway 2",
        "checked against the teacher's 5-step ODE"),
    "cm_beats_teacher_one_step": NotebookClaim(
        ASSERTS, "The consistency model produces better 1-step samples than the teacher's 1-step ODE.",
        "Exercise 3, what you should observe"),
    "cm_few_steps_approach_50": NotebookClaim(
        ASSERTS, "2–4 consistency steps can approach the quality of 20–50 ODE steps.", "Key takeaway 4",
        "checked strictly: 2 steps against the 50-step ODE"),
    "cm_one_step_below_five": NotebookClaim(
        PREDICTS, "Will the 1-step consistency sample be better or worse than the teacher's 5-step ODE?",
        "Exercise 4, predict"),
    "cm_diminishing_returns": NotebookClaim(
        PREDICTS, "Will 8 consistency steps look much better than 4?", "Exercise 4, predict"),
}


def split(claims: list) -> tuple[list, list]:
    """(asserted, predicted): the judged ``cmcore.evaluate.Claim``s, each paired with its ``NotebookClaim``."""
    pairs = [(c, NOTEBOOK[c.key]) for c in claims if c.key in NOTEBOOK]
    return [p for p in pairs if p[1].kind == ASSERTS], [p for p in pairs if p[1].kind == PREDICTS]

