"""Your own 2D points as a dataset: parse and check a CSV, normalise it, keep it under a content address.

``parse_csv(raw)`` turns the bytes of an uploaded file into an ``[n, 2]`` tensor or raises
``UploadError`` with a message that says what to fix (one per refusal: size, encoding,
columns, non-numeric or non-finite cells, row count, magnitude, zero spread).  ``normalise``
centres the points on their mean and scales them so their RMS distance from the centre is
``TARGET_SPREAD`` (two-moons' own spread, so every dataset lives on the same scale as the
noise).  ``UploadStore.put`` names the normalised points ``upload-<12 hex of their sha256>``
and writes them (safetensors, no pickle) under the run folder (``cmcore.paths``), so the
name in a link opens the same points for anyone on the same server while it holds them.
``draw(points, n, generator)`` samples with replacement, like any registry sampler.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterator

import torch

from .files import atomic_path
from .metrics import spread
from .paths import run_root

MAX_BYTES = 1_000_000  # an upload larger than this is refused before it is read
MIN_ROWS = 20  # fewer points than this cannot describe a distribution
MAX_ROWS = 20_000  # more than this adds nothing at the sizes the app samples (<= 4,096 per batch)
MAX_ABS = 1e6  # coordinates beyond this are refused (a unit mix-up or a corrupt file)
MIN_SPREAD = 1e-9  # RMS distance from the mean below this (relative to the magnitude) = all points identical
TARGET_SPREAD = 2.0  # RMS distance from the centre after normalising (two-moons: 2.0)
NAME_PATTERN = re.compile(r"^upload-[0-9a-f]{12}$")  # never a path: nothing else is looked up on disk
SUBDIR = "uploads"
CACHE_SIZE = 32  # uploads held in memory per process (each at most 20,000 points: 160 kB; 5 MB in all)


class UploadError(ValueError):
    """An upload was refused; the message says why and what to fix."""


def is_upload_name(name: object) -> bool:
    return isinstance(name, str) and bool(NAME_PATTERN.fullmatch(name))


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank row, read by ``csv`` (quotes, CRLF, quoted commas)."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        for cells in reader:
            cells = [c.strip() for c in cells]
            if any(cells):
                yield reader.line_num, cells
    except csv.Error as exc:
        raise UploadError(f"Line {reader.line_num + 1} cannot be read as CSV ({exc}); save the file as plain "
                          "comma-separated x,y rows.") from None


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def parse_csv(raw: bytes) -> torch.Tensor:
    """Rows of ``x,y`` (an optional header row first; blank lines ignored) -> float32 ``[n, 2]``, unnormalised."""
    if len(raw) > MAX_BYTES:
        raise UploadError(f"The file is {len(raw):,} bytes; the limit is {MAX_BYTES:,} bytes. Upload fewer points.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("The file is not UTF-8 text; save it as a plain CSV file (comma-separated x,y).") from None
    rows = []
    for index, (lineno, cells) in enumerate(_rows(text)):
        if index == 0 and all(_number(c) is None for c in cells):
            continue  # a header row: every cell is text
        if len(cells) != 2:
            raise UploadError(f"Line {lineno} has {len(cells)} column{'s' if len(cells) != 1 else ''}; every row "
                              "needs exactly 2 (x,y), separated by a comma.")
        values = [_number(c) for c in cells]
        if None in values:
            bad = cells[values.index(None)]
            raise UploadError(f"Line {lineno} has a cell that is not a number ({bad[:20]!r}); use plain numbers "
                              "such as 1.5 or -2e-3.")
        if not all(math.isfinite(v) for v in values):
            raise UploadError(f"Line {lineno} holds NaN or infinity; every coordinate must be a finite number.")
        if max(abs(v) for v in values) > MAX_ABS:
            raise UploadError(f"Line {lineno} has a value beyond ±{MAX_ABS:g}; rescale the points (the app "
                              "normalises them anyway).")
        rows.append(values)
        if len(rows) > MAX_ROWS:
            raise UploadError(f"The file has more than {MAX_ROWS:,} points; upload at most {MAX_ROWS:,}.")
    if len(rows) < MIN_ROWS:
        raise UploadError(f"The file has {len(rows)} point{'s' if len(rows) != 1 else ''}; upload at least {MIN_ROWS}.")
    points = torch.tensor(rows, dtype=torch.float64)
    if spread(points) <= MIN_SPREAD * max(float(points.abs().max()), 1.0):
        raise UploadError("All points are the same, so there is no distribution to learn; upload points that "
                          "differ.")
    return points.float()


def normalise(points: torch.Tensor) -> torch.Tensor:
    """Centre on the mean, then scale (the same factor on both axes, so shapes keep their proportions) to an RMS
    distance of ``TARGET_SPREAD`` from the centre."""
    points = points.double()
    centred = points - points.mean(dim=0)
    return (centred * (TARGET_SPREAD / spread(points))).float()


def name_of(points: torch.Tensor) -> str:
    """Content address of normalised points: the same points give the same name, whatever the file looked like."""
    return "upload-" + hashlib.sha256(points.contiguous().numpy().tobytes()).hexdigest()[:12]


def draw(points: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` points drawn with replacement from ``points``, using only ``generator``."""
    return points[torch.randint(0, points.shape[0], (n,), generator=generator)]


class UploadStore:
    """Normalised uploads on disk (``<run folder>/uploads/<name>.safetensors``), with an in-process cache of the
    ``cache_size`` most recently used (least recently used out first; the disk keeps them all)."""

    def __init__(self, root: Path | None = None, cache_size: int = CACHE_SIZE):
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1; got {cache_size}.")
        self.root = Path(root or run_root()) / SUBDIR
        self._lock, self._cache, self.cache_size = threading.Lock(), OrderedDict(), cache_size

    def _keep(self, name: str, points: torch.Tensor) -> None:
        with self._lock:
            self._cache[name] = points
            self._cache.move_to_end(name)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def cached(self) -> int:
        """How many uploads the in-process cache holds."""
        return len(self._cache)

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.safetensors"

    def put(self, points: torch.Tensor) -> str:
        """Store normalised ``points``; returns their name."""
        from safetensors.torch import save_file

        name = name_of(points)
        if not self._path(name).is_file():
            with atomic_path(self._path(name)) as tmp:
                save_file({"points": points.contiguous()}, str(tmp))
        self._keep(name, points)
        return name

    def get(self, name: str) -> torch.Tensor | None:
        """The stored points of ``name``; None if the name is not an upload's or this server does not hold it."""
        if not is_upload_name(name):
            return None
        with self._lock:
            if name in self._cache:
                self._cache.move_to_end(name)
                return self._cache[name]
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            points = load_file(str(self._path(name)))["points"].float()
        except (OSError, KeyError, RuntimeError, ValueError, SafetensorError):
            return None
        if points.ndim != 2 or points.shape[1] != 2 or not torch.isfinite(points).all() or name_of(points) != name:
            return None  # damaged or not what its name says
        self._keep(name, points)
        return points

    def held(self, name: str) -> bool:
        return self.get(name) is not None


_STORES: dict[Path, UploadStore] = {}


def default_store() -> UploadStore:
    """The store of the current run folder (one per folder, so a test's folder never mixes with the server's)."""
    root = run_root()
    return _STORES.setdefault(root, UploadStore(root))


def accept(raw: bytes, uploads: UploadStore | None = None) -> str:
    """Parse, check, normalise and store an uploaded CSV; returns its dataset name (UploadError says why not)."""
    return (uploads or default_store()).put(normalise(parse_csv(raw)))
