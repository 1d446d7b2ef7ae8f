"""Uploaded 2D points (every refusal, the normalisation, the store), datasets with uploads, recipes per dataset."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from cmcore import datasets, store, uploads, zoo
from cmcore.config import TeacherConfig, config_hash


def csv(rows, header: str | None = None) -> bytes:
    lines = ([header] if header else []) + [f"{x},{y}" for x, y in rows]
    return ("\n".join(lines) + "\n").encode()


def grid(n: int = 40):
    return [(float(i % 7), float(i // 7) * 0.5) for i in range(n)]


@pytest.fixture
def upload_store(tmp_path, monkeypatch):
    """Uploads written to a folder of this test (the default store follows CMCORE_RUN_DIR)."""
    monkeypatch.setenv("CMCORE_RUN_DIR", str(tmp_path))
    return uploads.default_store()


# --- Parsing: what is accepted ----------------------------------------------------------------

def test_plain_rows_header_blank_lines_and_bom_are_accepted():
    rows = grid()
    plain = uploads.parse_csv(csv(rows))
    assert plain.shape == (40, 2) and plain.dtype == torch.float32
    assert torch.equal(plain, torch.tensor(rows, dtype=torch.float32))
    with_header = uploads.parse_csv(b"\xef\xbb\xbf" + csv(rows, header='"x", "y"').replace(b"\n", b"\n\n", 3))
    assert torch.equal(with_header, plain)


def test_quoted_cells_crlf_and_line_numbers_are_read_as_csv():
    rows = grid()
    quoted = "\r\n".join(f'"{x}", "{y}"' for x, y in rows).encode()
    assert torch.equal(uploads.parse_csv(quoted), torch.tensor(rows, dtype=torch.float32))
    with pytest.raises(uploads.UploadError) as err:  # a quoted comma is one cell; the line counts blank lines
        uploads.parse_csv(b"x,y\n\n" + csv(grid()) + b'"1,5",2,3\n')
    assert "Line 43 has 3 columns" in str(err.value)


# --- Every refusal, with a message that says what to fix ------------------------------------------

@pytest.mark.parametrize("raw, words", [
    (b"1,2\n" * (uploads.MAX_BYTES // 4 + 1), "limit is 1,000,000 bytes"),
    ("1,2\n".encode("utf-16"), "not UTF-8 text"),
    (b"\xff\xfe\x00garbage" + b"1,2\n" * 30, "not UTF-8 text"),
    (csv(grid()) + b"1,2,3\n", "has 3 columns; every row needs exactly 2"),
    (csv(grid()) + b"7\n", "has 1 column;"),
    (csv(grid()).replace(b"1.0,", b"one,", 1), "not a number ('one')"),
    (csv(grid()) + b"nan,1\n", "NaN or infinity"),
    (csv(grid()) + b"1,-inf\n", "NaN or infinity"),
    (csv(grid(uploads.MIN_ROWS - 1)), f"has {uploads.MIN_ROWS - 1} points; upload at least {uploads.MIN_ROWS}"),
    (b"x,y\n", "has 0 points"),
    (b"", "has 0 points"),
    (csv([(float(i), 0.0) for i in range(uploads.MAX_ROWS + 1)]), "more than 20,000 points"),
    (csv(grid()) + b"2e6,0\n", "beyond ±1e+06"),
    (csv([(3.5, -1.25)] * 50), "All points are the same"),
])
def test_each_refusal_says_why(raw, words):
    with pytest.raises(uploads.UploadError) as err:
        uploads.parse_csv(raw)
    assert words in str(err.value)


def test_refusal_line_numbers_count_the_file_lines():
    raw = b"x,y\n1,2\n\n3,four\n"
    with pytest.raises(uploads.UploadError, match="Line 4 "):
        uploads.parse_csv(raw)


# --- Normalisation ----------------------------------------------------------------------------------

def test_normalise_centres_and_scales_to_the_target_spread_keeping_proportions():
    raw = torch.tensor(grid(), dtype=torch.float32) * 1000 + torch.tensor([5e4, -3e4])
    out = uploads.normalise(raw)
    assert torch.allclose(out.mean(dim=0), torch.zeros(2), atol=1e-4)
    assert uploads.spread(out) == pytest.approx(uploads.TARGET_SPREAD, rel=1e-5)
    centred = raw.double() - raw.double().mean(dim=0)  # one factor for both axes: the shape is kept
    factor = uploads.TARGET_SPREAD / float(centred.pow(2).sum(1).mean().sqrt())
    assert torch.allclose(out.double(), centred * factor, atol=1e-5)
    assert uploads.spread(uploads.normalise(torch.tensor(grid(), dtype=torch.float32))) == pytest.approx(2.0, rel=1e-5)


# --- The store and the dataset registry --------------------------------------------------------------

def test_upload_is_content_addressed_stored_and_sampled_like_any_dataset(upload_store, tmp_path):
    name = uploads.accept(csv(grid()))
    assert uploads.is_upload_name(name) and name == uploads.name_of(uploads.normalise(uploads.parse_csv(csv(grid()))))
    assert uploads.accept(csv(grid(), header="a,b")) == name  # same points, another file: same name
    assert (tmp_path / "uploads" / f"{name}.safetensors").is_file()
    assert datasets.is_known(name) and name.removeprefix("upload-") in datasets.label(name)
    a = datasets.sample(name, 500, torch.Generator().manual_seed(3))
    assert torch.equal(a, datasets.sample(name, 500, 3))  # only the generator decides
    assert not torch.equal(a, datasets.sample(name, 500, 4))
    held = uploads.default_store().get(name)
    assert {tuple(p) for p in a.tolist()} <= {tuple(p) for p in held.tolist()}  # drawn from the points themselves
    fresh = uploads.UploadStore(tmp_path)  # another process on the same folder reads the same points
    assert torch.equal(fresh.get(name), held)
    TeacherConfig(dataset=name).validate()  # a registered upload is a valid dataset


def test_unknown_damaged_or_path_like_names_are_refused(upload_store, tmp_path):
    missing = "upload-" + "0" * 12
    assert not datasets.is_known(missing) and not datasets.is_known("upload-../../etc") and not datasets.is_known("x")
    with pytest.raises(ValueError, match="Unknown dataset"):
        datasets.sample(missing, 10, 0)
    with pytest.raises(ValueError, match="TeacherConfig.dataset"):
        TeacherConfig(dataset=missing).validate()
    assert not uploads.is_upload_name(missing + "\n")
    name = uploads.accept(csv(grid()))
    path = tmp_path / "uploads" / f"{name}.safetensors"
    path.write_bytes(b"not a safetensors file")
    assert uploads.UploadStore(tmp_path).get(name) is None  # a fresh reader sees the damage


# --- Recipes per dataset and their shipped checkpoints ----------------------------------------------

def test_recipe_per_dataset_changes_only_the_teachers_data():
    assert zoo.recipe("ours") is zoo.RECIPES["ours"]
    for name, base in zoo.RECIPES.items():
        r = zoo.recipe(name, "circles")
        assert r.teacher == dataclasses.replace(base.teacher, dataset="circles") and r.consistency == base.consistency
        assert config_hash(r.teacher, r.consistency) != config_hash(base.teacher, base.consistency)
    with pytest.raises(ValueError, match="Unknown recipe"):
        zoo.recipe("nope", "circles")


@pytest.mark.parametrize("dataset", list(datasets.REGISTRY))
@pytest.mark.parametrize("name", list(zoo.RECIPES))
def test_every_dataset_ships_both_recipes_with_their_quality_table(dataset, name):
    r = zoo.recipe(name, dataset)
    teacher = zoo.load_teacher(r.teacher)
    cm = zoo.load_consistency(r.teacher, r.consistency)
    assert teacher.config.dataset == dataset and cm.teacher_config == r.teacher
    table = zoo.load_quality(r.teacher, r.consistency)
    assert table is not None, f"run `python -m cmcore eval --write --dataset {dataset}`"
    assert table.floor is not None and set(table.consistency) >= {1, 2, 4, 8}
    for path in (zoo.teacher_path(r.teacher), zoo.consistency_path(r.teacher, r.consistency)):
        assert path.stat().st_size < 400_000  # the repo stays small: ~270 kB per checkpoint


def test_checkpoint_of_another_dataset_is_refused():
    ours = zoo.recipe("ours", "eight_gaussians")
    with pytest.raises(store.CheckpointError):
        store.load(zoo.teacher_path(zoo.DEFAULT.teacher), kind="teacher", expect_config=ours.teacher)


def test_cli_trains_and_evaluates_one_dataset_or_all():
    from cmcore.__main__ import _recipes

    assert {(r.name, r.teacher.dataset) for r in _recipes("all", "all")} == {
        (n, d) for n in zoo.RECIPES for d in datasets.REGISTRY}
    assert [(r.name, r.teacher.dataset) for r in _recipes("lesson", "circles")] == [("lesson", "circles")]
    assert _recipes("ours") == [zoo.DEFAULT]
