"""Consistency Explorer: routes to the pages, nothing else."""
import streamlit as st

from cmcore.store import CheckpointError
from ui import params, router
from ui.models import model_picker

st.set_page_config(page_title="Consistency Explorer", page_icon=":material/bolt:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/1_self-consistency.py", title="1. Self-consistency", icon=":material/timeline:", url_path="self-consistency"),
    st.Page("pages/2_one-step-ode.py", title="2. One-step ODE vs endpoint", icon=":material/call_split:", url_path="one-step-ode"),
    st.Page("pages/3_distillation.py", title="3. Consistency distillation", icon=":material/model_training:", url_path="distillation"),
    st.Page("pages/4_multistep.py", title="4. Multi-step consistency", icon=":material/stairs:", url_path="multistep"),
]
lab_pages = [
    st.Page("pages/lab_param.py", title="Parameterisations", icon=":material/tune:", url_path="lab_param"),
    st.Page("pages/lab_ot.py", title="Straight paths (OT teacher)", icon=":material/trending_flat:", url_path="lab_ot"),
    st.Page("pages/lab_export.py", title="Export", icon=":material/ios_share:", url_path="lab_export"),
]
page = st.navigation({"Exercises": pages, "Lab": lab_pages})
if router.mark_routed(page.url_path):
    params.leave_page()
try:
    model_picker()
    page.run()
except CheckpointError as exc:  # a missing or damaged shipped model: say which file and how to fix it
    st.error(f"A model file could not be loaded, so this page cannot be shown.\n\n{exc}", icon=":material/error:")
