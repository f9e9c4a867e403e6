"""Apply: does synthetic data from a conditional GAN help a classifier that has only a few real examples?"""
import streamlit as st

from app_pages.apply import jobs as aj
from app_pages.apply import view as av
from gan_core.teach.synthetic import SUPPORTED_DATASETS, ExperimentConfig

P = "ap_"
DEFAULT = ExperimentConfig()
STEPS_RANGE = (20, 2000)  # the classifier-steps box

st.title("Apply: synthetic data for a small-data classifier")
st.markdown("Keep only a few real labelled images per class. Train the project's small CNN on **(a)** those alone and "
            "**(b)** those plus images generated for each class by a conditional GAN, over several seeds, and compare "
            "accuracy on held-out real images. Both arms use the same real images within a seed.")

generators = aj.conditional_generators()
if not generators:
    st.info("No conditional generator is available. The shipped ones (mnist-cgan, fashion-cgan, emoji-cgan) live in "
            f"pretrained/; or train a conditional model on {', '.join(SUPPORTED_DATASETS)} on the Train page and "
            "save it.")
    st.stop()


def read_config() -> ExperimentConfig:
    """The experiment the widgets describe (read from session state, so callbacks can use it too)."""
    state = st.session_state
    return ExperimentConfig(real_per_class=int(state.get(P + "real", 10)),
                            synthetic_per_class=int(state.get(P + "synthetic", DEFAULT.synthetic_per_class)),
                            seeds=int(state.get(P + "seeds", DEFAULT.seeds)),
                            steps=int(state.get(P + "steps", DEFAULT.steps)),
                            truncation=float(state.get(P + "truncation", DEFAULT.truncation)),
                            augment=bool(state.get(P + "augment", DEFAULT.augment)))


def on_run() -> None:
    path, dataset = generators[st.session_state[P + "generator"]]
    try:
        aj.start_job(path, dataset, read_config())
        st.session_state.pop(P + "start_error", None)
    except (ValueError, RuntimeError, OSError) as exc:
        st.session_state[P + "start_error"] = f"Could not start: {exc}"


def on_stop() -> None:
    job = aj.session_job()
    if job is not None:
        job.request_stop()  # takes effect when the classifier being trained now is done


job = aj.session_job()
running = job is not None and job.is_alive()
st.selectbox("Conditional generator", list(generators), key=P + "generator", disabled=running,
             index=list(generators).index(aj.default_generator(generators)),
             help="The experiment uses the real images of the generator's own dataset.")
c1, c2, c3 = st.columns(3)
c1.radio("Real examples per class", [10, 50, 100], index=0, horizontal=True, key=P + "real", disabled=running)
c2.select_slider("Synthetic examples per class", [25, 50, 100, 200, 500], value=DEFAULT.synthetic_per_class,
                 key=P + "synthetic", disabled=running)
c3.slider("Seeds", 1, 5, DEFAULT.seeds, key=P + "seeds", disabled=running,
          help="Each seed draws other real examples, other synthetic images and another initialisation")
with st.expander("Training details"):
    d1, d2, d3 = st.columns(3)
    d1.number_input(f"Classifier steps ({STEPS_RANGE[0]}–{STEPS_RANGE[1]:,})", *STEPS_RANGE, DEFAULT.steps, 10,
                    key=P + "steps", disabled=running,
                    help="A number outside this range is not taken: the box turns red and the run keeps the steps "
                         "shown in the line below.")
    d2.slider("Truncation ψ", 0.5, 1.0, DEFAULT.truncation, 0.05, key=P + "truncation", disabled=running,
              help="Below 1: more typical, less varied synthetic images")
    d3.checkbox("Random shifts (±2 px) for both arms", DEFAULT.augment, key=P + "augment", disabled=running)
config = read_config()
st.caption(f"In use: {config.steps} classifier steps (allowed {STEPS_RANGE[0]}–{STEPS_RANGE[1]:,}). "
           f"{2 * config.seeds} classifier trainings of {config.steps} steps (batch {config.batch_size}), tested on "
           f"{config.test_size} held-out real images. A default run takes well under a minute on a busy 2-core CPU. "
           "It trains on all cores but one, so the app stays responsive.")

b1, b2 = st.columns(2)
b1.button("Run experiment", key=P + "run", type="primary", disabled=running, on_click=on_run)
b2.button("Stop", key=P + "stop", disabled=not running, on_click=on_stop)
if st.session_state.get(P + "start_error"):
    st.error(st.session_state[P + "start_error"])


@st.fragment(run_every=1.0 if running else None)
def live_panel() -> None:
    """Progress while the background thread works; the results once it is done (reads snapshots only)."""
    job = aj.session_job()
    if job is None:
        st.info("Choose the settings and press **Run experiment**.")
        return
    state = job.snapshot()
    if not state.done:
        stopping = " · stopping after the classifier being trained now" if state.stopping else ""
        st.progress(state.fraction, text=f"{state.message} · {state.elapsed:.0f} s{stopping}")
        return
    if state.error:
        (st.warning if state.message == "stopped" else st.error)(f"Experiment {state.message}: {state.error}")
        return
    result = state.result
    av.show_result(result)
    if result.note:
        st.caption(result.note)
    if st.session_state.get(P + "shown") is not job:  # leave the polling loop once the result is on screen
        st.session_state[P + "shown"] = job
        st.rerun()


live_panel()
