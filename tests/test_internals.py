"""Private Streamlit and Altair APIs: all in one module per library, present in the installed versions, pinned.

ui/streamlit_internals.py and viz/altair_internals.py are the only places that touch them.  When an upgrade
drops one, ``test_the_installed_*`` fail with the message the app would give ("Streamlit X.Y no longer has
..."), instead of a page failing in front of a class.
"""
import re
from pathlib import Path

import altair as alt
import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from ui import streamlit_internals
from viz import altair_internals, spec

ROOT = Path(__file__).resolve().parent.parent
HOMES = {"ui/streamlit_internals.py", "viz/altair_internals.py", "tests/test_internals.py",
         "bench/load.py"}  # load.py is a websocket client: it speaks Streamlit's wire protocol (its protos)
# What reaches into a library's internals: its private modules, or Altair's private fields.
PRIVATE = re.compile(r"streamlit\.(runtime|proto|elements\.lib|web)\b|\b_kwds\b|\bFragmentHandledException\b")
SCANNED = ("app.py", "pages/*.py", "ui/**/*.py", "viz/**/*.py", "cmcore/**/*.py", "tests/**/*.py",
           "bench/*.py", "deploy/*.py")


def test_the_installed_streamlit_has_every_internal_the_app_uses():
    assert streamlit_internals.missing() == [], "\n".join(streamlit_internals.missing())


def test_the_installed_altair_has_every_internal_the_app_uses():
    assert altair_internals.missing() == [], "\n".join(altair_internals.missing())


def test_a_missing_streamlit_internal_is_named_with_the_version(monkeypatch):
    monkeypatch.setattr(streamlit_internals, "REQUIRED",
                        streamlit_internals.REQUIRED + (("streamlit.runtime.pages_manager", "NoSuchThing"),))
    assert streamlit_internals.missing() == [
        f"Streamlit {streamlit.__version__} no longer has streamlit.runtime.pages_manager.NoSuchThing, which "
        "ui/streamlit_internals.py uses; install the version requirements.txt pins, or adapt that module."]
    missing = r"Streamlit \d+\.\d+\S* no longer has streamlit\.nope"
    with pytest.raises(streamlit_internals.MissingInternal, match=missing):
        streamlit_internals.lookup("streamlit.nope", "Thing")


def test_a_missing_altair_internal_is_named_with_the_version(monkeypatch):
    monkeypatch.setattr(altair_internals, "FIELDS_ATTR", "_no_such_fields")
    [message] = altair_internals.missing()
    assert message.startswith(f"Altair {alt.__version__} no longer has SchemaBase._no_such_fields")
    with pytest.raises(RuntimeError, match="no longer has"):
        spec.to_spec(alt.Chart(alt.Data(name="x")).mark_point())  # the app's use fails with that message


def test_no_other_module_reaches_into_streamlit_or_altair_internals():
    offenders = []
    for pattern in SCANNED:
        for path in sorted(ROOT.glob(pattern)):
            name = str(path.relative_to(ROOT))
            if name in HOMES or "artifacts" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE.search(line):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == [], "private Streamlit/Altair APIs belong in ui/streamlit_internals.py or " \
                            "viz/altair_internals.py:\n" + "\n".join(offenders)


@pytest.mark.parametrize("package", ["streamlit", "altair"])
def test_requirements_pin_the_libraries_whose_internals_are_used(package):
    pins = re.findall(rf"^{package}==(\S+)$", (ROOT / "requirements.txt").read_text(), flags=re.M)
    assert len(pins) == 1, f"requirements.txt must pin {package} exactly ({package}==X.Y.Z): its internals are used"


def fragment_script(sent):
    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from ui import streamlit_internals

    ctx = get_script_run_ctx()
    enqueue = ctx.enqueue
    ctx.enqueue = lambda msg: (sent.append(msg), enqueue(msg))[1]
    streamlit_internals.rerun_fragment_every(1.5)  # outside a fragment: nothing

    @st.fragment
    def part():
        streamlit_internals.rerun_fragment_every(2.5)
        streamlit_internals.rerun_fragment_every(None)
        st.write("drawn")

    part()


def test_the_fragment_timer_messages_name_the_running_fragment():
    sent = []
    at = AppTest.from_function(fragment_script, args=(sent,))
    at.run()
    assert not at.exception
    timers = [m for m in sent if m.WhichOneof("type") in ("auto_rerun", "stop_auto_rerun")]
    assert [m.WhichOneof("type") for m in timers] == ["auto_rerun", "stop_auto_rerun"]
    start, stop = timers
    assert start.auto_rerun.interval == 2.5 and start.auto_rerun.fragment_id
    assert list(stop.stop_auto_rerun.fragment_ids) == [start.auto_rerun.fragment_id]
