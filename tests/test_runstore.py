"""The disk store of retrained models: content addresses, cards that outlive weights, bounded size, bad files."""
import dataclasses

import pytest
import torch

from cmcore import runstore, zoo
from cmcore.nets import ConsistencyModel, frozen_copy
from cmcore.runstore import Card, RunStore


def model(seed: int = 0):
    torch.manual_seed(seed)
    return frozen_copy(ConsistencyModel(16, zoo.DEFAULT.consistency.sigma_min))


def card(i: int = 0, steps_done: int | None = None) -> Card:
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, seed=i)
    return Card(f"run-{i:012x}", "ours", cfg, cfg.steps if steps_done is None else steps_done, 1.5)


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_stored_run_loads_back_with_its_card(tmp_path):
    store, m = RunStore(tmp_path), model()
    store.put(card(1), m)
    found = RunStore(tmp_path).load("run-000000000001")  # a new process (a restart) finds it
    assert found is not None and found[0] == card(1) and same_weights(found[1], m)


def test_the_oldest_weights_are_evicted_first_but_cards_stay(tmp_path):
    store = RunStore(tmp_path)
    store.put(card(1), model(1))
    size = (tmp_path / "run-000000000001.safetensors").stat().st_size
    store.max_bytes = int(2.5 * size)
    for i in (2, 3):
        store.put(card(i), model(i))
    assert store.load("run-000000000001") is None  # evicted
    assert store.card("run-000000000001") == card(1)  # ... but a link can still say what it was
    assert store.load("run-000000000003") is not None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "run-zz", "run-000000000001/../x", "", "ours", "run-0000000000012"])
def test_ids_that_are_not_run_ids_are_never_looked_up(tmp_path, bad):
    store = RunStore(tmp_path)
    assert not runstore.valid_id(bad)
    assert store.card(bad) is None and store.load(bad) is None
    with pytest.raises(ValueError):
        store.put(dataclasses.replace(card(1), model_id=bad), model())


def test_a_damaged_file_is_reported_as_absent_and_removed(tmp_path):
    store = RunStore(tmp_path)
    store.put(card(4), model())
    (tmp_path / "run-000000000004.safetensors").write_bytes(b"junk")
    assert store.load("run-000000000004") is None
    assert not (tmp_path / "run-000000000004.safetensors").exists()
    (tmp_path / "run-000000000004.json").write_text("{not json")
    assert store.card("run-000000000004") is None


def test_a_cards_dataset_round_trips_and_old_cards_mean_two_moons(tmp_path):
    import json

    store = RunStore(tmp_path)
    store.put(dataclasses.replace(card(4), dataset="circles"), model(4))
    assert RunStore(tmp_path).card("run-000000000004").dataset == "circles"
    path = tmp_path / "run-000000000004.json"
    data = json.loads(path.read_text())
    del data["dataset"]  # a card written before datasets could be chosen
    path.write_text(json.dumps(data))
    assert RunStore(tmp_path).card("run-000000000004").dataset == "two_moons"
