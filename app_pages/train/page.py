"""Train page: set up a GAN, train it in a background thread, and watch it learn live."""
import streamlit as st

from app_pages.train import charts
from app_pages.train import widgets as tw
from gan_core.teach.presets import presets_for

P = "tr_"  # widget-key prefix of this page

presenter = st.sidebar.toggle("Presenter mode", key="presenter",
                              help="Bigger images, fonts and charts for a projector; hides the set-up controls")
tw.presenter_css(presenter)
st.title("Train a GAN")
tw.init_form(P)
tw.apply_query_preset(P)
tw.show_flash(P)

if not presenter:
    with st.expander("Set-up: data, model, loss and hyper-parameters", expanded=tw.session_job() is None):
        tw.preset_picker(P, presets_for("train"))
        tw.config_form(P)
        st.button("Apply changed hyper-parameters to the running job", key=P + "apply_live",
                  on_click=tw.on_apply_live, args=(P,),
                  help="lr, betas, loss, n_critic, penalties, label smoothing, augmentation and EMA can change mid-run")
tw.job_controls(P)

job = tw.session_job()
smoothing = st.sidebar.slider("Smoothing window (records)", 1, 50, 5, key=P + "smooth")
compare = [] if presenter else tw.compare_picker(P)
height = 420 if presenter else 300


@st.fragment(run_every=1.0 if job is not None and job.state.active else None)
def live_panel() -> None:
    """Status, warnings, charts and samples: re-drawn every second from copies of the job's history."""
    job = tw.session_job()
    if job is None:
        st.info("Choose a set-up (or a preset) and press **Start**.")
        return
    data = tw.live_data(job)
    st.markdown(tw.status_line(data["status"], data["kind"]))
    tw.show_diagnoses(data["diagnoses"])
    left, right = st.columns([3, 2]) if not presenter else st.columns([1, 1])
    with left:
        loss = job.trainer.config.loss if job.trainer is not None else job.config.loss
        if loss not in ("minimax", "nonsaturating"):
            st.caption(f"With the {loss} loss D outputs a score, not a probability: the D(x) chart shows "
                       "sigmoid(score), useful only as a trend.")
        for name in ("losses", "outputs", "grads", "speed"):
            spec = charts.metric_spec(name, data["rows"], smoothing, data["events"], compare, height, presenter)
            st.vega_lite_chart(spec=spec, width="stretch")
        quality = charts.quality_specs(data["evals"], data["events"], compare, presenter=presenter)
        for i in range(0, len(quality), 2):
            for col, (_, spec) in zip(st.columns(2), quality[i:i + 2]):
                col.vega_lite_chart(spec=spec, width="stretch")
    with right:
        sample = tw.sample_png(data, presenter)
        if sample is not None:
            rows_note = ""
            if data.get("conditional") and data.get("num_classes"):
                rows_note = f"; row k shows class k (0…{data['num_classes'] - 1})"
            st.image(sample[1], caption=f"Samples from fixed noise, step {sample[0]}{rows_note}", width="stretch",
                     output_format="PNG")  # sent as made: "auto" re-encodes PNG bytes as JPEG every second
        if data["spread"] is not None:
            s = data["spread"]
            st.metric("Modes held", f"{s['modes_held']} / {s['num_modes']}")
    tw.track_state_change(job)


live_panel()

if job is not None and not presenter:
    with st.expander("Timeline of samples and GIF export"):
        tw.timeline(job, P)
    st.subheader("Save, download, fork")
    tw.save_panel(P)
    tw.fork_panel(P)
