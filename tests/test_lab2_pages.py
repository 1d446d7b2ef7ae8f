"""AppTest for the lab pages of issue 9 (items 5, 8, 9): each renders, draws, states computed findings."""
from __future__ import annotations


from streamlit.testing.v1 import AppTest

from tests.conftest import charts, no_exception, open_page


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "success", "warning")
    return "\n".join(e.value for kind in kinds for e in getattr(at, kind))


def infos(at: AppTest) -> str:
    return "\n".join(e.value for e in at.info)


def an_upload() -> str:
    """A small uploaded dataset this server holds (``upload-<hash>``): no study is ever stored for it."""
    from cmcore import uploads

    return uploads.accept(("x,y\n" + "\n".join(f"{i % 7},{(i * 5) % 13}" for i in range(80))).encode())


def test_param_page_draws_curves_scores_and_findings():
    at = open_page("pages/lab_param.py")
    no_exception(at)
    assert len(charts(at)) == 5
    body = text(at)
    assert f"c_skip = {0.25 / (0.998 ** 2 + 0.25):.3f}" in body  # sigma_data 0.5 at t = 1, by hand
    assert "After 400 steps" in body and "floor" in body
    at.select_slider(key="lp_sigma").set_value(2.0).run()
    no_exception(at)
    assert "σ_data = 2" in text(at)
    assert at.query_params["lp_sigma"] in ("2.0", ["2.0"])


def test_param_page_link_sets_sigma_data_and_the_start():
    at = open_page("pages/lab_param.py", {"lp_sigma": "0.25", "lp_start": "random"})
    no_exception(at)
    assert at.select_slider(key="lp_sigma").value == 0.25
    assert "network started at random" in text(at) and "starting from the teacher" in text(at)
    at.segmented_control(key="lp_start").set_value("teacher").run()
    no_exception(at)
    assert "network started from the teacher" in text(at)


def test_export_page_offers_every_download_and_a_link():
    at = open_page("pages/lab_export.py", {"ex_n": "500"})
    no_exception(at)
    assert len(charts(at)) == 1
    keys = {b.key for b in at.download_button}
    assert {"ex_csv", "ex_paths_csv", "ex_chart_png", "ex_chart_svg", "ex_teacher", "ex_cm"} <= keys
    assert any("ex_n=500" in c.value for c in at.code)  # the link carries the widgets
    at.segmented_control(key="ex_sampler").set_value("teacher").run()
    no_exception(at)
    assert at.query_params["ex_sampler"] in ("teacher", ["teacher"])


def test_export_page_loads_an_uploaded_checkpoint_back():
    from cmcore import zoo

    at = open_page("pages/lab_export.py", {"ex_n": "500"})
    data = zoo.consistency_path(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency).read_bytes()
    at.file_uploader(key="ex_upload").set_value(("cm.safetensors", data, "application/octet-stream")).run()
    no_exception(at)
    assert any("Loaded a **consistency** model" in s.value for s in at.success)
    assert len(charts(at)) == 2 and "against a floor of" in text(at)


def test_export_page_refuses_junk_with_a_message():
    at = open_page("pages/lab_export.py", {"ex_n": "500"})
    at.file_uploader(key="ex_upload").set_value(("junk.safetensors", b"\x80\x04junk", "application/octet-stream")).run()
    assert not at.exception
    assert any("junk.safetensors cannot be loaded" in e.value for e in at.error)


def test_ot_page_draws_both_couplings_and_says_when_distillation_pays_off():
    at = open_page("pages/lab_ot.py", {"lo_paths": "8"})
    no_exception(at)
    assert len(charts(at)) == 7  # 2 path panels, 4 one-step panels, W2 against NFE
    body = text(at)
    assert "Distilling the OT teacher" in body and "floor" in body and "pairing took" in body
    assert len(at.dataframe) == 2 and "NFE 50" in at.dataframe[0].value.columns
    before = [c.proto.spec for c in charts(at)][:2]
    at.number_input(key="lo_seed").set_value(3).run()
    no_exception(at)
    assert [c.proto.spec for c in charts(at)][:2] != before  # new noise, new paths
