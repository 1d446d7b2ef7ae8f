"""Issue 16, "state that holds" and its broken items, where they live in the browser: a deferred download that
arrives, settings that survive leaving a page through the sidebar, the live W2 chart's axis and legend."""
from __future__ import annotations

import csv
import io
import re

import pytest

pytestmark = pytest.mark.browser


def test_export_teacher_paths_csv_arrives_with_its_rows(app):
    """The button builds the CSV when clicked, outside the script run: it once read session state there and
    the server answered the click with nothing (KeyError "ex_paths", MediaFileStorageError)."""
    app.goto("lab_export", ex_n="500", ex_paths="7")
    button = app.main().get_by_role("button", name=re.compile(r"Teacher paths \(CSV, 7\)"))
    with app.page.expect_download(timeout=180_000) as dl:  # a guard against a hang, not a speed check
        button.click()
    assert dl.value.suggested_filename == "teacher-paths-seed0.csv"
    assert dl.value.failure() is None
    with open(dl.value.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert rows and set(rows[0]) == {"path", "step", "t", "x", "y"}
    assert sorted({int(r["path"]) for r in rows}) == list(range(7))  # the 7 paths asked for, each a full path
    assert len(rows) % 7 == 0 and float(rows[0]["t"]) == 1.0
    app.assert_no_exception()
