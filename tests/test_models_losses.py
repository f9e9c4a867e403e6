"""Every model x loss: shapes, one step stays finite, gradients reach both nets."""
import itertools

import pytest
import torch

from gan_core import LOSS_NAMES, MODEL_NAMES, TrainConfig, Trainer, build_models, get_loss
from gan_core.data.datasets import Dataset
from gan_core.nn.augment import diff_augment
from gan_core.nn.losses import gradient_penalty, r1_penalty


def tiny_images(n=64, classes=10, channels=1, size=28) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, channels, size, size, generator=g) * 2 - 1
    y = torch.arange(n) % classes
    return Dataset("tiny", "image", (channels, size, size), tuple(str(i) for i in range(classes)), "test", "", x, y)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_model_shapes(model):
    if model == "toy":
        g, d = build_models("toy", 2)
        z = torch.randn(5, 2)
        assert g(z).shape == (5, 2)
        assert d(g(z)).shape == (5,)
        return
    g, d = build_models(model, 16, (1, 28, 28), 10)
    y = torch.arange(5)
    x = g(torch.randn(5, 16), y)
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x, y).shape == (5,)


def test_dcgan_32px_rgb():
    g, d = build_models("cgan-dcgan", 8, (3, 32, 32), 4)
    y = torch.tensor([0, 3])
    x = g(torch.randn(2, 8), y)
    assert x.shape == (2, 3, 32, 32)
    assert d(x, y).shape == (2,)


def test_conditional_models_need_labels():
    g, d = build_models("cgan-mlp", 8, (1, 28, 28), 10)
    with pytest.raises(ValueError, match="conditional"):
        g(torch.randn(2, 8))


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown model"):
        build_models("resnet", 8, (1, 28, 28))
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("bce2")


@pytest.mark.parametrize("model,loss",
                         list(itertools.product(["mlp", "cgan-mlp", "cgan-mlp-proj", "dcgan", "cgan-dcgan", "toy"],
                                                LOSS_NAMES)))
def test_one_step_is_finite_and_trains_both_nets(model, loss):
    toy = model == "toy"
    cfg = TrainConfig(dataset="ring8" if toy else "mnist", model=model, loss=loss, z_dim=8, batch_size=16,
                      n_critic=1 if loss == "wgan-gp" else None, device="cpu")
    trainer = Trainer(cfg, dataset=None if toy else tiny_images())
    g_before = [p.detach().clone() for p in trainer.G.parameters()]
    d_before = [p.detach().clone() for p in trainer.D.parameters()]
    row = trainer.step(record=True)
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "images_per_s"):
        assert torch.isfinite(torch.tensor(row[key])), key
    assert row["g_grad_norm"] > 0 and row["d_grad_norm"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, trainer.D.parameters(), strict=True))


def test_losses_on_known_values():
    real, fake = torch.tensor([10.0]), torch.tensor([-10.0])
    assert get_loss("nonsaturating").d_loss(real, fake).item() < 1e-3  # D is right: no loss
    # non-saturating G loss is large when D rejects fakes; minimax G loss is then near its floor 0 (saturated)
    assert get_loss("nonsaturating").g_loss(fake).item() == pytest.approx(10.0, abs=1e-3)
    assert get_loss("minimax").g_loss(fake).item() == pytest.approx(0.0, abs=1e-3)
    assert get_loss("hinge").d_loss(torch.tensor([0.0]), torch.tensor([0.0])).item() == pytest.approx(2.0)
    assert get_loss("lsgan").g_loss(torch.tensor([1.0])).item() == 0.0
    assert get_loss("wgan-gp").d_loss(torch.tensor([3.0]), torch.tensor([1.0])).item() == -2.0
    assert get_loss("wgan-gp").default_n_critic == 5


def test_minimax_gradient_vanishes_where_nonsaturating_does_not():
    logit = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ~ 3e-4: D wins
    (g_mm,) = torch.autograd.grad(get_loss("minimax").g_loss(logit), logit)
    (g_ns,) = torch.autograd.grad(get_loss("nonsaturating").g_loss(logit), logit)
    assert abs(g_mm.item()) < 1e-3 < abs(g_ns.item())


def test_label_smoothing_changes_real_target():
    real, fake = torch.tensor([5.0]), torch.tensor([-5.0])
    plain = get_loss("nonsaturating").d_loss(real, fake)
    smooth = get_loss("nonsaturating").d_loss(real, fake, 0.1)
    assert smooth > plain + 0.3  # an over-confident D is penalised


def test_penalties_are_positive_and_differentiable():
    _, d = build_models("toy", 2)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = gradient_penalty(d, real, fake)
    r1 = r1_penalty(d, real)
    assert gp.item() > 0 and r1.item() > 0
    gp.backward()
    weights = [p for name, p in d.named_parameters() if name.endswith('weight')]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)  # biases don't shape grad D(x)


def test_diff_augment_keeps_shape_and_changes_images():
    x = torch.rand(4, 1, 28, 28)
    y = diff_augment(x)
    assert y.shape == x.shape
    assert not torch.equal(x, y)
    assert (y == 0).float().mean() > 0.1  # cutout zeroed a square
    pts = torch.randn(4, 2)
    assert torch.equal(diff_augment(pts), pts)


