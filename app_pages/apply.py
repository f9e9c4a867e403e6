"""Apply: does synthetic data from a conditional GAN help a classifier that has only a few real examples?"""
import streamlit as st

from app_shared import apply_jobs as aj
from app_shared import apply_view as av
from gan_core.synthetic import ExperimentConfig

P = "ap_"
DEFAULT = ExperimentConfig()

st.title("Apply: synthetic data for a small-data classifier")
st.markdown("Keep only a few real labelled images per class. Train the project's small CNN on **(a)** those alone and "
            "**(b)** those plus images generated for each class by a conditional GAN, over several seeds, and compare "
            "accuracy on held-out real images. Both arms use the same real images within a seed.")

generators = aj.conditional_generators()
if not generators:
    st.info("No conditional generator is available. The shipped ones (mnist-cgan, fashion-cgan) live in pretrained/; "
            "or train a conditional model on MNIST or Fashion-MNIST on the Train page and save it.")
    st.stop()

job = aj.session_job()
running = job is not None and job.is_alive()
label = st.selectbox("Conditional generator", list(generators), key=P + "generator", disabled=running)
path, dataset = generators[label]
c1, c2, c3 = st.columns(3)
real = c1.radio("Real examples per class", [10, 50, 100], index=0, horizontal=True, key=P + "real",
                disabled=running)
synthetic = c2.select_slider("Synthetic examples per class", [25, 50, 100, 200, 500],
                             value=DEFAULT.synthetic_per_class, key=P + "synthetic", disabled=running)
seeds = c3.slider("Seeds", 1, 5, DEFAULT.seeds, key=P + "seeds", disabled=running,
                  help="Each seed draws other real examples, other synthetic images and another initialisation")
with st.expander("Training details"):
    d1, d2, d3 = st.columns(3)
    steps = d1.number_input("Classifier steps", 20, 2000, DEFAULT.steps, 10, key=P + "steps", disabled=running)
    truncation = d2.slider("Truncation ψ", 0.5, 1.0, DEFAULT.truncation, 0.05, key=P + "truncation",
                           disabled=running, help="Below 1: more typical, less varied synthetic images")
    augment = d3.checkbox("Random shifts (±2 px) for both arms", DEFAULT.augment, key=P + "augment", disabled=running)
config = ExperimentConfig(real_per_class=int(real), synthetic_per_class=int(synthetic), seeds=int(seeds),
                          steps=int(steps), truncation=float(truncation), augment=bool(augment))
st.caption(f"{2 * config.seeds} classifier trainings of {config.steps} steps (batch {config.batch_size}); "
           "the default run takes well under a minute on 2 CPU cores.")

b1, b2 = st.columns(2)
if b1.button("Run experiment", key=P + "run", type="primary", disabled=running):
    try:
        job = aj.start_job(path, dataset, config)
        running = True
    except (ValueError, RuntimeError, OSError) as exc:
        st.error(f"Could not start: {exc}")
if b2.button("Stop", key=P + "stop", disabled=not running):
    job.cancel()
    running = False


@st.fragment(run_every=1.0 if running else None)
def live_panel() -> None:
    """Progress while the background thread works; the results once it is done (reads snapshots only)."""
    job = aj.session_job()
    if job is None:
        st.info("Choose the settings and press **Run experiment**.")
        return
    state = job.snapshot()
    if not state["done"]:
        st.progress(float(state["fraction"]), text=f"{state['message']} · {state['elapsed']:.0f} s")
        return
    if state["error"]:
        (st.warning if state["message"] == "stopped" else st.error)(f"Experiment {state['message']}: {state['error']}")
        return
    result = state["result"]
    av.show_result(result)
    if result.note:
        st.caption(result.note)
    if st.session_state.get(P + "shown") is not job:  # leave the polling loop once the result is on screen
        st.session_state[P + "shown"] = job
        st.rerun()


live_panel()
