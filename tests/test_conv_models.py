"""The conv GAN family (dcgan, cgan-dcgan), version 2: shapes for grey 28x28 and RGB 32x32, the browser's size
budget and embedding input, spectral norm in D, training with DiffAugment and R1, and that checkpoints saved
with version 1's layout (no conv_arch in their JSON) still load as version 1."""
import json

import pytest
import torch

from app_pages.explore.browser_model import browser_gan, embedding_table
from gan_core import CheckpointError, TrainConfig, Trainer, load_checkpoint
from gan_core.io.checkpoint import PRETRAINED_DIR, save_checkpoint
from gan_core.io.onnx_export import export_generator
from gan_core.nn.models import (
    CONV_ARCH,
    ConvDiscriminator,
    ConvGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    build_models,
)
from tests.test_models_losses import tiny_images

BROWSER_ONNX_BYTES = 5 * 1024 * 1024  # issue 28: the emoji cGAN's ONNX file is at most 5 MB


@pytest.mark.parametrize("name, shape, classes, base", [
    ("dcgan", (1, 28, 28), None, 7), ("cgan-dcgan", (3, 32, 32), 9, 4), ("dcgan", (3, 32, 32), None, 4)])
def test_shapes_and_range(name, shape, classes, base):
    g, d = build_models(name, 16, shape, classes)
    assert isinstance(g, ConvGenerator) and isinstance(d, ConvDiscriminator) and g.base == base
    y = torch.arange(6) % classes if classes else None
    x = g(torch.randn(6, 16), y)
    assert x.shape == (6, *shape) and x.abs().max() <= 1
    assert d(x, y).shape == (6,)


def test_an_image_size_the_generator_cannot_reach_is_refused():
    with pytest.raises(ValueError, match="divisible by 2"):
        build_models("dcgan", 8, (1, 27, 27))


def test_class_labels_steer_the_conditional_generator():
    g, _ = build_models("cgan-dcgan", 16, (3, 32, 32), 9)
    g.eval()
    z = torch.randn(1, 16).repeat(9, 1)
    x = g(z, torch.arange(9))
    assert isinstance(g.embed, torch.nn.Embedding)
    assert (x[1:] - x[0]).abs().flatten(1).amax(1).min() > 1e-3  # each class gives another image of one z


def test_the_discriminator_is_spectrally_normalised():
    """Scaling a layer's raw weights does not change D: spectral norm divides them by their largest singular
    value (power iteration frozen in eval mode), which is what bounds D's gradients."""
    _, d = build_models("cgan-dcgan", 16, (3, 32, 32), 9)
    x, y = torch.randn(4, 3, 32, 32), torch.arange(4)
    d.train()
    for _ in range(30):  # let the power iteration converge
        d(x, y)
    d.eval()
    before = d(x, y)
    with torch.no_grad():
        d.features[2].parametrizations.weight.original.mul_(10.0)
    assert torch.allclose(d(x, y), before, rtol=1e-4, atol=1e-5)
    assert not any(isinstance(m, (torch.nn.Dropout, torch.nn.BatchNorm2d)) for m in d.modules())


def test_the_rgb_cgan_fits_the_browser_and_exports_with_parity(tmp_path):
    g, d = build_models("cgan-dcgan", 64, (3, 32, 32), 9)
    assert sum(p.numel() for p in g.parameters()) <= 1_200_000
    meta = {"model": "cgan-dcgan", "z_dim": 64, "image_shape": [3, 32, 32], "num_classes": 9}
    gan = load_checkpoint(save_checkpoint(tmp_path / "emoji", g, meta, d))
    model = export_generator(gan)
    assert len(model.data) <= BROWSER_ONNX_BYTES and model.max_abs_diff <= 1e-4


