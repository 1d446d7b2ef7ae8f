"""Every file the app opens at run time lies in a folder the image copies (the Dockerfile's COPY lines).

A page that reads e.g. ``bench/`` works in the checkout and fails in the container with FileNotFoundError.
Here every page of app.py's navigation runs under AppTest while a Python audit hook records each ``open``
(and directory listing) of a path inside the repository; each must lie under the image's allow-list.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ("open", "os.listdir", "os.scandir")  # reading a file, listing a folder


def image_allow_list(dockerfile: Path = ROOT / "Dockerfile") -> list[str]:
    """The repo paths the run stage (after the last FROM) copies from the build context, e.g. ["app.py", "ui/"]."""
    lines = re.sub(r"\\\n", " ", dockerfile.read_text()).splitlines()
    last_from = max(i for i, line in enumerate(lines) if re.match(r"\s*FROM\s", line, re.I))
    allowed = []
    for line in lines[last_from:]:
        words = line.split()
        if words and words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
            allowed += [w for w in words[1:-1] if not w.startswith("--")]
    return allowed


def allowed(rel: str, allow: list[str]) -> bool:
    """``rel`` (a repo-relative path) is copied; "." is the image's WORKDIR (Python's importer lists it)."""
    return rel == "." or any(rel == a.rstrip("/") or (a.endswith("/") and rel.startswith(a)) for a in allow)


def _nav_pages() -> list[tuple[str, str, str]]:
    spec = importlib.util.spec_from_file_location("smoke_pages", ROOT / "deploy" / "smoke_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nav_pages()


class OpenedFiles:
    """Records repo-relative paths opened while ``active`` (an audit hook cannot be removed: it is switched off)."""

    def __init__(self):
        self.active, self.paths = False, set()
        sys.addaudithook(self.hook)

    def hook(self, event: str, args: tuple) -> None:
        if not self.active or event not in EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, int) or path is None:  # an already open descriptor
            return
        try:
            full = Path(os.fsdecode(path)).resolve()
            rel = full.relative_to(ROOT)
        except (ValueError, TypeError, OSError):
            return
        if "__pycache__" not in rel.parts:  # Python's own byte-code cache beside a module
            self.paths.add(rel.as_posix())


RECORDER = OpenedFiles()


def test_the_allow_list_is_read_from_the_dockerfile():
    allow = image_allow_list()
    assert {"app.py", "pages/", "ui/", "cmcore/", "viz/", "checkpoints/"} <= set(allow)
    assert not allowed("bench/lab_ot.json", allow) and allowed("checkpoints/lab_ot.json", allow)
    assert not allowed("app.py.bak", allow) and not allowed("uix/a.py", allow) and not allowed("bench", allow)


@pytest.mark.parametrize("title,url_path,script", _nav_pages(), ids=lambda v: str(v))
def test_a_page_opens_only_files_the_image_copies(title, url_path, script):
    allow = image_allow_list()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    RECORDER.paths.clear()
    RECORDER.active = True
    try:
        at.run()  # Home (AppTest maps a file to its url_path only after a first run)
        if url_path:
            at.switch_page(script).run()
    finally:
        RECORDER.active = False
    assert not at.exception, [e.value for e in at.exception]
    assert "app.py" in RECORDER.paths  # the hook saw the run (a check that it can see anything)
    outside = sorted(p for p in RECORDER.paths if not allowed(p, allow))
    assert not outside, (f"{title} opened {outside} at run time, outside what the image copies ({' '.join(allow)}): "
                         "move the file into a copied folder (stored results: checkpoints/) or copy its folder "
                         "in the Dockerfile")
