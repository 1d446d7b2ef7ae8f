"""Models that retrains produced, kept on disk under a content address, bounded in size.

A run's id is ``run-<hash of its (teacher, consistency) configs>`` (plus ``-s<step>``
for a run stopped early): training is deterministic, so the id names the weights.
``put`` writes the weights as a safetensors checkpoint (``cmcore.store``: no pickle)
and a small JSON card with the settings, the scores and the training track (one-step
W2 against step, ``retrain_job.Track``).  When the weights exceed ``max_bytes`` the
oldest are deleted first, but cards are kept, so a link to an evicted run can still
say which settings it had and offer to train them again.  Several server replicas
may share one folder: every write is atomic.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from . import store
from .config import ConsistencyConfig, from_dict, to_dict
from .files import atomic_write
from .paths import DEFAULT_ROOT, RUN_DIR_ENV, run_root  # noqa: F401 (RUN_DIR_ENV: the setting's name, re-exported)
from .retrain_job import Track

LEGACY_DATASET = "two_moons"  # cards written before datasets existed: their teachers all learned two moons
DEFAULT_MAX_BYTES = 64 * 2**20  # ~900 models of ~70 kB
ID_PATTERN = re.compile(r"^run-[0-9a-f]{12}(-s\d{1,6})?$")  # never a path: nothing else is looked up on disk


@dataclass(frozen=True)
class Card:
    """What a stored run was: enough to describe it and to train it again."""

    model_id: str
    teacher: str  # "ours" | "lesson"
    cfg: ConsistencyConfig
    steps_done: int
    seconds: float
    scores: tuple[tuple[int, tuple[float, ...]], ...] = ()  # k -> W2 per seed at the standard spec
    dataset: str = LEGACY_DATASET  # what its teacher learned
    track: Track | None = None  # one-step W2 against training step, measured while it trained (None: not kept)


def valid_id(model_id: str) -> bool:
    return bool(ID_PATTERN.match(model_id))


class RunStore:
    def __init__(self, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root or run_root())
        self.max_bytes = max_bytes

    def _weights(self, model_id: str) -> Path:
        return self.root / f"{model_id}.safetensors"

    def _card(self, model_id: str) -> Path:
        return self.root / f"{model_id}.json"

    def put(self, card: Card, model: nn.Module) -> None:
        if not valid_id(card.model_id):
            raise ValueError(f"{card.model_id!r} is not a run id.")
        self.root.mkdir(parents=True, exist_ok=True)
        store.save(self._weights(card.model_id), "consistency", model, card.cfg,
                   metrics={"teacher": card.teacher, "steps_done": card.steps_done, "seconds": card.seconds})
        data = {"teacher": card.teacher, "dataset": card.dataset, "cfg": to_dict(card.cfg), "steps_done": card.steps_done,
                "seconds": card.seconds, "scores": [[k, list(v)] for k, v in card.scores],
                "track": card.track.to_json() if card.track is not None else None}
        atomic_write(self._card(card.model_id), json.dumps(data))
        self.evict()

    def card(self, model_id: str) -> Card | None:
        """The settings of a run ever stored here (even if its weights were evicted); None if unknown or damaged."""
        if not valid_id(model_id):
            return None
        try:
            data = json.loads(self._card(model_id).read_text())
            cfg = from_dict(ConsistencyConfig, data["cfg"]).validate()
            scores = tuple((int(k), tuple(float(x) for x in v)) for k, v in data.get("scores", []))
            track = Track.from_json(data["track"]) if data.get("track") else None  # older cards have none
            return Card(model_id, str(data["teacher"]), cfg, int(data["steps_done"]), float(data["seconds"]), scores,
                        str(data.get("dataset", LEGACY_DATASET)), track)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self, model_id: str) -> tuple[Card, nn.Module] | None:
        """The stored model and its card; None if never stored, evicted, or damaged (a damaged file is removed)."""
        card = self.card(model_id)
        if card is None or not self._weights(model_id).is_file():
            return None
        try:
            ckpt = store.load(self._weights(model_id), kind="consistency", expect_config=card.cfg)
        except store.CheckpointError:
            self._weights(model_id).unlink(missing_ok=True)
            return None
        os.utime(self._weights(model_id))  # recently used: evicted last
        return card, ckpt.model

    def evict(self) -> list[str]:
        """Delete the least recently used weights until the folder is within ``max_bytes``; returns the ids."""
        files = sorted(self.root.glob("run-*.safetensors"), key=lambda p: p.stat().st_mtime)
        total, gone = sum(p.stat().st_size for p in files), []
        for path in files:
            if total <= self.max_bytes:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)
            gone.append(path.stem)
        return gone
