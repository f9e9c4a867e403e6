"""The playground's server path: the run trains as a server job (app_shared.training_ui; on the GPU where there
is one), a live fragment refreshes once a second, the canvas plays the frames the worker recorded
(animation.py) and the charts follow. For what a browser cannot do: big networks, a student who asks, or a
browser where TensorFlow.js cannot load."""
from __future__ import annotations

import streamlit as st

from app_pages.playground import animation
from app_pages.playground import plot as pp
from app_shared.training_ui import charts, controls, form
from app_shared.training_ui import live_panel as lp
from app_shared.training_ui.scope import FormScope
from app_shared.training_ui.session_job import session_job
from gan_core import TOY_DATASETS
from gan_core.eval.metrics import MODES_COVERED_RULE
from gan_core.teach.presets import Preset


def show(scope: FormScope, presenter: bool, presets: list[Preset]) -> None:
    """The set-up form, the job's controls and the live field of a server job."""
    if not presenter:
        with st.expander("Set-up", expanded=session_job() is None):
            form.preset_picker(scope, presets)
            form.config_form(scope, toy_only=True)
            controls.apply_live_button(scope)
    controls.job_controls(scope)
    c1, c2 = st.columns([2, 1])
    mode = c1.radio("Mode", pp.MODES, horizontal=True, key=scope.key("mode"),
                    on_change=lambda: pp.set_mode(session_job(), scope.get("mode")),
                    help="Slow motion does a few steps per second; step by step waits for the Step button")
    speed = c2.select_slider("Steps per second (slow motion)", options=pp.SPEEDS, value=5, key=scope.key("speed"))
    l1, l2, l3, l4 = st.columns(4)
    show_layers = {"surface": l1.checkbox("D heat map", True, key=scope.key("show_surface")),
                   "arrows": l2.checkbox("G's gradient arrows", True, key=scope.key("show_arrows")),
                   "manifold": l3.checkbox("G's manifold", True, key=scope.key("show_manifold")),
                   "real": l4.checkbox("Real points", True, key=scope.key("show_real"))}
    smoothing = st.sidebar.slider("Smoothing window (records)", 1, 50, 5, key=scope.key("smooth"))
    job = session_job()

    @st.fragment(run_every=1.0 if job is not None and job.state.active else None)
    def live_field() -> None:
        """Every second: (slow motion) queue steps, then redraw the field and the charts from the job."""
        job = session_job()
        if job is None:
            st.info("Pick a preset (try \"ring8 · minimax (collapse)\" against \"ring8 · non-saturating\") "
                    "and press **Start**.")
            return
        if job.config.dataset not in TOY_DATASETS:
            st.warning("This session's job trains on images; the playground shows 2-D toy runs. Start one here "
                       "(it replaces the image job) or watch it on the Train page.")
            return
        pp.playground_tick(job, mode, speed)
        data = lp.live_data(job)
        held = {"Slow motion": f"slow motion ({speed} steps/s)", "Step by step": "step by step (press Step)"}.get(mode)
        st.markdown(lp.status_line(data.status, data.kind, held_as=held))  # paused between its steps, not "paused"
        lp.show_diagnoses(data.diagnoses)
        st.space(lp.TOOLBAR_CLEARANCE)
        left, right = st.columns([3, 2])
        field = None
        with left:
            # while the run is active a canvas plays the frames the worker records (~20 a second, sent in this
            # one refresh); once it has ended, or for a job that records none, the static plot of its field
            if not (job.state.active and animation.show_animation(job, show_layers, presenter)):
                field = pp.current_field(job)
            if field is not None:
                fig = pp.field_figure(field, size=8 if presenter else 5.5, **show_layers)
                st.image(pp.figure_png(fig), width="stretch", output_format="PNG")  # "auto" would re-encode as JPEG
        with right:
            coverage = field.coverage if field is not None else data.spread  # the points drawn on the left
            if coverage is not None:
                st.metric("Modes covered", f"{coverage['modes_covered']} / {coverage['num_modes']}",
                          help=MODES_COVERED_RULE)
                st.caption(f"{MODES_COVERED_RULE} Sharpness: {100 * coverage['high_quality']:.0f}% of the points "
                           "lie within 4 standard deviations of a mode.")
            for name in ("losses", "outputs", "grads"):
                spec = charts.metric_spec(name, data.rows, smoothing, data.events, height=160, presenter=presenter)
                st.vega_lite_chart(spec=spec, width="stretch")
        lp.track_state_change(job)

    live_field()
