"""Altair charts for the Learn page, built from gan_core.teach.lesson results (tables first, so tests can check
them)."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from gan_core.io import palette
from gan_core.teach.lesson import OptimumReport, ToyRun, generator_losses

VIEW = (-6.0, 6.0)


def densities_frame(report: OptimumReport, every: int = 10) -> pd.DataFrame:
    """Long table of p_data, p_g and D* on the visible part of the grid."""
    keep = (report.x >= VIEW[0]) & (report.x <= VIEW[1])
    x = report.x[keep][::every]
    parts = [("p_data(x)", report.p_data[keep][::every]), ("p_g(x)", report.p_g[keep][::every]),
             ("D*(x)", report.d_star[keep][::every])]
    return pd.concat([pd.DataFrame({"x": x, "curve": name, "value": v}) for name, v in parts], ignore_index=True)


def densities_chart(report: OptimumReport) -> alt.LayerChart:
    data = densities_frame(report)
    lines = alt.Chart(data, height=280).mark_line().encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=list(VIEW))),
        y=alt.Y("value:Q", title="density / probability"),
        color=alt.Color("curve:N", title=None, scale=alt.Scale(
            domain=["p_data(x)", "p_g(x)", "D*(x)"], range=[palette.REAL, palette.FAKE, palette.D_STAR]),
            legend=alt.Legend(orient="bottom")),
        tooltip=["curve:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("value:Q", format=".3f")])
    rule = alt.Chart(pd.DataFrame({"x": [report.at_x]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(color=palette.D_STAR, opacity=0.3).encode(y="y:Q")
    return alt.layer(lines, rule, half)


def losses_frame(n: int = 199) -> pd.DataFrame:
    d = np.linspace(0.005, 0.995, n)
    out = generator_losses(d)
    rows = []
    for key, label, panel in (("minimax", "minimax: log(1 − D)", "loss"),
                              ("nonsaturating", "non-saturating: −log D", "loss"),
                              ("minimax_grad_logit", "minimax: ∂/∂logit", "gradient"),
                              ("nonsaturating_grad_logit", "non-saturating: ∂/∂logit", "gradient")):
        rows.append(pd.DataFrame({"D(G(z))": d, "curve": label, "panel": panel, "value": out[key]}))
    return pd.concat(rows, ignore_index=True)


def losses_chart(at_d: float) -> alt.HConcatChart:
    data = losses_frame()
    charts = []
    for panel, title in (("loss", "Generator loss (G minimises it)"),
                         ("gradient", "Gradient w.r.t. D's logit (what reaches G)")):
        part = data[data.panel == panel]
        line = alt.Chart(part, title=title, height=240, width=320).mark_line().encode(
            x=alt.X("D(G(z)):Q"), y=alt.Y("value:Q", title=None),
            color=alt.Color("curve:N", title=None, legend=alt.Legend(orient="bottom", columns=1)),
            tooltip=["curve:N", alt.Tooltip("D(G(z)):Q", format=".3f"), alt.Tooltip("value:Q", format=".3f")])
        rule = alt.Chart(pd.DataFrame({"d": [at_d]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="d:Q")
        charts.append(alt.layer(line, rule))
    return alt.hconcat(*charts)


def toy_frame(runs: dict[str, ToyRun], every: int = 2) -> pd.DataFrame:
    parts = []
    for label, run in runs.items():
        parts.append(pd.DataFrame({"step": run.steps[::every], "run": label, "series": "generator mean μ",
                                   "value": run.mu[::every]}))
        parts.append(pd.DataFrame({"step": run.steps[::every], "run": label, "series": "generator std σ",
                                   "value": run.sigma[::every]}))
    return pd.concat(parts, ignore_index=True)


def toy_chart(runs: dict[str, ToyRun]) -> alt.LayerChart:
    data = toy_frame(runs)
    first = next(iter(runs.values()))
    lines = alt.Chart(data, height=260).mark_line().encode(
        x="step:Q", y=alt.Y("value:Q", title=None), color=alt.Color("run:N", title=None),
        strokeDash=alt.StrokeDash("series:N", title=None),
        tooltip=["run:N", "series:N", "step:Q", alt.Tooltip("value:Q", format=".3f")])
    targets = pd.DataFrame({"y": [first.data_mean, first.data_std], "target": ["data mean", "data std"]})
    rules = alt.Chart(targets).mark_rule(color=palette.REAL, strokeDash=[2, 2]).encode(
        y="y:Q", tooltip=["target:N", "y:Q"])
    return alt.layer(lines, rules)
