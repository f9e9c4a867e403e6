"""gan_core.teach.toy_viz and the playground figure: checked on the arrays, not just "it draws"."""
import numpy as np
import pytest
import torch

from app_pages.playground.plot import MAX_ARROWS, arrows_of, field_figure, heatmap_of
from gan_core import TrainConfig, Trainer
from gan_core.nn.losses import get_loss
from gan_core.nn.models import ToyDiscriminator, ToyGenerator
from gan_core.teach.toy_viz import decision_surface, generator_gradients, generator_manifold, toy_field


@pytest.fixture
def nets():
    torch.manual_seed(1)
    return ToyGenerator(2), ToyDiscriminator()


def test_decision_surface_is_d_on_the_grid(nets):
    _, d = nets
    xs, ys, surf = decision_surface(d, extent=3.0, resolution=21)
    assert surf.shape == (21, 21) and xs[0] == -3 and xs[-1] == 3
    assert 0 <= surf.min() and surf.max() <= 1
    i, j = 4, 17  # row = y index, column = x index
    expect = torch.sigmoid(d(torch.tensor([[xs[j], ys[i]]]))).item()
    assert surf[i, j] == pytest.approx(expect, rel=1e-5)
    _, _, raw = decision_surface(d, 3.0, 21, probability=False)
    assert raw[i, j] == pytest.approx(d(torch.tensor([[xs[j], ys[i]]])).item(), rel=1e-5)


def test_generator_gradients_point_up_the_discriminator(nets):
    g, d = nets
    z = torch.randn(64, 2)
    pts, grads = generator_gradients(g, d, get_loss("nonsaturating"), z)
    assert pts.shape == grads.shape == (64, 2)
    assert np.allclose(pts, g(z).detach().numpy(), atol=1e-6)
    # -dL/dx for -log D(x) is a positive multiple of dD/dx: a finite difference must agree in direction
    eps = 1e-3
    for k in range(5):
        x = torch.tensor(pts[k])
        fd = np.array([(d((x + eps * e)[None]) - d((x - eps * e)[None])).item() / (2 * eps)
                       for e in torch.eye(2)])
        cos = fd @ grads[k] / (np.linalg.norm(fd) * np.linalg.norm(grads[k]))
        assert cos > 0.99
    assert all(p.grad is None for p in list(g.parameters()) + list(d.parameters()))  # models untouched


def test_manifold_is_g_on_a_z_grid(nets):
    g, _ = nets
    m = generator_manifold(g, 2, n=7, extent=2.0)
    assert m.shape == (7, 7, 2)
    corner = g(torch.tensor([[2.0, -2.0]])).detach().numpy()[0]  # z = (u[-1], u[0]) is row 0, last column
    assert np.allclose(m[0, -1], corner, atol=1e-5)


def test_field_figure_holds_the_field_data():
    t = Trainer(TrainConfig(dataset="ring8", batch_size=64, lr_g=1e-3, lr_d=1e-3))
    for _ in range(20):
        t.step()
    field = toy_field(t, n_points=200, resolution=40, manifold_n=9)
    assert field.surface.shape == (40, 40) and field.fake.shape == (200, 2) and field.manifold.shape == (9, 9, 2)
    assert field.real.shape[1] == 2 and np.abs(field.real).max() < 3
    assert field.coverage["num_modes"] == 8
    fig = field_figure(field)
    assert np.array_equal(heatmap_of(fig), field.surface)
    arrows = arrows_of(fig)
    assert arrows.shape == (min(MAX_ARROWS, 200), 2)
    assert np.allclose(arrows, field.grads[:len(arrows)])
    assert np.abs(arrows).sum() > 0
    import matplotlib.pyplot as plt
    plt.close(fig)
    t2 = Trainer(TrainConfig(dataset="ring8", loss="wgan-gp", batch_size=32))
    critic = toy_field(t2, n_points=10, resolution=8, manifold_n=0)
    assert not critic.probability and critic.manifold is None
