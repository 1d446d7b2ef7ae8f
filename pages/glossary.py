"""Glossary: every term the pages use, from the one vocabulary module (viz.glossary)."""
import streamlit as st

from ui import compute
from viz import glossary

st.title("Glossary")
st.markdown("Every term these pages use, in one place. The same words appear as tooltips (the :material/help: icons) "
            f"beside the widgets and numbers that use them. The protocol's size on every page: {compute.STANDARD.describe()}.")
for key, term in glossary.TERMS.items():
    with st.container(border=True, key=f"term_{key}"):
        st.markdown(f"**{term.term}**  \n{term.explanation}")
