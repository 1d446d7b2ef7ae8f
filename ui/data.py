"""Which dataset every page shows: the sidebar select box (kept in the URL as ``?data=``) and CSV uploads.

``resolve`` is called by ``ui.models.resolve`` once per run, before the model picker,
because the models listed follow the dataset.  The default (two moons) is left out of
the URL; the session remembers the choice when the page changes (the URL loses it).  A
value the server does not know is replaced by the default, with a note.

Uploads: a CSV of 2D points is checked, normalised and stored by ``cmcore.uploads``
(its name, ``upload-<hash>``, is a content address, so a link carrying it opens the
same points for anyone on this server); the session's uploads join the select box.
"""
from __future__ import annotations

import streamlit as st

from cmcore import datasets, uploads
from cmcore.config import DEFAULT_DATASET
from ui.params import shown

DATA_PARAM = "data"
_PICKER = "_data_picker"  # widget key of the sidebar select box
_SHOWN = "_data_picker_shown"  # the dataset the select box showed on the previous run
_CHOICE = "_data_choice"  # the dataset this session chose last
_UPLOADS = "_data_uploads"  # this session's uploads (names), oldest first
_UPLOADED = "_data_uploaded"  # (file id, dataset name or None, refusal or None) of the file in the uploader
_CURRENT = "_data_current"
UPLOADER = "data_upload"  # widget key of the file uploader
SESSION_UPLOADS = 5  # uploads a session lists
UPLOAD_LIMIT_MB = uploads.MAX_BYTES // 1_000_000  # the uploader's own limit (Streamlit counts whole MB)
assert UPLOAD_LIMIT_MB * 1_000_000 == uploads.MAX_BYTES, "the widget's limit is whole megabytes"


def options() -> list[str]:
    held = [u for u in st.session_state.get(_UPLOADS, []) if datasets.is_known(u)]
    return [*datasets.REGISTRY, *held]


def _remember(name: str) -> None:
    if uploads.is_upload_name(name):
        kept = [u for u in st.session_state.get(_UPLOADS, []) if u != name] + [name]
        st.session_state[_UPLOADS] = kept[-SESSION_UPLOADS:]


def resolve(follow: str | None = None) -> tuple[str, bool]:
    """Draw the select box; return (dataset, whether the person picked it in the select box this run).

    ``follow``: the dataset of a run the URL asks for; unless the person just picked a dataset, the
    dataset follows the run (a run is only meaningful on the data it was trained on).
    """
    state = st.session_state
    name = st.query_params.get(DATA_PARAM) or state.get(_CHOICE, DEFAULT_DATASET)
    if not datasets.is_known(name):
        why = ("an upload this server no longer holds (upload the file again)" if uploads.is_upload_name(name)
               else "not a dataset name")
        st.warning(f"Link setting `data`: {shown(name)} is {why}; showing {datasets.label(DEFAULT_DATASET)}.",
                   icon=":material/link_off:")
        name = DEFAULT_DATASET
    _remember(name)
    opts = options()
    picked = (state.get(_SHOWN) == name and state.get(_PICKER) in opts and state.get(_PICKER) != name)
    if follow and follow != name and not picked:
        st.caption(f":material/info: The model in the link was trained on {datasets.noun(follow)}, so that "
                   "dataset is shown.")
        name = follow
        _remember(name)
        opts = options()
    if state.get(_SHOWN) != name and not picked or state.get(_PICKER) not in opts:
        state[_PICKER] = name  # the URL changed the dataset (a link, an upload): follow it
    choice = st.sidebar.selectbox("Dataset (every page)", opts, key=_PICKER, format_func=datasets.label)
    state[_SHOWN] = choice
    choose(choice)
    state[_CURRENT] = choice
    return choice, picked


def choose(name: str) -> None:
    st.session_state[_CHOICE] = name
    if name == DEFAULT_DATASET:
        st.query_params.pop(DATA_PARAM, None)
    elif st.query_params.get(DATA_PARAM) != name:
        st.query_params[DATA_PARAM] = name


def current() -> str:
    """This run's dataset (resolved by app.py; the default if app.py did not run)."""
    return st.session_state.get(_CURRENT) or DEFAULT_DATASET


def where_to_train() -> str:
    """Where a model for an upload is trained, said from the page the person is on."""
    from ui import router

    on_page_3 = st.session_state.get(router.ROUTED_KEY) == "distillation"
    return "press **Retrain** on this page" if on_page_3 else "train one on page 3, *Consistency distillation*"


def upload_section() -> None:
    """The sidebar's CSV upload: accept (and switch to) a valid file, or say why it was refused."""
    holding = st.session_state.get(UPLOADER) is not None  # a file is in the uploader: keep its verdict in view
    with st.sidebar.expander("Your own data (CSV upload)", icon=":material/upload_file:", expanded=holding):
        st.caption(f"Two columns, x and y, one point per line (a header line is fine); {uploads.MIN_ROWS:,} to "
                   f"{uploads.MAX_ROWS:,} points, at most {UPLOAD_LIMIT_MB} MB. The points are centred "
                   f"on their mean and scaled (the same factor on both axes) to an RMS distance of "
                   f"{uploads.TARGET_SPREAD:g} from the centre, like the built-in datasets. No model is shipped for "
                   f"them: {where_to_train()} (it trains a teacher first, then distils it).")
        file = st.file_uploader("CSV of 2D points", type=["csv", "txt"], key=UPLOADER, max_upload_size=UPLOAD_LIMIT_MB)
        if file is None:
            return
        done = st.session_state.get(_UPLOADED)
        if done is None or done[0] != file.file_id:
            try:
                name, refusal = uploads.accept(file.getvalue()), None
            except uploads.UploadError as exc:
                name, refusal = None, str(exc)
            st.session_state[_UPLOADED] = done = (file.file_id, name, refusal)
            if name is not None:
                _remember(name)
                choose(name)
                st.rerun()  # the select box above follows the new dataset
        _, name, refusal = done
        if refusal:
            st.error(f"**Not accepted.** {refusal}", icon=":material/block:")
        else:
            st.success(f"Accepted as *{datasets.label(name)}*.", icon=":material/check_circle:")