def test_r1_and_augment_options_train():
    cfg = TrainConfig(dataset="mnist", model="dcgan", r1_gamma=1.0, augment=True, label_smoothing=0.1,
                      ema_decay=0.99, z_dim=8, batch_size=8)
    trainer = Trainer(cfg, dataset=tiny_images(32))
    for _ in range(3):
        row = trainer.step(record=True)
    assert all(torch.isfinite(torch.tensor(v)) for v in row.values())
    assert trainer.ema is not None
    assert any(not torch.equal(a, b) for a, b in zip(trainer.ema.parameters(), trainer.G.parameters(), strict=True))


def test_projection_discriminator_scores_the_label_and_keeps_cgan_mlp_tensor_names():
    """cgan-mlp-proj adds <embed(y), h> to cgan-mlp's D; cgan-mlp's D keeps its tensors (old checkpoints load)."""
    torch.manual_seed(0)
    _, plain = build_models("cgan-mlp", 8, (1, 28, 28), 10)
    _, proj = build_models("cgan-mlp-proj", 8, (1, 28, 28), 10)
    assert set(proj.state_dict()) == set(plain.state_dict()) | {"project.weight"}
    assert proj.project.weight.shape == (10, 256)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    proj.eval()
    a, b = proj(x, torch.zeros(4, dtype=torch.long)), proj(x, torch.ones(4, dtype=torch.long))
    with torch.no_grad():
        h = proj.net[:-1](proj.with_label(x.flatten(1), torch.zeros(4, dtype=torch.long)))
        expected = proj.net[-1](h).squeeze(1) + h @ proj.project.weight[0]
    assert torch.allclose(a, expected, atol=1e-5) and not torch.allclose(a, b)
    with torch.no_grad():
        proj.project.weight.zero_()
    plain.load_state_dict({k: v for k, v in proj.state_dict().items() if k != "project.weight"})
    plain.eval()
    assert torch.allclose(proj(x, torch.zeros(4, dtype=torch.long)), plain(x, torch.zeros(4, dtype=torch.long)))


def test_ema_warms_up_then_uses_its_decay():
    from gan_core.train.trainer import ema_warmup
    assert ema_warmup(0.999, 0) == pytest.approx(0.1)
    assert ema_warmup(0.999, 90) == pytest.approx(0.91)
    assert ema_warmup(0.999, 10_000) == 0.999 and ema_warmup(0.99, 5000) == 0.99
    cfg = TrainConfig(dataset="mnist", model="cgan-mlp-proj", z_dim=8, batch_size=8, ema_decay=0.999)
    trainer = Trainer(cfg, dataset=tiny_images(32))
    for _ in range(5):
        trainer.step()
    # after 5 steps a plain 0.999 average would still be ~99.5% the random start; the warm-up follows G
    start = Trainer(cfg, dataset=tiny_images(32)).ema
    moved = sum((e - s).norm() for e, s in zip(trainer.ema.parameters(), start.parameters(), strict=True))
    gap = sum((e - g).norm() for e, g in zip(trainer.ema.parameters(), trainer.G.parameters(), strict=True))
    assert gap < moved


def test_dataset_defaults_are_the_measured_recipes():
    """None fields resolve per dataset: mnist/fashion get the new recipe, toys keep theirs, folders a DCGAN."""
    for name in ("mnist", "fashion"):
        cfg = TrainConfig(dataset=name).resolved()
        assert (cfg.model, cfg.lr_g, cfg.lr_d, cfg.ema_decay, cfg.batch_size, cfg.loss) == \
            ("cgan-mlp-proj", 5e-4, 2e-4, 0.999, 64, "nonsaturating")  # a slower D (TTUR)
    toy = TrainConfig(dataset="ring8").resolved()
    assert (toy.model, toy.lr_g, toy.lr_d, toy.ema_decay, toy.batch_size, toy.beta1) == \
        ("toy", 1e-3, 1e-3, 0.0, 256, 0.0)  # Adam without momentum (benchmarks/toy_defaults.py)
    assert TrainConfig(dataset="mnist").resolved().beta1 == 0.5  # DCGAN's, for the images
    assert TrainConfig(dataset="ring8").d_beta1() == 0.0 and TrainConfig(dataset="ring8", beta1=0.5).d_beta1() == 0.5
    conv = TrainConfig(dataset="mnist", model="cgan-dcgan").resolved()
    assert (conv.lr_g, conv.lr_d, conv.ema_decay) == (2e-4, 2e-4, 0.999)  # cgan-dcgan keeps DCGAN's Adam 2e-4
    folder = TrainConfig(dataset="folder:/x").resolved()
    assert (folder.model, folder.lr_g, folder.lr_d, folder.ema_decay) == ("dcgan", 5e-4, 2e-4, 0.999)  # TTUR
    given = TrainConfig(dataset="mnist", lr_g=1e-4, ema_decay=0.0).resolved()
    assert (given.lr_g, given.lr_d, given.ema_decay) == (1e-4, 2e-4, 0.0)  # what is given stays
    assert TrainConfig(dataset="mnist", model="cgan-mlp").resolved().lr_d == 5e-4  # the other MLPs: D as G
    assert "--lr-g" not in TrainConfig(dataset="mnist").command() and "--ema-decay 0.0" in given.command()
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(dataset="mnist", ema_decay=0.2).validate()
