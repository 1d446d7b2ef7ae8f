"""The dataset selector and CSV uploads in Chromium: the choice survives a page change; uploads accepted or refused."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import pw_expect as expect
from tests.browser.test_pages import go_via_sidebar

pytestmark = pytest.mark.browser

DATA_PICKER = "Dataset (every page)"


def data_picker(app):
    return app.sidebar().get_by_role("combobox", name=DATA_PICKER)


def upload(app, tmp_path, name: str, text: str, until) -> None:
    path = tmp_path / name
    path.write_text(text)
    app.sidebar().get_by_text("Your own data (CSV upload)").click()  # open the expander
    dropzone = app.sidebar().locator('[data-testid="stFileUploaderDropzone"]')
    expect(dropzone).to_be_visible()
    uploader = app.sidebar().locator('[data-testid="stFileUploader"] input[type="file"]')
    app.rerun(lambda: uploader.set_input_files(str(path)), until=until)


def test_chosen_dataset_stays_when_the_page_changes(app):
    app.goto("")
    data_picker(app).click()
    app.rerun(app.page.get_by_role("option", name="8 Gaussians", exact=True).click)
    expect(data_picker(app)).to_have_value("8 Gaussians")
    app.page.wait_for_url(re.compile(r"[?&]data=eight_gaussians"))
    expect(app.main().get_by_text("eight Gaussians").first).to_be_visible()
    go_via_sidebar(app, "multistep")
    expect(data_picker(app)).to_have_value("8 Gaussians")
    app.page.wait_for_url(re.compile(r"[?&]data=eight_gaussians"))
    app.assert_no_exception()


def test_a_csv_upload_is_accepted_and_becomes_the_dataset(app, tmp_path):
    app.goto("")
    rows = "\n".join(f"{i % 9},{(i * 7) % 13}" for i in range(80))
    upload(app, tmp_path, "mine.csv", "x,y\n" + rows + "\n",
           until=app.sidebar().get_by_text(re.compile(r"Accepted as")))
    expect(data_picker(app)).to_have_value(re.compile(r"^Your upload \([0-9a-f]{12}\)$"))
    app.page.wait_for_url(re.compile(r"[?&]data=upload-[0-9a-f]{12}"))
    expect(app.main().get_by_text(re.compile("No model has been trained on your uploaded points"))).to_be_visible()
    app.assert_no_exception()


def test_a_bad_csv_is_refused_with_the_reason(app, tmp_path):
    app.goto("")
    upload(app, tmp_path, "bad.csv", "x,y,z\n1,2,3\n4,5,6\n",
           until=app.sidebar().get_by_text(re.compile(r"Not accepted")))
    expect(app.sidebar().get_by_text(re.compile(r"has 3 columns; every row needs exactly 2"))).to_be_visible()
    expect(data_picker(app)).to_have_value("Two moons (lesson)")
    app.assert_no_exception()
