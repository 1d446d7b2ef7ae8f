"""Stored lab studies: one loader, one dataset check, one writer, one file-name rule (``cmcore.lab_train``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TypeVar

from ..config import DEFAULT_DATASET
from ..files import atomic_write

T = TypeVar("T")


def dataset_suffix(dataset: str) -> str:
    """File-name suffix of a dataset's stored study: none for the lesson's data (the files it always had)."""
    return "" if dataset == DEFAULT_DATASET else f"-{dataset}"


def dataset_flag(dataset: str) -> str:
    return f" --dataset {dataset}" if dataset != DEFAULT_DATASET else ""


def load_stored(from_json: Callable[[dict], T], path: Path, rebuild: str) -> T:
    """A stored study read back; FileNotFoundError/ValueError naming the command ``rebuild`` that rewrites it."""
    try:
        return from_json(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing; run `{rebuild}` to rebuild it.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is unreadable ({exc}); run `{rebuild}` to rebuild it.") from None


def of_dataset(study: T, dataset: str, path: Path, rebuild: str) -> T:
    """``study`` if it was measured on ``dataset``; a ValueError naming the command otherwise."""
    if study.dataset != dataset:
        raise ValueError(f"{path} holds a study on {study.dataset!r}, not {dataset!r}; run `{rebuild}`.")
    return study


def save_json(data: dict, path: Path) -> Path:
    return atomic_write(path, json.dumps(data, separators=(",", ":")) + "\n")  # compact: committed to the repo
