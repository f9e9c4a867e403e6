"""Altair charts of a training run: losses, D outputs, gradient norms, speed, quality metrics and, for a
progressive run, its resolution and fade-in alpha.

Every chart is built from plain copies of the job's history (rows, evals, events), smooths with
a rolling mean, shows raw and smoothed values on hover, marks hyper-parameter changes with a
labelled rule at their step, and can overlay earlier runs of this session (dashed) for comparison.
No Streamlit calls here: pages pass the returned specs to st.vega_lite_chart.

Speed matters: building Altair objects costs a lot of Python time (holding the GIL the training thread
needs) per chart (benchmarks/RESULTS.md). So the Altair part of each chart is built once per layout and cached as a
Vega-Lite spec that reads named datasets; a refresh only fills in fresh data (`*_spec` functions).
"""
from __future__ import annotations

import copy
import functools
from typing import Any

import altair as alt
import numpy as np
import pyarrow as pa

from gan_core.io import palette
from gan_core.nn.progressive import NUM_STAGES
from gan_core.train.stages import GROWTH_EVENT_PREFIX

CURRENT_RUN = "this run"
STEP_FORMAT = ",.0f"  # whole steps: a single point read "500.000000" with Vega's default format
VALUE_FORMAT = ".4~g"  # four significant digits: "1102", "0.35" (a single point read "1,102.056134")
# Legends go under the plot: on the right, long run labels took most of a half-width chart's width
LEGEND = {"orient": "bottom", "direction": "horizontal", "labelLimit": 320, "title": None}
SERIES_COLOURS = {"D(x) real": palette.REAL, "D(G(z)) fake": palette.FAKE}  # as on every page (palette.py)
MAX_POINTS = 400  # per series and run, after smoothing: enough for a 300-px chart, cheap to resend every second

CHARTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "losses": ("Losses", [("d_loss", "D loss"), ("g_loss", "G loss")]),
    "outputs": ("D(x) and D(G(z))", [("d_real", "D(x) real"), ("d_fake", "D(G(z)) fake")]),
    "grads": ("Gradient norms", [("d_grad_norm", "‖∇D‖"), ("g_grad_norm", "‖∇G‖")]),
    "speed": ("Images per second", [("images_per_s", "images/s")]),
}
NOT_METRICS = {"step", "epoch", "time"}
GROWTH_COLUMNS = [("resolution", "resolution"), ("fade_alpha", "fade-in α")]  # history keys of a growing run
GROWTH_COLOURS = {"resolution": palette.RESOLUTION, "fade-in α": palette.FADE_ALPHA}
GROWTH_HEADROOM = 1.2  # both y scales end 20% above their top value: the stage-change labels sit clear of the lines


LINES_SCHEMA = pa.schema([("step", pa.int64()), ("series", pa.string()), ("value", pa.float64()),
                          ("raw", pa.float64()), ("run", pa.string())])
EVENTS_SCHEMA = pa.schema([("step", pa.int64()), ("change", pa.string())])


