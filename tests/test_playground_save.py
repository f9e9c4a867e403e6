"""The playground's link and Save, without a browser: a link's values are checked like a run's config (a bad
one gets a plain message and keeps its default); the browser's weights are checked like an upload (names,
shapes, finite float32, size cap) and only then written in the one checkpoint format, which loads back."""
from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from app_pages.playground.link import DRAWN, Limits, link_query, parse_link, setup_from_config
from app_pages.playground.save import save_browser_model
from gan_core import TrainConfig
from gan_core.io.browser_weights import MAX_BROWSER_WEIGHT_BYTES, encode_tensor, load_browser_generator
from gan_core.io.checkpoint import CheckpointError, load_checkpoint
from gan_core.nn.models import ToyGenerator

LIMITS = Limits(datasets=("ring8", "grid25", "spiral", "moons"),
                losses=("minimax", "nonsaturating", "lsgan", "hinge", "wgan-gp"), z_dims=(1, 2),
                ranges={"batch_size": (8, 2048), "toy_hidden": (4, 128)}, draw_extent=6.0)
BASE = setup_from_config(TrainConfig(dataset="ring8", toy_hidden=32, toy_depth=2, batch_size=128))


def weights_of(g: torch.nn.Module) -> dict:
    return {k: encode_tensor(v) for k, v in g.state_dict().items()}


def test_link_round_trip_and_plain_messages():
    changed = BASE.__class__(**{**BASE.to_json(), "loss": "minimax", "lr_g": 0.002, "lr_d": 1e-5,
                                "optimizer_d": "sgd", "beta1_d": 0.0, "n_critic": 3, "z_dim": 1, "seed": 7,
                                "toy_hidden": 48})
    setup, notices = parse_link(link_query(changed), BASE, LIMITS)
    assert notices == [] and setup == changed
    bad = {"loss": "magic", "lr_g": "abc", "lr_d": "-1", "batch": "4096", "z": "3", "k": "2.5", "hidden": "4096",
           "data": "../etc", "opt_g": "rmsprop", "beta1_g": "1.5", "smooth": "nan"}
    setup, notices = parse_link(bad, BASE, LIMITS)
    assert setup == BASE, "every bad value keeps the base's"
    assert len(notices) == len(bad), notices
    assert all(n.startswith("The link's ") and "Kept" in n or "kept" in n for n in notices), notices


def test_link_drawn_points():
    setup, notices = parse_link({"data": DRAWN, "pts": "0.5_1~-1_2.25~3_-3"}, BASE, LIMITS)
    assert notices == [] and setup.dataset == DRAWN and setup.points == [(0.5, 1.0), (-1.0, 2.25), (3.0, -3.0)]
    assert parse_link(link_query(setup), BASE, LIMITS)[0] == setup
    setup, notices = parse_link({"data": DRAWN, "pts": "0.5_1~99_0"}, BASE, LIMITS)
    assert setup.points == [] and any("outside the view" in n for n in notices), notices
    _, notices = parse_link({"pts": "1_2_3"}, BASE, LIMITS)
    assert any("is not x_y" in n for n in notices)


def test_browser_weights_checked_like_an_upload():
    g = ToyGenerator(2, 32, 2)
    loaded = load_browser_generator(weights_of(g), 2, 32, 2)
    z = torch.randn(16, 2)
    assert torch.equal(loaded(z), g(z))
    tensors = weights_of(g)
    wrong_shape = dict(tensors, **{"net.0.weight": encode_tensor(torch.zeros(32, 3))})
    with pytest.raises(CheckpointError, match="shape"):
        load_browser_generator(wrong_shape, 2, 32, 2)
    with pytest.raises(CheckpointError, match="missing net.0.bias"):
        load_browser_generator({k: v for k, v in tensors.items() if k != "net.0.bias"}, 2, 32, 2)
    with pytest.raises(CheckpointError, match="unexpected"):
        load_browser_generator(dict(tensors, extra=tensors["net.0.bias"]), 2, 32, 2)
    nan = torch.zeros(32)
    nan[3] = float("nan")
    with pytest.raises(CheckpointError, match="NaN"):
        load_browser_generator(dict(tensors, **{"net.0.bias": encode_tensor(nan)}), 2, 32, 2)
    short = {"shape": [32], "data": base64.b64encode(np.zeros(31, "<f4").tobytes()).decode()}
    with pytest.raises(CheckpointError, match="bytes"):
        load_browser_generator(dict(tensors, **{"net.0.bias": short}), 2, 32, 2)
    with pytest.raises(CheckpointError, match="base64"):
        load_browser_generator(dict(tensors, **{"net.0.bias": {"shape": [32], "data": "!!!"}}), 2, 32, 2)
    huge = {"shape": [1], "data": "A" * (MAX_BROWSER_WEIGHT_BYTES + 4)}
    with pytest.raises(CheckpointError, match="limit"):
        load_browser_generator(dict(tensors, **{"net.0.bias": huge}), 2, 32, 2)
    with pytest.raises(CheckpointError, match="hidden size"):
        load_browser_generator(tensors, 2, 10**6, 2)


def test_save_writes_a_checkpoint_only_when_valid(tmp_path):
    setup = BASE.__class__(**{**BASE.to_json(), "loss": "lsgan", "z_dim": 2, "toy_hidden": 48})
    g = ToyGenerator(2, 48, 2)
    payload = {"nonce": 1, "name": "../../my run", "generator": weights_of(g), "setup": setup.to_json(), "step": 321}
    label, path = save_browser_model(payload, tmp_path, BASE, LIMITS)
    assert path.parent == tmp_path and path.name == "playground-my-run.safetensors", path
    assert label == "session: playground-my-run"
    gan = load_checkpoint(path)
    assert gan.meta["loss"] == "lsgan" and gan.meta["steps"] == 321 and gan.meta["toy_hidden"] == 48
    z = torch.randn(8, 2)
    assert torch.allclose(gan.generator(z), g(z), atol=1e-6)
    before = sorted(p.name for p in tmp_path.iterdir())
    for bad in ({**payload, "setup": {**setup.to_json(), "lr_g": -1}},
                {**payload, "generator": {}}, "not a dict",
                {**payload, "setup": {**setup.to_json(), "z_dim": 1}}):  # G's first layer is for 2-D noise
        with pytest.raises(CheckpointError):
            save_browser_model(bad, tmp_path, BASE, LIMITS)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing written on a failure"
