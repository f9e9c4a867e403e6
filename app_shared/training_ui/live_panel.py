"""The live panel: status line, warnings, charts and samples of the session's job, re-drawn every second.

`live_data` copies what the panel shows out of the job (live_data.live_panel_data: a LivePanelData, no
Streamlit, safe while the job runs);
`live_panel` draws it in an st.fragment that reruns on a timer while the job is active.
The 2-D playground reuses the data, the status line, the warnings and the state tracking.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from app_shared.training_ui import charts, growth, queue_view
from app_shared.training_ui.live_data import LivePanelData, live_panel_data
from app_shared.training_ui.scope import FormScope, keep_flash_for_rerun
from app_shared.training_ui.session_job import past_runs, session_job
from gan_core import JobState, JobStatus, WorkerJob
from gan_core.eval.diagnostics import Diagnosis
from gan_core.eval.metrics import MODES_COVERED_RULE
from gan_core.io.images import grid, png_bytes, points_png

SAMPLE_PNG_KEY = "_sample_png"
# A chart's toolbar (fullscreen, download) floats 44 px above it on hover: without this gap it covered the
# end of the status line (tests/test_browser_charts.py measures it)
TOOLBAR_CLEARANCE = 24
LAST_STATE_KEY = "_last_job_state"


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def status_line(status: JobStatus, kind: str | None, held_as: str | None = None) -> str:
    """One line of the job's state and speed. `held_as` names what a page calls a job it keeps paused between
    the steps it asks for itself (the playground's slow motion), so the line does not read "paused"."""
    epoch = {"image": f"epoch {status.epoch:.2f}", "points": "epoch — (toy data is endless)"}.get(kind, "epoch —")
    state = held_as if held_as and status.state == JobState.PAUSED else status.state.value
    return (f"**{state}** · device {status.device or '…'} · step {status.step:,} · {epoch} · "
            f"{status.images_per_s:,.0f} images/s · elapsed {_fmt_seconds(status.elapsed)} · "
            f"ETA {_fmt_seconds(status.eta)}")


def live_data(job: WorkerJob) -> LivePanelData:
    """Copies of everything the live panel shows; reading them marks the job as watched."""
    job.touch()
    return live_panel_data(job)


def show_diagnoses(diagnoses: list[Diagnosis]) -> None:
    for d in diagnoses:
        getattr(st, d.level)(d.text)


def toy_limit(dataset: str) -> float:
    """Half the width of a toy dataset's view (imported late: only toy runs need it)."""
    from gan_core.teach.toy_viz import view_extent
    return view_extent(dataset)


def sample_png(data: LivePanelData, presenter: bool = False) -> tuple[int, bytes] | None:
    """The latest snapshot as PNG bytes, made at most once per snapshot (cached in session state)."""
    snap = data.snapshot
    if snap is None:
        return None
    step, arr = snap
    cache = st.session_state.get(SAMPLE_PNG_KEY)
    key = (id(session_job()), step, presenter)
    if cache and cache[0] == key:
        return step, cache[1]
    if data.kind == "image":
        nrow = 8 if data.conditional else None
        png = png_bytes(grid(arr, nrow=nrow, scale=3 if presenter else 2), compress_level=1)  # a new one every few s
    else:
        import torch

        from gan_core.data.datasets import sample_toy
        real = sample_toy(data.dataset, 512, generator=torch.Generator().manual_seed(0)).numpy()
        png = points_png(arr, real, limit=toy_limit(data.dataset), size=6 if presenter else 4)
    st.session_state[SAMPLE_PNG_KEY] = (key, png)
    return step, png


def track_state_change(job: WorkerJob) -> None:
    """Rerun the whole page when the job's state changed (so the buttons match it)."""
    now = (id(job), job.state.value)
    before = st.session_state.get(LAST_STATE_KEY)
    st.session_state[LAST_STATE_KEY] = now
    if before is not None and before != now:
        keep_flash_for_rerun()  # a button's message would go with the run it was shown in
        st.rerun(scope="app")


def compare_picker(scope: FormScope) -> list[dict[str, Any]]:
    """Which earlier runs of this session to overlay on the charts.

    A stopped or finished run is archived but still on the charts as "this run": it is not offered
    again (it was drawn over itself as "run 1", doubling the legend).
    """
    current = session_job()
    runs = [r for r in past_runs() if current is None or r.get("job_id") != id(current)]
    if not runs:
        return []
    labels = [r["label"] for r in runs]
    chosen = st.multiselect("Overlay earlier runs", labels, default=labels[-2:], key=scope.key("compare"))
    return [r for r in runs if r["label"] in chosen]


def _draw_live_panel(presenter: bool, smoothing: int, compare: list[dict[str, Any]], height: int) -> None:
    """Status, warnings, charts and samples from copies of the job's history."""
    if presenter:
        queue_view.whole_queue()
    job = session_job()
    if job is None and queue_view.waiting():
        return  # the controls show its place in the queue
    if job is None:
        st.info("Choose a set-up (or a preset) and press **Start**.")
        return
    data = live_data(job)
    line, stage_note = status_line(data.status, data.kind), growth.growth_status(data.rows)
    st.markdown(line if stage_note is None else f"{line} · {stage_note}")  # a progressive run: its resolution and α
    show_diagnoses(data.diagnoses)
    st.space(TOOLBAR_CLEARANCE)
    left, right = st.columns([3, 2]) if not presenter else st.columns([1, 1])
    with left:
        loss = job.trainer.config.loss if job.trainer is not None else job.config.loss
        if loss not in ("minimax", "nonsaturating"):
            st.caption(f"With the {loss} loss D outputs a score, not a probability: the D(x) chart shows "
                       "sigmoid(score), useful only as a trend.")
        size = data.stages[-1].size if data.stages else None
        growth_spec = charts.growth_spec(data.rows, data.events, size, presenter=presenter)  # None: not growing
        if growth_spec is not None:
            st.vega_lite_chart(spec=growth_spec, width="stretch")
        for name in ("losses", "outputs", "grads", "speed"):
            spec = charts.metric_spec(name, data.rows, smoothing, data.events, compare, height, presenter)
            st.vega_lite_chart(spec=spec, width="stretch")
        quality = charts.quality_specs(data.evals, data.events, compare, presenter=presenter)
        for i in range(0, len(quality), 2):
            for col, (_, spec) in zip(st.columns(2), quality[i:i + 2], strict=False):
                col.vega_lite_chart(spec=spec, width="stretch")
    with right:
        sample = sample_png(data, presenter)
        if sample is not None:
            rows_note = ""
            if data.conditional and data.num_classes:
                rows_note = f"; row k shows class k (0…{data.num_classes - 1})"
            st.image(sample[1], caption=f"Samples from fixed noise, step {sample[0]}{rows_note}", width="stretch",
                     output_format="PNG")  # sent as made: "auto" re-encodes PNG bytes as JPEG every second
        growth.draw_stage_samples(data.stages, id(job), presenter)
        if data.spread is not None:
            s = data.spread
            st.metric("Modes covered", f"{s['modes_covered']} / {s['num_modes']}", help=MODES_COVERED_RULE)
    track_state_change(job)


def live_panel(presenter: bool, smoothing: int, compare: list[dict[str, Any]], height: int) -> None:
    """Draw the panel in a fragment that re-draws itself every second while the session's job is active."""
    job = session_job()
    live = (job is not None and job.state.active) or (presenter and queue_view.anything())
    run_every = 1.0 if live else None
    st.fragment(_draw_live_panel, run_every=run_every)(presenter, smoothing, compare, height)
