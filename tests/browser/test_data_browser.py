"""The dataset selector and CSV uploads in Chromium: the choice survives a page change; uploads accepted or refused;
an upload retrained on page 3 (teacher first, then distillation) shows results about the uploaded points."""
from __future__ import annotations

import re

import pytest

from cmcore import datasets, zoo
from tests.browser.conftest import pw_expect as expect
from tests.browser.test_pages import (go_via_sidebar, model_picker_value, reveal_by_skipping, set_number,
                                      stop_if_training)

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


UPLOAD_RUN_STEPS = 1  # the fewest distillation steps the form allows: the upload's teacher trains first anyway
UPLOAD_JOB_TIMEOUT_MS = 600_000  # guard: a 4,000-step teacher, then the distillation and its scoring, on a busy box


def test_an_upload_retrained_on_page_3_shows_results_about_the_upload(app, tmp_path):
    app.goto("")
    rows = "\n".join(f"{(i * 3) % 11},{(i * 5) % 7}" for i in range(120))  # points no other test uploads
    upload(app, tmp_path, "retrain.csv", "x,y\n" + rows + "\n",
           until=app.sidebar().get_by_text(re.compile(r"Accepted as")))
    app.page.wait_for_url(re.compile(r"[?&]data=upload-[0-9a-f]{12}"))
    name = app.query()["data"][0]
    noun = datasets.noun(name)
    go_via_sidebar(app, "distillation")
    expect(data_picker(app)).to_have_value(datasets.label(name))
    set_number(app, "Steps", UPLOAD_RUN_STEPS)
    teacher_steps = zoo.recipe("ours", name).teacher.steps
    stage = app.main().get_by_text(re.compile(rf"No teacher existed for these points, so this run trains one first "
                                              rf"\({teacher_steps:,} steps\), then distils it"))
    done = app.main().get_by_text(re.compile(rf"Retrained on .*: {teacher_steps:,} teacher steps, then "
                                             rf"{UPLOAD_RUN_STEPS:,} distillation steps"))
    try:
        app.rerun(app.main().get_by_role("button", name="Retrain").click, until=stage)
        expect(app.main().get_by_text(re.compile(rf"Retraining\s.+\son {re.escape(noun)}")).first).to_be_visible()
        # The finished run reruns the page to make its model the session's: the message is drawn after that.
        expect(done).to_be_visible(timeout=UPLOAD_JOB_TIMEOUT_MS)
        app.wait_idle()
    finally:
        stop_if_training(app)
    assert re.fullmatch(rf".* \({UPLOAD_RUN_STEPS} steps?\)", model_picker_value(app)), model_picker_value(app)
    assert re.fullmatch(r"run-[0-9a-f]{12}", app.query().get("model", [""])[0]), app.page.url
    assert app.query().get("data") == [name]

    # What a person reads once they skip the question: the new model, scored on the uploaded points.
    reveal_by_skipping(app)
    app.assert_charts_drawn(at_least=4)  # real points, teacher at 50 and 1 steps, the consistency model
    main = app.main()
    expect(main.get_by_text(re.compile(rf"Model: .* \({UPLOAD_RUN_STEPS} steps?\), trained on {re.escape(noun)}\."))).to_be_visible()
    expect(main.get_by_text("What just happened")).to_be_visible()
    floor = main.get_by_text(re.compile(r"For scale, two independent samples of real data score \d\.\d{3} ± "))
    expect(floor).to_be_visible()
    expect(main.locator('[data-testid="stMetric"]')).to_have_count(4)
    # No shipped model exists for an upload, so the story never compares with one trained on other data.
    expect(main.get_by_text(re.compile("Against our shipped defaults"))).to_have_count(0)
    app.assert_no_exception()
