"""Shared fixtures: the shipped models' quality table, and app.py kept in charge of AppTest runs."""
import os
import tempfile

import pytest

from cmcore.runstore import RUN_DIR_ENV
from ui import streamlit_internals

# AppTest never runs a fragment's timer: pages compute their numbers inside the script run (ui/later.py).
# Servers the tests start drop this again (tests/browser/conftest.py, bench/load.py).
os.environ["CONSISTENCY_FILL_IN"] = "sync"
# Runs the tests train are stored in a folder of this test session, never in the repo's .runs/.
os.environ.setdefault(RUN_DIR_ENV, tempfile.mkdtemp(prefix="cmcore-runs-"))


@pytest.fixture(autouse=True)
def navigation_only(monkeypatch):
    """Run app.py's st.navigation on every AppTest run, as a warm server does.

    A ``pages/`` folder beside app.py makes Streamlit fall back to its old folder-based
    multipage mode until ``st.navigation`` has run once in the process, and AppTest resets
    that flag before every run, so ``switch_page`` would run a page file on its own,
    without app.py's sidebar.  On a real server ui/router.py handles the first request;
    the browser test ``test_fresh_server`` covers that.
    """
    monkeypatch.setattr(*streamlit_internals.navigation_only_init())


@pytest.fixture(scope="session")
def shipped_ours():
    """The shipped checkpoints of our recipe and their stored standard-spec quality table.

    The table (``checkpoints/quality-*.json``, written by ``python -m cmcore eval --write``) is what the
    app shows; ``test_core_quality`` re-measures all of it to prove it is current.
    """
    from cmcore import bench, zoo

    recipe = zoo.DEFAULT
    teacher = zoo.load_teacher(recipe.teacher).model
    cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
    table = zoo.load_quality(recipe.teacher, recipe.consistency)
    assert table is not None, "run `python -m cmcore eval --write` to store the quality tables"
    return {"recipe": recipe, "teacher": teacher, "cm": cm, "table": table,
            "self_consistency": bench.self_consistency_mean(teacher)}
