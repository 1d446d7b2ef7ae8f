"""Streamlit-side helpers shared by the pages (cmcore stays free of Streamlit)."""
