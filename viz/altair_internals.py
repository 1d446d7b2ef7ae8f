"""The one private Altair API the project uses, in one place (``viz.spec``'s fast conversion).

``chart_fields(node)`` reads the fields a chart or sub-chart was built with (``SchemaBase._kwds``), so
``viz.spec.to_spec`` can find every data frame in a layered or concatenated chart without converting it.
Altair has no public accessor for them.  ``requirements.txt`` pins Altair exactly, and
``tests/test_internals.py`` fails with ``missing()``'s message when the installed version lacks it.
(Streamlit's private APIs live in ``ui/streamlit_internals.py``: viz imports no Streamlit.)
"""
from __future__ import annotations

from typing import Any

import altair as alt

FIELDS_ATTR = "_kwds"  # SchemaBase's dict of the fields an object was built with


def chart_fields(node: Any) -> dict | None:
    """The fields ``node`` was built with (data, layer, concat...), or None for something that is not an Altair
    schema object."""
    if not isinstance(node, alt.SchemaBase):
        return None
    fields = getattr(node, FIELDS_ATTR, None)
    if not isinstance(fields, dict):
        raise RuntimeError(missing()[0])
    return fields


def missing() -> list[str]:
    """A message when the installed Altair lacks what ``chart_fields`` reads (empty when it is there)."""
    probe = alt.Chart(alt.Data(name="probe")).mark_point()
    fields = getattr(probe, FIELDS_ATTR, None)
    if isinstance(fields, dict) and isinstance(fields.get("data"), alt.Data):
        return []
    return [f"Altair {alt.__version__} no longer has SchemaBase.{FIELDS_ATTR} (the fields a chart was built with), "
            "which viz/altair_internals.py reads; install the version requirements.txt pins, or adapt that module."]
