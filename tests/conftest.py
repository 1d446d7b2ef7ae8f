"""Shared fixtures: the shipped models' quality table, and app.py kept in charge of AppTest runs.

Shared AppTest helpers too (``open_page``, ``no_exception``, ``charts``): test modules import them
(``from tests.conftest import open_page``).
"""
import os
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cmcore.runstore import RUN_DIR_ENV
from ui import streamlit_internals

# AppTest never runs a fragment's timer: pages compute their numbers inside the script run (ui/later.py).
# Servers the tests start drop this again (tests/browser/conftest.py, bench/load.py).
os.environ["CONSISTENCY_FILL_IN"] = "sync"
# A busy test machine trains slowly, and a run estimated past the host's time limit is refused: the tests' runs
# never are, nor for a session's budget (tests/test_app_limits.py sets the limits it checks).
os.environ.setdefault("CMCORE_MAX_RUN_MINUTES", "1440")
os.environ.setdefault("CMCORE_SESSION_MINUTES", "1440")
# Runs the tests train are stored in a folder of this test session, never in the repo's .runs/.
os.environ.setdefault(RUN_DIR_ENV, tempfile.mkdtemp(prefix="cmcore-runs-"))

APP = str(Path(__file__).resolve().parent.parent / "app.py")
APPTEST_TIMEOUT = 120  # first loads compute (W2 at several step counts); later runs hit the cache


def open_page(page: str, query: dict | None = None) -> AppTest:
    """``page`` of the real app (app.py's navigation and sidebar around it), opened with ``query`` in its URL."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.run()  # AppTest maps a file to its st.navigation url_path only after a first run
    at.query_params.update(query or {})
    at.switch_page(page)
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


@pytest.fixture
def make_manager():
    """``make_manager(**kwargs)`` -> a ``cmcore.jobs.JobManager`` that is shut down when the test ends, pass or fail."""
    from cmcore.jobs import JobManager

    made = []

    def make(**kwargs) -> JobManager:
        made.append(JobManager(**kwargs))
        return made[-1]

    yield make
    for m in made:
        m.shutdown()


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


class Clock:
    """A clock the test moves by hand (``clock.now = 61.0``), for code that takes ``clock=``."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now
