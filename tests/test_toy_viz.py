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


def _luminance(rgb) -> float:
    c = np.asarray(rgb, float)[:3]
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def _contrast(a, b) -> float:
    low, high = sorted([_luminance(a), _luminance(b)])
    return (high + 0.05) / (low + 0.05)


def _scatter(fig, label: str):
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    return handles[labels.index(label)]


def test_generated_points_stay_visible_on_any_d_background():
    """Red points vanished into a confident D's red: now every colour of the heat map, as drawn (blended
    with white at the map's alpha), has >= 3:1 contrast (WCAG, large marks) with the points' fill or edge."""
    import matplotlib.pyplot as plt
    t = Trainer(TrainConfig(dataset="ring8", batch_size=64))
    t.step()
    fig = field_figure(toy_field(t, n_points=50, resolution=10, manifold_n=0))
    heat = fig.axes[0].images[0]
    alpha = heat.get_alpha()
    backgrounds = [alpha * np.asarray(heat.cmap(v)[:3]) + (1 - alpha) for v in np.linspace(0, 1, 101)]
    fake = _scatter(fig, "generated")
    fill, edge = fake.get_facecolor()[0], fake.get_edgecolor()[0]
    assert fake.get_linewidths()[0] > 0, "generated points have an outline"
    worst = min(max(_contrast(fill, bg), _contrast(edge, bg)) for bg in backgrounds)
    assert worst >= 3.0, worst
    plt.close(fig)


def test_one_palette_for_real_and_generated_everywhere():
    """Real points were green in the playground and blue in Learn section 4: every view takes gan_core.io.palette."""
    import io

    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from PIL import Image

    from app_pages.explore.points import points_chart
    from app_pages.learn.charts import densities_chart
    from app_shared.training_ui import charts
    from gan_core.io import palette
    from gan_core.io.images import points_png
    from gan_core.teach.lesson import optimum_report

    t = Trainer(TrainConfig(dataset="ring8", batch_size=64))
    t.step()
    fig = field_figure(toy_field(t, n_points=50, resolution=10, manifold_n=0))  # the playground
    assert mcolors.to_hex(_scatter(fig, "real").get_facecolor()[0]) == palette.REAL
    assert mcolors.to_hex(_scatter(fig, "generated").get_facecolor()[0]) == palette.FAKE
    plt.close(fig)

    # Learn section 4 and the Train page's toy samples (points_png): the pixels are the palette's colours
    rng = np.random.default_rng(0)
    png = points_png(rng.normal(1.0, 0.1, (300, 2)), real=rng.normal(-1.0, 0.1, (300, 2)))
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)

    def share_near(hex_colour: str) -> float:
        target = np.array(mcolors.to_rgb(hex_colour)) * 255
        return float((np.abs(pixels - target).max(1) < 40).mean())
    assert share_near(palette.FAKE) > 0.0005 and share_near("#d62728") == 0, "generated: orange, not the old red"
    assert share_near(palette.REAL) > 0.001 and share_near("#1f77b4") == 0, "real: green, not the old blue"

    def scale_of(spec: dict, field_name: str) -> dict[str, str]:
        found = {}

        def walk(node):
            if isinstance(node, dict):
                colour = node.get("color")
                if isinstance(colour, dict) and colour.get("field") == field_name and "scale" in colour:
                    found.update(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(spec)
        return found
    learn = scale_of(densities_chart(optimum_report(0.0, 1.0, 1.0)).to_dict(), "curve")
    assert learn["p_data(x)"] == palette.REAL and learn["p_g(x)"] == palette.FAKE
    explore = scale_of(points_chart(np.zeros((3, 2)), modes=np.ones((2, 2))).to_dict(), "what")
    assert explore["generated (1000 seeds)"] == palette.FAKE and explore["true modes"] == palette.REAL
    outputs = scale_of(charts.metric_spec("outputs", [{"step": 1, "d_real": 0.6, "d_fake": 0.4}]), "series")
    assert outputs["D(x) real"] == palette.REAL and outputs["D(G(z)) fake"] == palette.FAKE
