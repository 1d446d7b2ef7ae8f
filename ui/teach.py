"""The lesson's way of teaching, shared by the exercise pages: predict first, then see.

``predict_first`` asks a question before the result is shown.  Once answered, the
answer is locked and graded ONCE, against the outcome on screen at that moment
(``verdict``): later slider moves update the numbers, never the grade.  "Ask me
again" clears it.  A grade accepts every option a careful student could defend
(``accepted``), e.g. "exactly" and "almost" the same point when the gap is the
solver's own error.

A prediction belongs to its page, dataset and model: the answer, its grade and a skip are kept under the
question's key *and* the models in use (``scope``), so switching the dataset or the model asks the question
again (and coming back to the first shows the answer given there).

A copied link does not carry the answer: its recipient is asked the question too,
unless the sender ticks "share the results view", which puts ``<prefix>_show=1`` in
the link (``reveal_param``).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.params import Param

_ANSWERS = "_predictions"  # {question key: chosen option}, kept for the session
_GRADES = "_prediction_grades"  # {question key: Grade}, fixed when first graded
_SKIPPED = "_predictions_skipped"  # scoped question keys whose results were shown without an answer
_SHOWN_FOR = "_predictions_shown_for"  # {question key: the scope its radio button last showed}
SKIP_LABEL = "Skip the question and show the results"
SHARE_LABEL = "Links to this page open with the results shown"


@dataclass(frozen=True)
class Grade:
    answer: str
    accepted: tuple[str, ...]  # options the numbers at grading time support
    because: str  # the numbers, as they were when graded

    @property
    def right(self) -> bool:
        return self.answer in self.accepted


def reveal_param(prefix: str) -> Param:
    """The page's URL flag for 'open with the results shown' (declare it in the page's Spec)."""
    return Param(f"{prefix}_show", False, "bool")


def scope(key: str) -> str:
    """The question ``key`` for the dataset and model in use: where its answer, grade and skip are kept."""
    from ui import models  # here, not at import: ui.models imports widgets of its own

    sel = models.current()
    return f"{key}@{sel.dataset}/{sel.model_id}"


def _answers() -> dict:
    return st.session_state.setdefault(_ANSWERS, {})


def _grades() -> dict:
    return st.session_state.setdefault(_GRADES, {})


def answer(key: str) -> str | None:
    return _answers().get(scope(key))


def predict_first(key: str, question: str, options: list[str], reveal_key: str | None = None) -> str | None:
    """Ask ``question`` (no option preselected); once answered the choice is locked until "Ask me again"."""
    widget, here = f"predict_{key}", scope(key)
    stored = answer(key)
    if st.session_state.setdefault(_SHOWN_FOR, {}).get(key) != here:  # another dataset or model: its own answer
        st.session_state.pop(widget, None)
        st.session_state[_SHOWN_FOR][key] = here
    if stored in options and widget not in st.session_state:
        st.session_state[widget] = stored  # restore after the page was left
    with st.container(border=True):
        st.markdown(f"**:material/psychology_alt: Predict first.** {question}")
        chosen = st.radio("Your prediction", options, index=None, key=widget, label_visibility="collapsed",
                          disabled=stored is not None)
        if chosen is not None and stored is None:
            _answers()[here] = chosen
            st.rerun()  # lock the answer at once
        if stored is not None or here in st.session_state.get(_SKIPPED, set()):
            if st.button("Ask me again", key=f"again_{key}", type="tertiary", icon=":material/replay:"):
                _answers().pop(here, None)
                _grades().pop(here, None)
                st.session_state.get(_SKIPPED, set()).discard(here)
                st.session_state.pop(widget, None)
                if reveal_key:
                    st.session_state[reveal_key] = False
                st.rerun()
        elif chosen is None and not revealed(key, reveal_key):
            st.caption("The results below appear once you have answered.")
            if st.button(SKIP_LABEL, key=f"skip_{key}", type="tertiary", icon=":material/visibility:"):
                st.session_state.setdefault(_SKIPPED, set()).add(here)
                st.rerun()
        if reveal_key is not None and revealed(key, reveal_key):
            st.checkbox(SHARE_LABEL, key=reveal_key, help="Off: whoever opens a link you copy is asked the "
                        "question first. On: the link opens with the results already shown.")
    return chosen


def revealed(key: str, reveal_key: str | None = None) -> bool:
    """True once the question was answered or skipped, or the link asked for the results."""
    return (answer(key) is not None or scope(key) in st.session_state.get(_SKIPPED, set())
            or bool(reveal_key and st.session_state.get(reveal_key)))


def verdict(key: str, accepted: tuple[str, ...], because: str) -> None:
    """Grade the prediction once against ``accepted`` (the options the numbers on screen support now)."""
    mine = answer(key)
    if mine is None:
        st.info(f"**The numbers say \"{accepted[0]}\"**: {because}", icon=":material/analytics:")
        return
    grade = _grades().get(scope(key))
    if grade is None or grade.answer != mine:
        grade = _grades()[scope(key)] = Grade(mine, tuple(accepted), because)
    note = ("" if grade.because == because else
            f"\n\n:gray[Graded when you answered. The numbers on screen have changed since: {because}]")
    if grade.right:
        also = [a for a in grade.accepted if a != mine]
        other = f" (\"{also[0]}\" would also have been right)" if also else ""
        st.success(f"**Your prediction matched.** You said \"{mine}\"{other}; {grade.because}{note}",
                   icon=":material/check_circle:")
    else:
        st.warning(f"**Not quite.** You said \"{mine}\", but the numbers said \"{grade.accepted[0]}\": "
                   f"{grade.because}{note}", icon=":material/lightbulb:")


def what_happened(text: str) -> None:
    st.markdown("#### What just happened")
    st.markdown(text)


def takeaway(text: str) -> None:
    st.markdown("#### Key takeaway")
    st.markdown(f"> {text}")


def hidden_note() -> None:
    st.info("Answer the question above (or skip it) to see the results.", icon=":material/visibility_off:")
