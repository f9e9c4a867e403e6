"""gan_core.lesson: the Learn page's numbers, checked against independent formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_core import lesson


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


def test_toy_gan_moves_the_generator_toward_the_data():
    run = lesson.train_toy_1d(steps=150, lr=0.05, g_mean=-1.0, data_mean=2.0)
    assert len(run.mu) == 150
    assert abs(run.mu[0] - 2.0) > 2.5
    assert run.final_mean_error < 1.0
    with pytest.raises(ValueError):
        lesson.train_toy_1d(steps=0)
