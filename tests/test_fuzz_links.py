"""Property-based fuzzing of every page's URL: any link, however mangled, opens a page without a traceback.

Links carry every widget's value (``ui.params``), so a tampered link reaches each page's parsing.
Hypothesis draws query strings from each page's own parameter names (plus ``model`` and unknown
names) with random text, numbers, NaN and infinities.  The reveal flags are left out so that a
random link does not trigger minutes of W2 measurement; links that show results are tested
page by page elsewhere.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from ui import params, retrain_form

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def page_keys(page: str) -> list[str]:
    keys = re.findall(r'Param\("(\w+)"', (ROOT / page).read_text())
    if "retrain_form.FORM_PARAMS" in (ROOT / page).read_text():
        keys += [p.key for p in retrain_form.FORM_PARAMS]
    return [k for k in keys if not k.endswith("_show")]


values = st.one_of(
    st.text(max_size=12),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "1,2,99", "true", "0x10", "1e308", "-0", "../../etc/passwd", "run-000000000000",
                     "run-zzz", "ours", "lesson", "<script>alert(1)</script>", "`x`](http://e.vil)"]),
)


def links(page: str):
    names = st.sampled_from(page_keys(page) + ["model", "bogus", "sc_steps", "cd_steps"])
    return st.dictionaries(names, values, max_size=4)


@pytest.mark.parametrize("page", PAGES)
def test_no_link_makes_a_page_fail(page):
    @settings(max_examples=8, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(query=links(page))
    def check(query):
        at = AppTest.from_file(APP, default_timeout=300)
        at.run()
        at.query_params.update(query)
        at.switch_page(page)
        at.run()
        assert not at.exception, (query, [e.value for e in at.exception])

    check()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(url=st.dictionaries(st.text(max_size=10), st.lists(st.text(max_size=20), min_size=1, max_size=3), max_size=6))
def test_reading_any_url_never_raises_and_always_gives_valid_values(url):
    spec = params.Spec("fuzz", [params.Param("a", 5, lo=0, hi=10), params.Param("b", 0.5, "float", lo=0.0, hi=1.0),
                                params.Param("c", "x", "choice", choices=("x", "y")), params.Param("d", False, "bool"),
                                params.Param("e", [1], "multi", choices=(1, 2, 3))])
    values, notes = params.read_url(spec, url)
    for p in spec.params:
        if p.key in values:
            v = values[p.key]
            if p.kind in ("int", "float"):
                assert p.lo <= v <= p.hi
            elif p.kind == "choice":
                assert v in p.choices
            elif p.kind == "multi":
                assert v and all(x in p.choices for x in v)
    assert all(isinstance(n, str) for n in notes)
