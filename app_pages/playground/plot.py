"""The 2-D playground's picture (matplotlib): D's surface, real and fake points, G's gradient arrows, G's manifold.

Built from a `gan_core.teach.toy_viz.ToyField` (plain arrays), so tests can read the figure's data back:
the heat map is `ax.images[0]`, the arrows are the `Quiver` in `ax.collections`.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

from gan_core.io import palette  # noqa: E402
from gan_core.teach.toy_viz import ToyField  # noqa: E402

MAX_ARROWS = 64


def field_figure(field: ToyField, surface: bool = True, arrows: bool = True, manifold: bool = True,
                 real: bool = True, size: float = 5.5) -> Figure:
    """One square plot of the whole 2-D game at field.step."""
    fig, ax = plt.subplots(figsize=(size, size), dpi=100)
    e = field.extent
    if surface:
        vmin, vmax = (0.0, 1.0) if field.probability else (float(field.surface.min()), float(field.surface.max()))
        im = ax.imshow(field.surface, origin="lower", extent=(-e, e, -e, e), cmap=palette.D_MAP, vmin=vmin, vmax=vmax,
                       alpha=0.55, interpolation="bilinear")
        cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        cbar.set_label("D(x): real →" if field.probability else "critic score")
    if manifold and field.manifold is not None:
        m = field.manifold
        for i in range(m.shape[0]):
            ax.plot(m[i, :, 0], m[i, :, 1], color="#555", lw=0.6, alpha=0.6)
            ax.plot(m[:, i, 0], m[:, i, 1], color="#555", lw=0.6, alpha=0.6)
    if real:
        ax.scatter(field.real[:, 0], field.real[:, 1], s=5, c=palette.REAL, alpha=0.5, label="real")
    # orange with a dark edge: visible on D's blue and red alike (gan_core/io/palette.py)
    ax.scatter(field.fake[:, 0], field.fake[:, 1], s=12, c=palette.FAKE, alpha=0.9, edgecolors=palette.FAKE_OUTLINE,
               linewidths=palette.FAKE_OUTLINE_WIDTH, label="generated")
    if arrows and len(field.fake):
        n = min(MAX_ARROWS, len(field.fake))
        u, v = field.grads[:n, 0], field.grads[:n, 1]
        longest = float(np.hypot(u, v).max()) or 1.0
        # the longest arrow is drawn 10% of the view's width; the data stay the raw gradients
        ax.quiver(field.fake[:n, 0], field.fake[:n, 1], u, v, angles="xy", scale_units="xy",
                  scale=longest / (0.1 * 2 * e), width=0.004, color="#222", label="G's gradient")
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_aspect("equal")
    ax.set_title(f"step {field.step}")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    return fig


def heatmap_of(fig: Figure) -> np.ndarray:
    """The decision-surface array drawn in a field figure."""
    return np.asarray(fig.axes[0].images[0].get_array())


def arrows_of(fig: Figure) -> np.ndarray:
    """The arrow vectors (N x 2) drawn in a field figure."""
    quiver = next(c for c in fig.axes[0].collections if isinstance(c, Quiver))
    return np.stack([np.asarray(quiver.U), np.asarray(quiver.V)], 1)


def figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def current_field(job, n_points: int = 256, resolution: int = 60, manifold_n: int = 15) -> ToyField | None:
    """The job's toy views, computed by its worker between two training steps."""
    from gan_core.teach.toy_viz import toy_field
    trainer = job.trainer
    if trainer is None or trainer.kind != "points":
        return None
    return job.call(toy_field, n_points=n_points, resolution=resolution, manifold_n=manifold_n)


SPEEDS = (1, 2, 5, 10, 20, 50, 100)
MODES = ("Full speed", "Slow motion", "Step by step")


def playground_tick(job, mode: str, speed: int) -> int:
    """One refresh of the live area: in slow motion, queue `speed` steps (the job stays paused between)."""
    if job is None or not job.state.active:
        return 0
    if mode != "Full speed":
        job.pause()
    if mode == "Slow motion":
        job.step_once(speed)
        return speed
    return 0


def set_mode(job, mode: str) -> None:
    """Full speed lets the job run; the other modes keep it paused and step it on demand."""
    if job is None or not job.state.active:
        return
    if mode == "Full speed":
        job.resume()
    else:
        job.pause()
