"""Presentation: Altair chart builders (no Streamlit, no torch); one palette, one meaning per colour."""
