"""The browser training engine (static/js/engine/ on the vendored TensorFlow.js) matches gan_core's Trainer.

From the same initial weights, real batches, z and penalty alphas, two rounds of one D step and one G step give
the same losses and weights to 1e-4 for each loss, with R1, with label smoothing, with SGD and with Adam (two
rounds, so Adam's second, bias-corrected step is checked too). The toy samplers agree in their statistics and the
mode-coverage rule gives the same counts on the same points. Runs the engine under Node 20
(tests/js/engine_parity.mjs); without node it fails under CI=true and skips elsewhere.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from gan_core.data.datasets import TOY_DATASETS, sample_toy, toy_modes
from gan_core.eval.metrics import toy_coverage
from gan_core.teach.browser_spec import browser_spec
from gan_core.train.config import TrainConfig
from gan_core.train.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4
BATCH, HIDDEN, DEPTH = 16, 8, 2
SAMPLES = 4000

# A critic's last bias has a gradient of exactly 0 (hinge with every margin active, WGAN: mean(fake) - mean(real)
# does not depend on it), so Adam's g / (|g| + eps) turns float rounding into a full-size step there: those cases
# update D with SGD (G with Adam); Adam for D is checked with the other losses.
CASES = {
    "minimax": dict(loss="minimax"),
    "nonsaturating": dict(loss="nonsaturating", beta1=0.0),
    "lsgan": dict(loss="lsgan"),
    "hinge": dict(loss="hinge", optimizer_d="sgd"),
    "wgan-gp": dict(loss="wgan-gp", n_critic=1, gp_weight=10.0, beta1=0.5, beta2=0.9, optimizer_d="sgd"),
    "r1": dict(loss="nonsaturating", r1_gamma=1.0),
    "label-smoothing": dict(loss="nonsaturating", label_smoothing=0.1),
    "sgd": dict(loss="nonsaturating", optimizer_g="sgd", optimizer_d="sgd", lr_g=0.05, lr_d=0.05),
    "mixed-optimisers-z1": dict(loss="lsgan", optimizer_d="sgd", lr_d=0.02, beta1_d=0.3, z_dim=1),
    "adam-own-beta1": dict(loss="minimax", beta1=0.0, beta1_d=0.9, lr_g=1e-2, lr_d=3e-2, label_smoothing=0.2),
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed: the engine parity test needs Node 20")
        pytest.skip("node is not installed")
    return node


def _state(module: torch.nn.Module) -> dict[str, list]:
    return {k: v.tolist() for k, v in module.state_dict().items()}


def _case(name: str, settings: dict, seed: int) -> tuple[dict, dict]:
    """The engine's input (config, initial weights, batches) and what the Trainer computed from it."""
    settings = {"lr_g": 1e-2, "lr_d": 1e-2, **settings}
    config = TrainConfig(dataset="ring8", batch_size=BATCH, toy_hidden=HIDDEN, toy_depth=DEPTH, seed=seed, **settings)
    trainer = Trainer(config, device="cpu")
    cfg = trainer.config
    start = {"generator": _state(trainer.G), "discriminator": _state(trainer.D)}
    gen = torch.Generator().manual_seed(seed + 100)
    rounds, losses = [], []
    for _ in range(2):
        real = sample_toy("ring8", BATCH, generator=gen)
        z = torch.randn(BATCH, cfg.z_dim, generator=gen)
        alpha = torch.rand(BATCH, generator=gen) if trainer.loss.uses_gradient_penalty else None
        d_loss, *_ = trainer.d_step(real, z, alpha)
        g_loss, _ = trainer.g_step(z)
        d_loss, g_loss = d_loss.detach(), g_loss.detach()
        rounds.append({"real": real.tolist(), "z": z.tolist(), "alpha": None if alpha is None else alpha.tolist()})
        losses.append({"d": d_loss.item(), "g": g_loss.item()})
    engine_config = {k: getattr(cfg, k) for k in ("dataset", "loss", "z_dim", "batch_size", "lr_g", "lr_d", "beta1",
                                                   "beta2", "optimizer_g", "optimizer_d", "n_critic", "gp_weight",
                                                   "r1_gamma", "label_smoothing", "toy_hidden", "toy_depth")}
    engine_config["beta1_d"] = cfg.d_beta1()
    case = {"name": name, "config": engine_config, "rounds": rounds, **start}
    return case, {"losses": losses, "generator": _state(trainer.G), "discriminator": _state(trainer.D)}


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory):
    node = _node()
    spec = browser_spec()
    cases, expected = [], {}
    for i, (name, settings) in enumerate(CASES.items()):
        case, want = _case(name, settings, seed=i)
        cases.append(case)
        expected[name] = want
    gen = torch.Generator().manual_seed(5)
    coverage_points = [{"dataset": d, "points": (sample_toy(d, 300, generator=gen) * s + o).tolist()}
                       for d in ("ring8", "grid25") for s, o in ((1.0, 0.0), (1.3, 0.1), (0.2, 0.0))]
    folder = tmp_path_factory.mktemp("engine_parity")
    (folder / "cases.json").write_text(json.dumps({"spec": spec, "cases": cases, "sample_count": SAMPLES,
                                                   "coverage": coverage_points}))
    done = subprocess.run([node, str(REPO / "tests/js/engine_parity.mjs"), str(folder / "cases.json"),
                           str(folder / "out.json")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((folder / "out.json").read_text()), expected, coverage_points


@pytest.mark.parametrize("name", list(CASES))
def test_one_d_and_one_g_step_match_the_trainer(engine_run, name):
    out, expected, _ = engine_run
    got = next(s for s in out["steps"] if s["name"] == name)
    want = expected[name]
    for g, w in zip(got["losses"], want["losses"], strict=True):
        assert abs(g["d"] - w["d"]) <= TOLERANCE and abs(g["g"] - w["g"]) <= TOLERANCE, (g, w)
    for net in ("generator", "discriminator"):
        assert set(got[net]) == set(want[net])
        for key, values in want[net].items():
            diff = (torch.tensor(got[net][key]) - torch.tensor(values).flatten()).abs().max().item()
            assert diff <= TOLERANCE, f"{net}.{key} differs by {diff:.2e}"
    assert out["leaks"] == 0  # every tensor the engine made was disposed


def test_samplers_have_the_datasets_statistics(engine_run):
    out, _, _ = engine_run
    gen = torch.Generator().manual_seed(0)
    for name in TOY_DATASETS:
        js = torch.tensor(out["samples"][name]).reshape(-1, 2)
        py = sample_toy(name, SAMPLES, generator=gen)
        modes, std = toy_modes(name)
        if modes is not None:  # every mode used about equally, each point within a few std of its mode
            nearest = torch.cdist(js, modes).min(1)
            assert nearest.values.max() < 6 * std
            counts = torch.bincount(nearest.indices, minlength=len(modes)).float()
            assert counts.min() > 0.6 * SAMPLES / len(modes)
            assert abs(js.sub(modes[nearest.indices]).std().item() - std) < 0.1 * std
        radius_js, radius_py = js.norm(dim=1), py.norm(dim=1)
        assert abs(radius_js.mean() - radius_py.mean()) < 0.05 * radius_py.mean() + 0.01
        assert abs(radius_js.std() - radius_py.std()) < 0.08 * radius_py.std() + 0.01
        assert torch.allclose(js.mean(0), py.mean(0), atol=0.06 * math.sqrt(float(radius_py.pow(2).mean())))


def test_coverage_rule_gives_the_same_counts(engine_run):
    out, _, points = engine_run
    seen = set()
    for got, case in zip(out["coverage"], points, strict=True):
        want = toy_coverage(case["dataset"], torch.tensor(case["points"]))
        assert got["modes_covered"] == want["modes_covered"]
        assert got["mode_counts"] == want["mode_counts"]
        assert abs(got["high_quality"] - want["high_quality"]) < 1e-9
        seen.add(want["modes_covered"])
    assert len(seen) >= 3  # the cases cover full, partial and collapsed coverage


def test_spec_is_json_and_every_browser_preset_is_a_valid_config():
    spec = json.loads(json.dumps(browser_spec()))
    assert {p["slug"] for p in spec["presets"]} >= {"ring8-nonsaturating", "ring8-minimax-collapse", "ring8-wgan-gp"}
    for preset in spec["presets"]:
        config = TrainConfig(**preset["config"]).validate()  # the engine's config is a TrainConfig's fields
        assert config.toy_hidden <= spec["limits"]["toy_hidden"][1]
    assert spec["adam_eps"] == torch.optim.Adam([torch.zeros(1)]).defaults["eps"]
    modes, _ = toy_modes("grid25")
    assert torch.equal(torch.tensor(spec["datasets"]["grid25"]["modes"]), modes)
