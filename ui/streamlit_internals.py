"""Every private Streamlit API the project uses, in one place.

Streamlit has no public way to do these things, so they reach into its internals:

- **stop a fragment's timer** (``rerun_fragment_every``): ``st.fragment(run_every=...)`` fixes the interval
  when the page draws the fragment and never stops it; ``ui.later``'s waiting part sends the messages
  Streamlit sends for it (``ForwardMsg.auto_rerun``, and ``stop_auto_rerun``, which Streamlit sends for a
  nested timer no longer drawn), so a part that has its numbers stops asking;
- **end a waiting run when the student moves a widget** (``end_run_if_asked``): a run that waits for its numbers
  (``ui.later``) calls no ``st.*`` meanwhile, so it asks Streamlit's own stop/rerun check itself;
- **stay in navigation mode** (``use_navigation_only``, ``navigation_only_init``): a ``pages/`` folder
  beside app.py puts a fresh server (and every AppTest run) in the old folder-based multipage mode until
  ``st.navigation`` has run (``ui.router``, tests/conftest.py).

Private APIs change without notice, so ``requirements.txt`` pins Streamlit exactly and
``tests/test_internals.py`` fails, naming what is gone, when the installed version lacks one of
``REQUIRED``.  Each is looked up when used, so a missing one breaks only its feature, with that message.
(Altair's one private API lives in ``viz/altair_internals.py``: viz must not import Streamlit.)
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

import streamlit

REQUIRED = (  # (module, attribute): what the functions below use
    ("streamlit.proto.ForwardMsg_pb2", "ForwardMsg"),
    ("streamlit.runtime.scriptrunner_utils.script_run_context", "get_script_run_ctx"),
    ("streamlit.runtime.scriptrunner_utils.script_run_context", "ThreadState"),
    ("streamlit.runtime.scriptrunner_utils.script_run_context", "get_run_yield_check"),
    ("streamlit.runtime.pages_manager", "PagesManager"),
    ("streamlit.errors", "FragmentHandledException"),
)


class MissingInternal(ImportError):
    pass


def lookup(module: str, name: str) -> Any:
    """``module.name``, or ``MissingInternal`` saying which Streamlit lacks it and what to do."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise MissingInternal(
            f"Streamlit {streamlit.__version__} no longer has {module}.{name}, which ui/streamlit_internals.py "
            "uses; install the version requirements.txt pins, or adapt that module.") from None


def missing() -> list[str]:
    """The message for each of ``REQUIRED`` that the installed Streamlit lacks (empty when all are there)."""
    found = []
    for module, name in REQUIRED:
        try:
            lookup(module, name)
        except MissingInternal as exc:
            found.append(str(exc))
    if not found:
        msg = lookup("streamlit.proto.ForwardMsg_pb2", "ForwardMsg")()
        for field in ("auto_rerun", "stop_auto_rerun"):
            if field not in msg.DESCRIPTOR.fields_by_name:
                found.append(f"Streamlit {streamlit.__version__} no longer has ForwardMsg.{field}, which "
                             "ui/streamlit_internals.py sends; install the version requirements.txt pins.")
    return found


def fragment_error() -> type[BaseException]:
    """What a fragment raises after Streamlit has already shown its error in its place (app.py lets it pass)."""
    return lookup("streamlit.errors", "FragmentHandledException")


def rerun_fragment_every(seconds: float | None) -> None:
    """Start, retime or (``None``) stop the browser's timer that reruns the fragment running now; nothing
    outside a fragment."""
    ctx = lookup("streamlit.runtime.scriptrunner_utils.script_run_context", "get_script_run_ctx")()
    thread_state = lookup("streamlit.runtime.scriptrunner_utils.script_run_context", "ThreadState")
    fragment_id = thread_state.get().fragment_id if ctx is not None else None
    if fragment_id is None:
        return
    msg = lookup("streamlit.proto.ForwardMsg_pb2", "ForwardMsg")()
    if seconds is None:
        msg.stop_auto_rerun.fragment_ids.append(fragment_id)
    else:
        msg.auto_rerun.interval, msg.auto_rerun.fragment_id = seconds, fragment_id
    ctx.enqueue(msg)


def end_run_if_asked() -> None:
    """Inside a script run that waits: end it now (as an ``st.*`` call would) if the student asked for another
    run or a stop meanwhile; nothing outside a run."""
    check = lookup("streamlit.runtime.scriptrunner_utils.script_run_context", "get_run_yield_check")()
    if check is not None:
        check()


def use_navigation_only() -> None:
    """Switch the process out of the folder-based multipage mode (``st.navigation`` is in charge)."""
    lookup("streamlit.runtime.pages_manager", "PagesManager").uses_pages_directory = False


def navigation_only_init() -> tuple[type, str, Callable]:
    """(class, name, replacement) for ``monkeypatch.setattr``: a ``PagesManager.__init__`` that leaves the process
    in navigation mode, as a warm server is (AppTest resets the mode before every run)."""
    pages_manager = lookup("streamlit.runtime.pages_manager", "PagesManager")
    init = pages_manager.__init__

    def navigation_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        pages_manager.uses_pages_directory = False

    return pages_manager, "__init__", navigation_init
