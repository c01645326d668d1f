"""The model's optimised copy in the cache folder: made once, read back, the same vectors."""

from __future__ import annotations

import pytest

from tests.conftest import missing


@pytest.fixture()
def embedder_module():
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    from plenary.themes import embedder

    return embedder


TEXTS = ["Funding is year to year so nobody can plan ahead", "not enough money",
         "Care workers leave for supermarkets that pay more"]


def test_the_first_load_keeps_an_optimised_copy_that_later_loads_read(
        embedder_module, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = embedder_module.Embedder().embed(TEXTS)
    [kept] = (tmp_path / "plenary").iterdir()  # no partial copy left beside it
    assert sorted(p.name for p in kept.iterdir()) == ["model.data", "model.onnx"]
    weights = kept / "model.data"
    assert weights.stat().st_size > 50_000_000
    made = weights.stat().st_mtime_ns
    again = embedder_module.Embedder().embed(TEXTS)
    assert weights.stat().st_mtime_ns == made  # read, not made again
    assert np.abs(first - again).max() < 1e-5


def test_a_damaged_copy_is_made_again(embedder_module, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = embedder_module.Embedder().embed(TEXTS)
    [kept] = (tmp_path / "plenary").iterdir()
    (kept / "model.data").write_bytes(b"not the weights")
    again = embedder_module.Embedder().embed(TEXTS)
    assert (kept / "model.data").stat().st_size > 50_000_000
    assert np.abs(first - again).max() < 1e-5


def test_without_a_cache_folder_the_model_is_folded_each_time(
        embedder_module, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made
    vectors = embedder_module.Embedder().embed(TEXTS)
    assert vectors.shape == (3, embedder_module.DIMENSIONS)
