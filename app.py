"""Consistency Explorer: routes to the pages, nothing else."""
import logging

import streamlit as st

from cmcore.store import CheckpointError
from ui import models, params, router, streamlit_internals, upkeep

st.set_page_config(page_title="Consistency Explorer", page_icon=":material/bolt:", layout="wide")
upkeep.start()  # once per server process: freed memory goes back to the system

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_self-consistency.py", title="1. Self-consistency", icon=":material/timeline:", url_path="self-consistency"),
    st.Page("pages/2_one-step-ode.py", title="2. One-step ODE vs endpoint", icon=":material/call_split:", url_path="one-step-ode"),
    st.Page("pages/3_distillation.py", title="3. Consistency distillation", icon=":material/model_training:", url_path="distillation"),
    st.Page("pages/4_multistep.py", title="4. Multi-step consistency", icon=":material/stairs:", url_path="multistep"),
    st.Page("pages/lesson_checked.py", title="The lesson, checked", icon=":material/fact_check:",
            url_path="lesson_checked"),
    st.Page("pages/glossary.py", title="Glossary", icon=":material/menu_book:", url_path="glossary"),
]
lab_pages = [
    st.Page("pages/lab_w2.py", title="What W2 means", icon=":material/join_inner:", url_path="lab_w2"),
    st.Page("pages/lab_anatomy.py", title="Anatomy of one distillation step", icon=":material/biotech:",
            url_path="lab_anatomy"),
    st.Page("pages/lab_ftheta.py", title="What f_θ does at each t", icon=":material/animation:", url_path="lab_ftheta"),
    st.Page("pages/lab_consistency_map.py", title="Where is the model consistent?", icon=":material/grid_on:",
            url_path="lab_consistency_map"),
    st.Page("pages/lab_param.py", title="Parameterisations", icon=":material/tune:", url_path="lab_param"),
    st.Page("pages/lab_ot.py", title="Straight paths (OT teacher)", icon=":material/trending_flat:", url_path="lab_ot"),
    st.Page("pages/lab_compare.py", title="Recipes compared", icon=":material/compare_arrows:", url_path="lab_compare"),
    st.Page("pages/lab_export.py", title="Export", icon=":material/ios_share:", url_path="lab_export"),
]
page = st.navigation({"Exercises": pages, "Lab": lab_pages}, expanded=True)  # every page listed, none behind "View more"
if router.mark_routed(page.url_path):
    params.leave_page()
try:
    models.resolve()  # once per run: the sidebar picker; pages read models.current()
    page.run()
except CheckpointError as exc:  # a missing or damaged shipped model: say which file and how to fix it
    st.error(f"A model file could not be loaded, so this page cannot be shown.\n\n{exc}", icon=":material/error:")
except LookupError as exc:  # a run's model the server no longer holds
    st.warning(f"{exc}", icon=":material/link_off:")
except streamlit_internals.fragment_error():  # a fragment's error, already shown in its place by Streamlit
    raise
except Exception as exc:  # noqa: BLE001 - anything else: say what failed and what to do; the traceback goes to the log
    logging.getLogger("consistency_explorer").exception("page %r failed", page.title)
    st.error(f"This page hit an error while drawing **{page.title}**, so part of it is missing: "
             f"`{type(exc).__name__}: {exc}`.\n\nReload the page; if it happens again, tell whoever runs this "
             "server (the full error is in the server's log).", icon=":material/error:")
upkeep.preload()  # once per process, after the first page is drawn: the libraries only some pages use
