"""Data lookup order, IDX parsing, toy distributions, folders."""
import gzip
import shutil

import numpy as np
import pytest
import torch

from gan_core.data import datasets as data_mod
from gan_core.data.datasets import DataNotFoundError, load_dataset, sample_toy, toy_modes


def write_idx(folder, prefix, n, label_value, image_value=0):
    folder.mkdir(parents=True, exist_ok=True)
    images = np.full((n, 28, 28), image_value, dtype=np.uint8)
    header = bytes([0, 0, 8, 3]) + n.to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big") + bytes([label_value] * n))


@pytest.fixture
def no_fallbacks(tmp_path, monkeypatch, set_env):
    """Point the built-in fallbacks at empty folders and forbid downloads."""
    monkeypatch.setattr(data_mod, "SHARED_MNIST", tmp_path / "none1")
    monkeypatch.setattr(data_mod, "DEBIAN_FASHION", tmp_path / "none2")
    set_env(GAN_DOWNLOAD_DIR=tmp_path / "none3", GAN_DATA_DIR=None)

    def no_download(name, split):
        raise OSError("network disabled in tests")
    monkeypatch.setattr(data_mod, "_download", no_download)
    return tmp_path


def test_lookup_order_data_dir_then_env_then_shared(no_fallbacks, monkeypatch, set_env):
    tmp = no_fallbacks
    write_idx(tmp / "given", "train", 5, label_value=1)
    write_idx(tmp / "env", "train", 6, label_value=2)
    write_idx(tmp / "shared", "t10k", 7, label_value=3)
    set_env(GAN_DATA_DIR=tmp / "env")
    monkeypatch.setattr(data_mod, "SHARED_MNIST", tmp / "shared")
    assert load_dataset("mnist", tmp / "given").labels.tolist() == [1] * 5
    assert load_dataset("mnist").labels.tolist() == [2] * 6
    set_env(GAN_DATA_DIR=None)
    ds = load_dataset("mnist")
    assert ds.labels.tolist() == [3] * 7
    assert "test split" in ds.note  # the shared folder has only the test split: said plainly
    assert str(tmp) not in ds.note and "/" not in ds.note, "pages show the note: no server paths in it"


def test_fashion_found_in_debian_folder_not_mistaken_for_mnist(no_fallbacks, monkeypatch):
    tmp = no_fallbacks
    write_idx(tmp / "fashion-mnist", "train", 4, label_value=9)
    monkeypatch.setattr(data_mod, "DEBIAN_FASHION", tmp / "fashion-mnist")
    ds = load_dataset("fashion")
    assert ds.labels.tolist() == [9] * 4 and ds.class_names[9] == "Ankle boot"
    with pytest.raises(DataNotFoundError):  # a folder named for Fashion-MNIST is not used as MNIST
        load_dataset("mnist", tmp / "fashion-mnist")


def test_missing_data_gives_one_clear_error(no_fallbacks):
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("mnist", no_fallbacks / "empty")
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "--data-dir" in message and "\n" not in message


def test_truncated_idx_is_rejected(no_fallbacks):
    folder = no_fallbacks / "bad"
    write_idx(folder, "train", 5, 1)
    raw = gzip.open(folder / "train-images-idx3-ubyte.gz").read()
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(raw[:-100])
    with pytest.raises(ValueError, match="truncated"):
        load_dataset("mnist", folder)


def test_real_mnist_scaled_to_unit_range(mnist_dir):
    ds = load_dataset("mnist", mnist_dir, limit=500)
    assert ds.images.shape == (500, 1, 28, 28) and ds.images.dtype == torch.float32
    assert ds.images.min() == -1.0 and ds.images.max() == 1.0
    assert set(ds.labels.tolist()) == set(range(10))
    x, y = ds.sample(32, torch.Generator().manual_seed(0))
    assert x.shape == (32, 1, 28, 28) and y.shape == (32,)
    half = ds.shard(1, 2)
    assert len(half) == 250 and torch.equal(half.images[0], ds.images[1])


def test_real_fashion_train_split(fashion_dir):
    ds = load_dataset("fashion", limit=100)
    assert ds.source.startswith(str(fashion_dir)) and ds.images.shape == (100, 1, 28, 28)
    assert ds.note == ""


@pytest.mark.parametrize("name", ["ring8", "grid25", "spiral", "moons"])
def test_toy_distributions(name):
    pts = sample_toy(name, 4000, torch.Generator().manual_seed(0))
    assert pts.shape == (4000, 2) and torch.isfinite(pts).all()
    modes, std = toy_modes(name)
    if modes is not None:
        nearest = torch.cdist(pts, modes).min(1)
        assert (nearest.values < 4 * std).float().mean() > 0.99
        assert len(set(nearest.indices.tolist())) == len(modes)


def test_ring8_geometry():
    modes, std = toy_modes("ring8")
    assert len(modes) == 8 and std == 0.02
    assert torch.allclose(modes.norm(dim=1), torch.full((8,), 2.0))


def test_folder_dataset_with_class_subfolders(tmp_path):
    from PIL import Image
    for cls, value in (("cats", 30), ("dogs", 220)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((40, 50, 3), value, dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.images.shape == (6, 1, 28, 28) and ds.class_names == ("cats", "dogs")
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    rgb = load_dataset(f"folder:{tmp_path}", folder_rgb=True)
    assert rgb.images.shape == (6, 3, 32, 32)
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(tmp_path / "cats" / "0.png", flat / "a.png")
    ds = load_dataset(f"folder:{flat}")
    assert ds.labels is None and ds.num_classes is None and len(ds) == 1


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("cifar100")