def series_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], smoothing: int = 1,
                 run: str = CURRENT_RUN) -> pa.Table:
    """Rows -> a long Arrow table (step, series, value = mean of the last `smoothing` records, raw, run).

    Arrow, built from numpy columns: this runs for every live chart every second, and Streamlit sends
    an Arrow table as it is, where lists of dicts or DataFrames go through pandas first (most of a
    refresh at a few hundred rows: benchmarks/RESULTS.md)."""
    parts = []
    window = max(1, int(smoothing))
    for key, label in columns:
        pairs = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
        if not pairs:
            continue
        steps = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        raw = np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))
        keep = ~np.isnan(raw)
        steps, raw = steps[keep], raw[keep]
        if not len(raw):
            continue
        total = np.cumsum(raw)
        smooth = total.copy()
        smooth[window:] = total[window:] - total[:-window]
        smooth /= np.minimum(np.arange(1, len(raw) + 1), window)
        idx = np.arange(len(raw))
        if len(idx) > MAX_POINTS:  # keep the last point, thin the rest evenly
            stride = -(-len(idx) // MAX_POINTS)
            idx = np.concatenate([idx[:-1:stride], idx[-1:]])
        n = len(idx)
        parts.append(pa.table([steps[idx], pa.array([label] * n), smooth[idx], raw[idx], pa.array([run] * n)],
                              schema=LINES_SCHEMA))
    return pa.concat_tables(parts) if parts else LINES_SCHEMA.empty_table()


def events_table(events: list[tuple[int, str]]) -> pa.Table:
    """Hyper-parameter changes as (step, label); several changes at one step share a rule."""
    merged: dict[int, list[str]] = {}
    for step, text in events:
        merged.setdefault(int(step), []).append(text)
    return pa.table([list(merged), ["; ".join(texts) for texts in merged.values()]], schema=EVENTS_SCHEMA)


def _lines(data: alt.NamedData, title: str, height: int, log_y: bool, runs: list[str],
           series: tuple[str, ...] = ()) -> alt.Chart:
    y_scale = alt.Scale(type="symlog") if log_y else alt.Scale(zero=False)
    colours = [SERIES_COLOURS.get(s) for s in series]
    colour_scale = alt.Scale(domain=list(series), range=colours) if series and all(colours) else alt.Undefined
    series_legend = alt.Legend(**LEGEND) if len(series) != 1 else None  # one series: the title names it
    return alt.Chart(data, title=title, height=height).mark_line(clip=True).encode(
        x=alt.X("step:Q", title="step", axis=alt.Axis(format=STEP_FORMAT, tickMinStep=1)),
        y=alt.Y("value:Q", title=None, scale=y_scale, axis=alt.Axis(format=VALUE_FORMAT)),
        color=alt.Color("series:N", title=None, scale=colour_scale, legend=series_legend),
        strokeDash=alt.StrokeDash("run:N", title=None, scale=alt.Scale(domain=runs),
                                  legend=alt.Legend(**LEGEND) if len(runs) > 1 else None),
        opacity=alt.condition(alt.datum.run == CURRENT_RUN, alt.value(1.0), alt.value(0.45)),
        tooltip=[alt.Tooltip("run:N"), alt.Tooltip("series:N"), alt.Tooltip("step:Q"),
                 alt.Tooltip("value:Q", title="smoothed", format=".4g"), alt.Tooltip("raw:Q", format=".4g")],
    )


def _with_events(chart: alt.Chart, events: alt.NamedData) -> alt.LayerChart:
    """Dashed rules with labels at the steps where hyper-parameters changed (the dataset `events`)."""
    rules = alt.Chart(events).mark_rule(color="#888", strokeDash=[4, 3]).encode(
        x="step:Q", tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("change:N", title="changed")])
    # clipped to the plot: a change near the right edge used to write over the legend
    labels = alt.Chart(events).mark_text(align="left", baseline="top", dx=3, dy=2, fontSize=10, color="#555",
                                         clip=True).encode(x="step:Q", y=alt.value(0), text="change:N")
    return alt.layer(chart, rules, labels)


def quality_keys(evals: list[dict[str, Any]]) -> list[str]:
    """Numeric metrics present in the quality evaluations (class accuracy, Fréchet distance, ...)."""
    keys: list[str] = []
    for row in evals:
        for key, value in row.items():
            if key in NOT_METRICS or key in keys or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                keys.append(key)
    return keys


@functools.lru_cache(maxsize=128)
def _template(title: str, height: int, log_y: bool, runs: tuple[str, ...], with_events: bool, points: bool,
              presenter: bool, series: tuple[str, ...] = ()) -> dict[str, Any]:
    """The Vega-Lite spec of one chart layout, reading the named datasets "lines" and "events"."""
    chart = _lines(alt.NamedData("lines"), title, height, log_y, list(runs), series)
    if points:  # filled and large enough to see when a metric has a single evaluation so far
        chart = chart.mark_line(point=alt.OverlayMarkDef(filled=True, size=60), clip=True)
    if with_events:
        chart = _with_events(chart, alt.NamedData("events"))
    spec = styled(chart, presenter).to_dict(validate=False)
    # `height` is the plot's own: Streamlit's default (fit) took title, axes and legends out of it, so
    # overlaid runs' legends squeezed a quality chart's plot to a sliver. Only the width fits the column.
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def _spec(data: pa.Table, title: str, height: int, log_y: bool, events: list[tuple[int, str]],
          points: bool = False, presenter: bool = False, series: tuple[str, ...] = ()) -> dict[str, Any]:
    runs = tuple([CURRENT_RUN] + sorted(set(data.column("run").unique().to_pylist()) - {CURRENT_RUN}))
    spec = copy.deepcopy(_template(title, height, log_y, runs, bool(events), points, presenter, series))
    spec["datasets"] = {"lines": data}
    if events:
        spec["datasets"]["events"] = events_table(events)
    return spec


def _with_past_runs(rows: list[dict[str, Any]], past_runs: list[dict[str, Any]] | None, field: str,
                    columns: list[tuple[str, str]], smoothing: int = 1) -> pa.Table:
    """This run's series and the same series of each earlier run (its `field`: "rows" or "evals")."""
    return pa.concat_tables([series_table(rows, columns, smoothing)] +
                            [series_table(past.get(field, []), columns, smoothing, run=past["label"])
                             for past in past_runs or []])


