"""What a server keeps in memory is bounded, and the job manager is one per process whatever cache is cleared.

The pool's queue and the shared memo have their bound tests beside the rest of their behaviour
(tests/test_pool.py ``test_a_full_queue_drops_prefetched_work_first_then_refuses_new_work``,
tests/test_shared.py ``test_values_are_bounded_least_recently_used_out_first``); here: the model store,
the upload cache, the memo's refusal of a bound below one, and the job manager.
"""
import threading

import pytest
import streamlit as st
import torch

from cmcore import jobs, runstore, uploads
from cmcore.config import ConsistencyConfig
from ui import retrain_costs, runs, shared

WAIT_S = 60


class Disk:
    """A run store on disk that holds every model it was given (``ModelStore`` falls back to it)."""

    def __init__(self):
        self.cards = {}

    def load(self, model_id):
        return (self.cards[model_id], object()) if model_id in self.cards else None

    def put(self, card, model):
        self.cards[card.model_id] = card

    def card(self, model_id):
        return self.cards.get(model_id)


def stored(disk: Disk, n: int) -> list[str]:
    ids = [f"run-{i:016x}" for i in range(n)]
    for model_id in ids:
        disk.cards[model_id] = runstore.Card(model_id, "ours", ConsistencyConfig(), 10, 1.0)
    return ids


def test_the_model_store_keeps_at_most_its_size_when_it_reads_from_disk():
    disk = Disk()
    ids = stored(disk, 5)
    store = runs.ModelStore(disk, size=2)
    for model_id in ids:  # every get loads from disk (a link to an old run, another replica's run)
        assert store.get(model_id).model_id == model_id
        assert len(store) <= 2
    assert len(store) == 2 and runs.STORE_SIZE == 64
    store.get(ids[3])  # most recently used now: the next load drops ids[4]
    store.get(ids[0])
    assert set(store._items) == {ids[3], ids[0]}


def test_the_upload_cache_keeps_the_most_recently_used(tmp_path):
    writer = uploads.UploadStore(tmp_path, cache_size=2)
    names = [writer.put(uploads.normalise(torch.randn(30, 2, generator=torch.Generator().manual_seed(s))))
             for s in range(4)]
    assert writer.cached() == 2 and uploads.CACHE_SIZE == 32
    reader = uploads.UploadStore(tmp_path, cache_size=2)  # another process on the same folder
    for name in names + names[:1]:
        assert reader.get(name) is not None and reader.cached() <= 2
    assert list(reader._cache) == [names[3], names[0]]  # the least recently used went first
    assert reader.get(names[1]) is not None  # evicted from memory, still on disk
    with pytest.raises(ValueError, match="cache_size"):
        uploads.UploadStore(tmp_path, cache_size=0)


def test_a_shared_memo_refuses_a_bound_below_one():
    with pytest.raises(ValueError, match="max_entries"):
        shared.SharedCache(lambda x: x, max_entries=0)


def test_one_job_manager_per_process_whatever_cache_is_cleared():
    manager = runs.manager()
    started, gate = threading.Event(), threading.Event()

    def hold(on_step, cancel):
        started.set()
        assert gate.wait(WAIT_S)

    first = manager.submit(("bounds-test", 1), hold, "watcher-a")
    try:
        assert started.wait(WAIT_S)
        st.cache_resource.clear()  # a test, or an operator's "clear cache": the manager must survive it
        st.cache_data.clear()
        again = runs.manager()
        assert again is manager
        second = again.submit(("bounds-test", 2), lambda on_step, cancel: None, "watcher-b")
        assert first.state == jobs.RUNNING and second.state == jobs.QUEUED  # one trainer still
        assert again.queue_position(second) == 1 and retrain_costs.HOST.trainers == 1
    finally:
        gate.set()
        first.wait(WAIT_S)
    assert second.wait(WAIT_S) and second.state == jobs.DONE
