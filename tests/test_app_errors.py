"""A damaged shipped checkpoint gives a clear message in the app, never a traceback."""
import shutil
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from cmcore import zoo
from ui import shared


def test_corrupt_teacher_checkpoint_shows_clear_error(tmp_path, monkeypatch):
    for f in zoo.CHECKPOINT_DIR.glob("*.safetensors"):
        shutil.copy(f, tmp_path / f.name)
    broken = zoo.teacher_path(zoo.DEFAULT.teacher, tmp_path)
    broken.write_bytes(b"this is not a checkpoint" * 10)
    monkeypatch.setenv(zoo.CHECKPOINT_DIR_ENV, str(tmp_path))
    st.cache_resource.clear()
    st.cache_data.clear()
    shared.clear_all()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
        at.switch_page("pages/1_self-consistency.py")
        at.run()
        assert not at.exception
        messages = " ".join(e.value for e in at.error)
        assert broken.name in messages  # names the file
        assert "python -m cmcore train" in messages  # and the fix
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        shared.clear_all()
