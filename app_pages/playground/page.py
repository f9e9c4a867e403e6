"""2-D playground: GAN Lab's view in Python — D's decision surface, G's gradients and manifold, live."""
import streamlit as st

from app_pages.playground import plot as pp
from app_pages.train import charts, controls, form
from app_pages.train import live_panel as lp
from app_pages.train.scope import FormScope
from app_pages.train.session_job import session_job
from gan_core import TOY_DATASETS
from gan_core.teach.presets import presets_for

SCOPE = FormScope("pg_")  # this page's widget keys

presenter = st.sidebar.toggle("Presenter mode", key="presenter",
                              help="A bigger plot and fonts for a projector; hides the set-up controls")
form.presenter_css(presenter)
st.title("2-D playground")
st.caption("Green: real points. Red: generated points G(z). Background: the discriminator D(x) (blue = "
           "\"real\", red = \"fake\"). Arrows: where the generator's loss pushes each fake point. Grey grid: "
           "the image under G of a square grid of z — the generator's manifold.")
form.init_form(SCOPE)
form.apply_query_preset(SCOPE)
SCOPE.show_flash()

if not presenter:
    with st.expander("Set-up", expanded=session_job() is None):
        form.preset_picker(SCOPE, presets_for("playground"))
        form.config_form(SCOPE, toy_only=True)
        controls.apply_live_button(SCOPE)

controls.job_controls(SCOPE)
c1, c2 = st.columns([2, 1])
mode = c1.radio("Mode", pp.MODES, horizontal=True, key=SCOPE.key("mode"),
                on_change=lambda: pp.set_mode(session_job(), SCOPE.get("mode")),
                help="Slow motion does a few steps per second; step by step waits for the Step button")
speed = c2.select_slider("Steps per second (slow motion)", options=pp.SPEEDS, value=5, key=SCOPE.key("speed"))
l1, l2, l3, l4 = st.columns(4)
show = {"surface": l1.checkbox("D heat map", True, key=SCOPE.key("show_surface")),
        "arrows": l2.checkbox("G's gradient arrows", True, key=SCOPE.key("show_arrows")),
        "manifold": l3.checkbox("G's manifold", True, key=SCOPE.key("show_manifold")),
        "real": l4.checkbox("Real points", True, key=SCOPE.key("show_real"))}
smoothing = st.sidebar.slider("Smoothing window (records)", 1, 50, 5, key=SCOPE.key("smooth"))

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
    st.markdown(lp.status_line(data.status, data.kind))
    lp.show_diagnoses(data.diagnoses)
    field = pp.current_field(job)
    left, right = st.columns([3, 2])
    with left:
        if field is not None:
            fig = pp.field_figure(field, size=8 if presenter else 5.5, **show)
            st.image(pp.figure_png(fig), width="stretch", output_format="PNG")  # "auto" would re-encode as JPEG
            if field.coverage is not None:
                cov = field.coverage
                st.caption(f"Modes covered (points within 4 std of a mode): {cov['modes_covered']} / "
                           f"{cov['num_modes']}; high-quality points {100 * cov['high_quality']:.0f}%")
    with right:
        if data.spread is not None:
            st.metric("Modes held", f"{data.spread['modes_held']} / {data.spread['num_modes']}")
        for name in ("losses", "outputs", "grads"):
            spec = charts.metric_spec(name, data.rows, smoothing, data.events, height=240, presenter=presenter)
            st.vega_lite_chart(spec=spec, width="stretch")
    lp.track_state_change(job)


live_field()