def test_the_browser_gets_the_class_embedding_as_input(tmp_path):
    g, d = build_models("cgan-dcgan", 8, (3, 32, 32), 5)
    meta = {"model": "cgan-dcgan", "z_dim": 8, "image_shape": [3, 32, 32], "num_classes": 5}
    gan = load_checkpoint(save_checkpoint(tmp_path / "c", g, meta, d))
    z, y = torch.randn(5, 8), torch.arange(5)
    table = embedding_table(gan)
    via_embedding = browser_gan(gan).generate(torch.cat([z, table[y]], 1))
    assert torch.equal(via_embedding, gan.generate(z, y))


def test_new_checkpoints_record_version_2_and_old_ones_load_as_version_1(tmp_path):
    g2, d2 = build_models("dcgan", 8, (1, 28, 28))
    meta = {"model": "dcgan", "z_dim": 8, "image_shape": [1, 28, 28]}
    path = save_checkpoint(tmp_path / "new", g2, meta, d2)
    assert json.loads(path.with_suffix(".json").read_text())["conv_arch"] == CONV_ARCH == 2
    assert isinstance(load_checkpoint(path).generator, ConvGenerator)

    g1, d1 = build_models("dcgan", 8, (1, 28, 28), conv_arch=1)
    path = save_checkpoint(tmp_path / "old", g1.eval(), meta, d1)
    json_path = path.with_suffix(".json")
    old_meta = json.loads(json_path.read_text())
    del old_meta["conv_arch"]  # as written before version 2 existed
    json_path.write_text(json.dumps(old_meta))
    gan = load_checkpoint(path)
    assert isinstance(gan.generator, DCGANGenerator) and isinstance(gan.discriminator, DCGANDiscriminator)
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(gan.generate(z), g1(z))


def test_a_shipped_version_1_checkpoint_still_loads():
    gan = load_checkpoint(PRETRAINED_DIR / "fashion-cgan.safetensors")
    assert isinstance(gan.generator, DCGANGenerator) and "conv_arch" not in gan.meta
    assert gan.generate(torch.randn(2, gan.z_dim), torch.tensor([0, 1])).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("bad", [3, 0, "2", True, 2.0])
def test_a_json_with_an_unknown_conv_arch_is_refused(tmp_path, bad):
    g, d = build_models("dcgan", 8, (1, 28, 28))
    path = save_checkpoint(tmp_path / "x", g, {"model": "dcgan", "z_dim": 8, "image_shape": [1, 28, 28]}, d)
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(dict(json.loads(json_path.read_text()), conv_arch=bad)))
    with pytest.raises(CheckpointError, match="conv_arch"):
        load_checkpoint(path)


def test_an_rgb_cgan_trains_with_augment_and_r1(tmp_path):
    data = tiny_images(n=32, classes=4, channels=3, size=32)
    cfg = TrainConfig(dataset="mnist", model="cgan-dcgan", z_dim=16, batch_size=16, augment=True, r1_gamma=1.0,
                      seed=0)
    trainer = Trainer(cfg, dataset=data, device="cpu")
    before = [p.detach().clone() for p in trainer.G.parameters()]
    rows = [trainer.step(record=True) for _ in range(3)]
    assert all(torch.isfinite(torch.tensor(list(v for v in r.values() if isinstance(v, float)))).all() for r in rows)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True))
    gan = load_checkpoint(trainer.save(tmp_path / "rgb"))
    assert gan.meta["conv_arch"] == 2 and gan.image_shape == (3, 32, 32)


def test_a_run_cannot_fork_from_a_checkpoint_of_another_layout(tmp_path):
    """The shipped fashion-cgan has the conv layout 1: continuing it in a layout-2 run is refused in one line."""
    old = load_checkpoint(PRETRAINED_DIR / "fashion-cgan.safetensors")
    assert getattr(old.generator, "conv_arch", None) == 1
    trainer = Trainer(TrainConfig(dataset="fashion", model="cgan-dcgan", data_limit=64, num_threads=1).validate())
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    with pytest.raises(ValueError, match="conv layout 1, this run builds layout 2"):
        trainer.load_weights(old)
    assert all(torch.equal(before[k], v) for k, v in trainer.G.state_dict().items()), "nothing was loaded"
