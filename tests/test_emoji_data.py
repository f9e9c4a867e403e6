"""The emoji dataset: built offline from Debian's packages, cached, split, and its download path checked."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import time

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data import emoji
from gan_core.data.datasets import DataNotFoundError, load_dataset


@pytest.fixture()
def fresh_cache(tmp_path, set_env):
    """A download folder of its own, so the dataset is really built here, not read from the user's cache."""
    set_env(GAN_DOWNLOAD_DIR=tmp_path)
    return tmp_path


def test_builds_offline_from_the_debian_packages_in_under_30_s_and_is_cached(fresh_cache):
    started = time.perf_counter()
    train = load_dataset("emoji")
    built = time.perf_counter() - started
    assert built < 30, f"building took {built:.1f} s"
    assert train.shape == (3, 32, 32) and train.images.shape[1:] == (3, 32, 32)
    assert train.class_names == emoji.EMOJI_GROUPS and train.num_classes == 9
    assert len(train.images) > 1500 and train.labels.max() == 8 and set(train.labels.tolist()) == set(range(9))
    assert float(train.images.min()) == -1.0 and float(train.images.max()) == 1.0
    # colour: the channels differ (a grey image has R == G == B everywhere)
    assert (train.images[:, 0] - train.images[:, 2]).abs().mean() > 0.05
    # the fixed background is white: every tile's corners are +1
    assert torch.all(train.images[:, :, 0, 0] == 1.0) and torch.all(train.images[:, :, -1, -1] == 1.0)
    cached = list(fresh_cache.glob("emoji/*.npz"))
    assert len(cached) == 1
    started = time.perf_counter()
    again = load_dataset("emoji")
    assert time.perf_counter() - started < built and torch.equal(again.images, train.images)


def test_splits_are_disjoint_and_cover_every_emoji():
    images, labels, codes, _ = emoji.load_emoji_arrays()
    train, test = emoji.split_index(codes, "train"), emoji.split_index(codes, "test")
    assert not set(train.tolist()) & set(test.tolist())
    assert len(train) + len(test) == len(codes) == len(images) == len(labels)
    assert 0.05 < len(test) / len(codes) < 0.15
    assert len(set(labels[test].tolist())) == 9  # every group has held-out emoji
    with pytest.raises(ValueError, match="unknown split"):
        emoji.split_index(codes, "validation")


def test_skin_tone_variants_and_components_are_left_out():
    text = "\n".join([
        "# group: Smileys & Emotion",
        "1F600 ; fully-qualified # 😀 grinning face",
        "263A ; unqualified # ☺ smiling face",
        "# group: People & Body",
        "1F44B ; fully-qualified # 👋 waving hand",
        "1F44B 1F3FB ; fully-qualified # 👋🏻 waving hand: light skin tone",
        "# group: Component",
        "1F3FB ; fully-qualified # 🏻 light skin tone",
        "# group: Flags",
        "1F1E6 1F1E8 ; fully-qualified # 🇦🇨 flag: Ascension Island",
    ])
    assert emoji.parse_emoji_test(text) == [("1F600", 0), ("1F44B", 1), ("1F1E6 1F1E8", 8)]


def _tiny_npm_tarball() -> bytes:
    """What emoji-datasource-google's tarball holds, in miniature: emoji.json and 64 x 64 PNGs."""
    items = [{"unified": "1F600", "image": "1f600.png", "category": "Smileys & Emotion", "sort_order": 1},
             {"unified": "1F1E6-1F1E8", "image": "1f1e6-1f1e8.png", "category": "Flags", "sort_order": 2},
             {"unified": "1F3FB", "image": "1f3fb.png", "category": "Component", "sort_order": 3}]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("package/emoji.json", json.dumps(items).encode())
        for colour, item in zip(((255, 200, 0, 255), (200, 0, 0, 255), (90, 60, 40, 255)), items, strict=True):
            png = io.BytesIO()
            im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
            im.paste(colour, (8, 16, 56, 48))
            im.save(png, "PNG")
            add(f"package/img/google/64/{item['image']}", png.getvalue())
    return out.getvalue()


def test_the_npm_tarball_is_read_without_extracting_and_checked_by_sha512(monkeypatch):
    data = _tiny_npm_tarball()
    images, labels, codes = emoji.images_from_npm_tarball(data)
    assert images.shape == (2, 32, 32, 3) and labels.tolist() == [0, 8] and codes == ["1F600", "1F1E6 1F1E8"]
    assert tuple(images[0, 16, 16]) == (255, 200, 0) and tuple(images[0, 0, 0]) == (255, 255, 255)
    good = base64.b64encode(hashlib.sha512(data).digest()).decode()

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(emoji.urllib.request, "urlopen", lambda url, timeout: Response(data))
    assert emoji._verified_download("https://example.invalid/x.tgz", good) == data
    with pytest.raises(ValueError, match="checksum mismatch"):
        emoji._verified_download("https://example.invalid/x.tgz", "A" * 88)


def test_without_the_packages_or_a_network_the_message_names_the_packages(fresh_cache, monkeypatch, tmp_path):
    monkeypatch.setattr(emoji, "NOTO_FONT", tmp_path / "missing.ttf")

    def offline(url, timeout):
        raise OSError("network is unreachable")

    monkeypatch.setattr(emoji.urllib.request, "urlopen", offline)
    with pytest.raises(DataNotFoundError, match="fonts-noto-color-emoji and unicode-data"):
        load_dataset("emoji")
    assert not list(fresh_cache.glob("emoji/*.npz"))  # nothing half-built is left behind


def test_a_limit_takes_the_first_images_of_the_split():
    full, limited = load_dataset("emoji", split="test"), load_dataset("emoji", split="test", limit=20)
    assert torch.equal(limited.images, full.images[:20]) and np.array_equal(limited.labels, full.labels[:20])
