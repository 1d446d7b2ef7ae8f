"""Where the server keeps what it makes at run time (runs, uploaded datasets): one folder, one setting."""
from __future__ import annotations

import os
from pathlib import Path

RUN_DIR_ENV = "CMCORE_RUN_DIR"  # where runs and uploads are stored (default: .runs/ beside the package)
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / ".runs"


def run_root() -> Path:
    return Path(os.environ.get(RUN_DIR_ENV) or DEFAULT_ROOT)
