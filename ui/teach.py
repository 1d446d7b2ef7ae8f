"""The lesson's way of teaching, shared by the exercise pages.

``predict_first`` asks a question before the result is shown; the answer is kept for
the whole browser session (widget state is dropped when a page is left, so it is
copied to ``_ANSWERS``).  The result section shows once the question is answered or
skipped, or when the URL says so (``reveal_key``, a bool ``Param`` of the page), so a
copied link reproduces the view.  ``verdict`` then compares the answer with the
option the measured numbers support.
"""
from __future__ import annotations

import streamlit as st

from ui.params import Param

_ANSWERS = "_predictions"  # {question key: chosen option}, kept for the session
_SKIPPED = "_predictions_skipped"  # question keys whose results were shown without an answer
SKIP_LABEL = "Skip the question and show the results"


def reveal_param(prefix: str) -> Param:
    """The page's URL flag for 'results shown' (declare it in the page's Spec)."""
    return Param(f"{prefix}_show", False, "bool")


def _answers() -> dict:
    return st.session_state.setdefault(_ANSWERS, {})


def answer(key: str) -> str | None:
    return _answers().get(key)


def predict_first(key: str, question: str, options: list[str], reveal_key: str | None = None) -> str | None:
    """Ask ``question`` (no option preselected); return the remembered answer, or None."""
    widget = f"predict_{key}"
    stored = answer(key)
    if stored in options and widget not in st.session_state:
        st.session_state[widget] = stored  # restore after the page was left
    with st.container(border=True):
        st.markdown(f"**:material/psychology_alt: Predict first.** {question}")
        chosen = st.radio("Your prediction", options, index=None, key=widget, label_visibility="collapsed")
        if chosen is not None:
            _answers()[key] = chosen
        elif not revealed(key, reveal_key):
            st.caption("The results below appear once you have answered.")
            if st.button(SKIP_LABEL, key=f"skip_{key}", type="tertiary", icon=":material/visibility:"):
                st.session_state.setdefault(_SKIPPED, set()).add(key)
                st.rerun()  # redraw without the question's hint and button
    if reveal_key is not None and revealed(key, reveal_key):
        st.session_state[reveal_key] = True  # written to the URL by params.sync
    return chosen


def revealed(key: str, reveal_key: str | None = None) -> bool:
    """True once the question was answered or skipped, or the link asked for the results."""
    return (answer(key) is not None or key in st.session_state.get(_SKIPPED, set())
            or bool(reveal_key and st.session_state.get(reveal_key)))


def verdict(key: str, measured: str, because: str) -> None:
    """Say whether the prediction matched ``measured`` (the option the numbers on screen support)."""
    mine = answer(key)
    if mine is None:
        st.info(f"**The numbers say \"{measured}\"**: {because}", icon=":material/analytics:")
    elif mine == measured:
        st.success(f"**Your prediction matched.** You said \"{mine}\"; {because}", icon=":material/check_circle:")
    else:
        st.warning(f"**Not quite.** You said \"{mine}\", but the numbers say \"{measured}\": {because}",
                   icon=":material/lightbulb:")


def what_happened(text: str) -> None:
    st.markdown("#### What just happened")
    st.markdown(text)


def takeaway(text: str) -> None:
    st.markdown("#### Key takeaway")
    st.markdown(f"> {text}")


def hidden_note() -> None:
    st.info("Answer the question above (or skip it) to see the results.", icon=":material/visibility_off:")
