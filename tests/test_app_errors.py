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


def test_any_other_error_on_a_page_says_what_failed_and_what_to_do(monkeypatch, caplog):
    """An unexpected exception inside a page: a message naming the page, the error and what to do, no traceback
    on screen (the traceback goes to the server's log), and the page works again once the cause is gone."""
    from ui import lab

    def broken(*args, **kwargs):
        raise RuntimeError("injected fault for this test")

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=120)
    at.run()  # AppTest maps a file to its st.navigation url_path only after a first run
    monkeypatch.setattr(lab, "matching", broken)
    with caplog.at_level("ERROR", logger="consistency_explorer"):
        at.switch_page("pages/lab_w2.py").run()
    assert not at.exception  # no st.exception element: no traceback shown to the student
    message = " ".join(e.value for e in at.error)
    assert "This page hit an error while drawing **What W2 means**" in message
    assert "RuntimeError: injected fault for this test" in message
    assert "Reload the page" in message and "tell whoever runs this server" in message
    logged = [r for r in caplog.records if r.name == "consistency_explorer"]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is RuntimeError  # the traceback is in the log
    monkeypatch.undo()
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "What W2 means"
