"""gan_core.teach.lesson: the Learn page's numbers, checked against independent formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_core.teach import lesson


def normal_pdf(x: float, m: float, s: float) -> float:
    return math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


@pytest.mark.parametrize("g_mean,g_std,at", [(0.0, 1.0, 0.5), (2.0, 0.3, 1.8), (-3.5, 2.0, -2.0)])
def test_d_star_at_a_point_matches_the_formula(g_mean, g_std, at):
    report = lesson.optimum_report(g_mean, g_std, at)
    p_data = 0.5 * normal_pdf(at, -2, 0.6) + 0.5 * normal_pdf(at, 2, 0.6)
    p_g = normal_pdf(at, g_mean, g_std)
    assert report.p_data_at_x == pytest.approx(p_data, rel=1e-9)
    assert report.p_g_at_x == pytest.approx(p_g, rel=1e-9)
    assert report.d_star_at_x == pytest.approx(p_data / (p_data + p_g), rel=1e-9)


@pytest.mark.parametrize("g_mean,g_std", [(0.0, 1.0), (2.0, 0.6), (-4.0, 0.2), (4.0, 3.0)])
def test_value_at_optimum_equals_minus_log4_plus_2_jsd(g_mean, g_std):
    report = lesson.optimum_report(g_mean, g_std)
    assert report.value == pytest.approx(report.value_from_jsd, abs=1e-6)
    assert -math.log(4) - 1e-9 <= report.value <= 1e-9
    assert 0 <= report.jsd <= math.log(2) + 1e-9


def test_value_is_minimal_when_the_generator_matches_the_data():
    x = lesson.x_grid()
    p = lesson.DATA_1D.pdf(x)
    assert lesson.value_at_optimum(p, p, x) == pytest.approx(-math.log(4), abs=1e-6)
    assert lesson.jsd(p, p, x) == pytest.approx(0.0, abs=1e-9)
    # D* is the best discriminator: any other D gives a lower V
    q = lesson.gaussian(0.0, 1.0).pdf(x)
    d_star = lesson.optimal_discriminator(p, q)
    assert lesson.value(d_star, p, q, x) == pytest.approx(lesson.value_at_optimum(p, q, x), abs=1e-6)
    assert lesson.value(np.full_like(x, 0.5), p, q, x) < lesson.value(d_star, p, q, x) - 0.01


def test_optimal_discriminator_is_half_where_both_densities_vanish():
    assert lesson.optimal_discriminator(0.0, 0.0) == 0.5
    assert lesson.optimal_discriminator(1.0, 0.0) == 1.0


def test_generator_loss_gradients_match_autograd():
    d = np.array([0.01, 0.2, 0.5, 0.9])
    out = lesson.generator_losses(d)
    logits = torch.tensor(np.log(d / (1 - d)), requires_grad=True)
    for name, fn in (("minimax", lambda p: torch.log1p(-p)), ("nonsaturating", lambda p: -torch.log(p))):
        (grad,) = torch.autograd.grad(fn(torch.sigmoid(logits)).sum(), logits)
        assert np.allclose(out[f"{name}_grad_logit"], grad.numpy(), atol=1e-9)
        p = torch.tensor(d, requires_grad=True)
        (grad_d,) = torch.autograd.grad(fn(p).sum(), p)
        assert np.allclose(out[f"{name}_grad_d"], grad_d.numpy(), rtol=1e-9)
    # the saturation story: near D(G(z)) = 0 the minimax gradient vanishes, the non-saturating one does not
    assert abs(out["minimax_grad_logit"][0]) < 0.02 < 0.98 < abs(out["nonsaturating_grad_logit"][0])


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax"])
def test_toy_gradients_match_autograd_on_the_engine_losses(loss):
    from gan_core.nn.losses import bce_d_loss, get_loss

    rng = np.random.default_rng(1)
    real, z = 2 + 0.5 * rng.standard_normal(64), rng.standard_normal(64)
    params = {"abc": np.array([0.3, -0.7, 0.2]), "g": np.array([-1.0, math.log(1.3)])}
    grad_d, grad_g, _ = lesson.toy_gradients(params, real, z, loss)
    abc = torch.tensor(params["abc"], requires_grad=True)
    g = torch.tensor(params["g"], requires_grad=True)
    s = lesson.TOY_FEATURE_SCALE
    logit = lambda x: abc[0] * (s * x) ** 2 + abc[1] * s * x + abc[2]  # noqa: E731
    fake = g[0] + torch.exp(g[1]) * torch.tensor(z)
    (gd,) = torch.autograd.grad(bce_d_loss(logit(torch.tensor(real)), logit(fake.detach())), abc)
    (gg,) = torch.autograd.grad(get_loss(loss).g_loss(logit(fake)), g)
    assert np.allclose(grad_d, gd.numpy(), atol=1e-10)
    assert np.allclose(grad_g, gg.numpy(), atol=1e-10)


def test_toy_gan_moves_the_generator_toward_the_data():
    run = lesson.train_toy_1d(steps=300, lr=0.05, g_mean=-1.0, data_mean=2.0)
    assert len(run.mu) == 300
    assert abs(run.mu[0] - 2.0) > 2.5
    assert run.final_mean_error < 0.3
    assert abs(run.d_real[-1] - 0.5) < 0.1 and abs(run.d_fake[-1] - 0.5) < 0.1  # near equilibrium
    with pytest.raises(ValueError):
        lesson.train_toy_1d(steps=0)
