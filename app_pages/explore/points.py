"""Scatter plots for 2-D (toy) generators: the generated cloud, the true modes, and the current sample."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from gan_core.data.datasets import TOY_DATASETS, toy_modes
from gan_core.io import palette

PLOT_LIMIT = 3.0  # both axes span [-PLOT_LIMIT, PLOT_LIMIT] (the browser's scatter gets it from here)


def mode_centres(dataset: str | None) -> np.ndarray | None:
    """The true mode centres of a toy dataset (None for continuous ones or unknown datasets)."""
    if dataset not in TOY_DATASETS:
        return None
    modes, _ = toy_modes(dataset)
    return None if modes is None else modes.cpu().numpy()


def points_chart(cloud: np.ndarray, current: np.ndarray | None = None, modes: np.ndarray | None = None,
                 path: np.ndarray | None = None, limit: float = PLOT_LIMIT, size: int = 380) -> alt.LayerChart:
    """Generated points (orange), true modes (green crosses), an optional path (purple), the current sample (red):
    the colours of gan_core/io/palette.py, as on every page."""
    frames = [pd.DataFrame({"x": cloud[:, 0], "y": cloud[:, 1], "what": "generated (1000 seeds)"})]
    if modes is not None:
        frames.append(pd.DataFrame({"x": modes[:, 0], "y": modes[:, 1], "what": "true modes"}))
    if current is not None:
        frames.append(pd.DataFrame({"x": current[:, 0], "y": current[:, 1], "what": "this sample"}))
    data = pd.concat(frames, ignore_index=True)
    scale = alt.Scale(domain=[-limit, limit])
    colours = alt.Scale(domain=["generated (1000 seeds)", "true modes", "this sample", "interpolation"],
                        range=[palette.FAKE, palette.REAL, palette.HIGHLIGHT, palette.PATH])
    base = alt.Chart(data, width=size, height=size).mark_point(filled=True).encode(
        x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale),
        color=alt.Color("what:N", scale=colours, title=None, legend=alt.Legend(orient="bottom", columns=2)),
        size=alt.condition(alt.datum.what == "this sample", alt.value(160), alt.value(14)),
        shape=alt.condition(alt.datum.what == "true modes", alt.value("cross"), alt.value("circle")))
    layers = [base]
    if path is not None:
        line = pd.DataFrame({"x": path[:, 0], "y": path[:, 1], "order": np.arange(len(path)), "what": "interpolation"})
        layers.append(alt.Chart(line).mark_line(point=True).encode(
            x=alt.X("x:Q", scale=scale), y=alt.Y("y:Q", scale=scale), order="order:Q",
            color=alt.Color("what:N", scale=colours, title=None)))
    return alt.layer(*layers)