def metric_spec(name: str, rows: list[dict[str, Any]], smoothing: int = 1,
                events: list[tuple[int, str]] | None = None, past_runs: list[dict[str, Any]] | None = None,
                height: int = 200, presenter: bool = False) -> dict[str, Any]:
    """One of CHARTS ("losses", "outputs", "grads", "speed") for this run and earlier runs, as a Vega-Lite
    spec built fast from a cached template (for live refreshes)."""
    title, columns = CHARTS[name]
    data = _with_past_runs(rows, past_runs, "rows", columns, smoothing)
    return _spec(data, title, height, name == "grads", events or [], presenter=presenter,
                 series=tuple(label for _, label in columns))


def quality_specs(evals: list[dict[str, Any]], events: list[tuple[int, str]] | None = None,
                  past_runs: list[dict[str, Any]] | None = None, height: int = 160,
                  presenter: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """One small chart spec per quality metric (their scales differ), earlier runs overlaid."""
    specs = []
    for key in quality_keys(evals):
        label = key.replace("_", " ")
        data = _with_past_runs(evals, past_runs, "evals", [(key, label)])
        specs.append((key, _spec(data, label, height, False, events or [], points=True, presenter=presenter,
                                 series=(label,))))
    return specs


@functools.lru_cache(maxsize=16)
def _growth_template(height: int, presenter: bool, with_events: bool, resolutions: tuple[int, ...]) -> dict[str, Any]:
    """Resolution (a step line, left axis in N×N) and fade-in alpha (right axis, 0..1) over steps, reading
    the named datasets "lines" and "events"."""
    colour = alt.Color("series:N", title=None, legend=alt.Legend(**LEGEND),
                       scale=alt.Scale(domain=list(GROWTH_COLOURS), range=list(GROWTH_COLOURS.values())))
    x = alt.X("step:Q", title="step", axis=alt.Axis(format=STEP_FORMAT, tickMinStep=1))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("step:Q", format=STEP_FORMAT),
               alt.Tooltip("raw:Q", title="value", format=".3~g")]
    base = alt.Chart(alt.NamedData("lines"))
    resolution = base.transform_filter(alt.datum.series == "resolution").mark_line(
        interpolate="step-after", clip=True).encode(
        x=x, color=colour, tooltip=tooltip,
        y=alt.Y("raw:Q", title="resolution", scale=alt.Scale(domain=[0, GROWTH_HEADROOM * max(resolutions)]),
                axis=alt.Axis(values=list(resolutions), labelExpr="datum.value + '×' + datum.value")))
    alpha = base.transform_filter(alt.datum.series == "fade-in α").mark_line(clip=True).encode(
        x=x, color=colour, tooltip=tooltip,
        y=alt.Y("raw:Q", title="fade-in α", scale=alt.Scale(domain=[0, GROWTH_HEADROOM]),
                axis=alt.Axis(orient="right", values=[0, 0.25, 0.5, 0.75, 1], format=".2~f")))
    chart: alt.TopLevelMixin = alt.layer(resolution, alpha).resolve_scale(y="independent")
    if with_events:
        chart = _with_events(chart, alt.NamedData("events"))
    chart = chart.properties(title="Resolution and fade-in α", height=height)
    spec = styled(chart, presenter).to_dict(validate=False)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


def growth_spec(rows: list[dict[str, Any]], events: list[tuple[int, str]] | None = None, size: int | None = None,
                height: int = 140, presenter: bool = False) -> dict[str, Any] | None:
    """A progressive run's resolution and fade-in alpha over steps, a rule where each stage starts to fade in;
    None for a run that does not grow (its rows have no resolution). `size`: the full image size (axis ticks at
    each stage's resolution; else at the resolutions seen so far)."""
    seen = {int(r["resolution"]) for r in rows if r.get("resolution") is not None}
    if not seen:
        return None
    resolutions = tuple(size >> k for k in range(NUM_STAGES - 1, -1, -1)) if size else tuple(sorted(seen))
    stage_events = [(step, text) for step, text in events or [] if text.startswith(GROWTH_EVENT_PREFIX)]
    spec = copy.deepcopy(_growth_template(height, presenter, bool(stage_events), resolutions))
    spec["datasets"] = {"lines": series_table(rows, GROWTH_COLUMNS)}
    if stage_events:
        spec["datasets"]["events"] = events_table(stage_events)
    return spec


def styled(chart: alt.TopLevelMixin, presenter: bool = False) -> alt.TopLevelMixin:
    """Bigger fonts for a projector in presenter mode."""
    if not presenter:
        return chart
    return chart.configure_axis(labelFontSize=16, titleFontSize=18).configure_legend(
        labelFontSize=16).configure_title(fontSize=20)
