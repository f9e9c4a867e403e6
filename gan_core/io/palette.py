"""One palette for real and generated data on every page: the playground plot, Learn's charts, Explore's points,
the Train page's point samples and its D(x) / D(G(z)) chart.

Real data is green, generated data orange with a dark outline. The outline keeps generated points visible
on the playground's D heat map at any value (RdBu: blue = "real" ... red = "fake"): the earlier red points
vanished into the red of a confident D (contrast 1.3:1); with the outline the worst case is 5:1
(tests/test_toy_viz.py checks every colour of the map).
"""
from __future__ import annotations

REAL = "#1a9850"  # green: real data, p_data, the true modes
FAKE = "#ff7f0e"  # orange: generated data G(z), p_g
FAKE_OUTLINE = "#111111"  # the dark edge drawn around generated points
FAKE_OUTLINE_WIDTH = 0.6  # points (matplotlib linewidths)
HIGHLIGHT = "#d62728"  # red: the one current sample on Explore
PATH = "#6a3d9a"  # purple: an interpolation path between samples
D_STAR = "#1f77b4"  # blue: the discriminator's curve D*(x)
RESOLUTION = "#555555"  # dark grey: the resolution a progressive run trains at (Train page)
FADE_ALPHA = "#9467bd"  # violet: the fade-in alpha of a progressive run's new stage (Train page)
D_MAP = "RdBu"  # the playground's heat map of D(x): blue = "real", red = "fake"
