"""Train page: set up a GAN, train it in a background worker process, and watch it learn live."""
import streamlit as st

from app_pages.train import outputs
from app_shared.training_ui import controls, form, live_panel
from app_shared.training_ui.preset_pages import presets_for
from app_shared.training_ui.scope import FormScope
from app_shared.training_ui.session_job import session_job

SCOPE = FormScope("tr_")  # this page's widget keys

presenter = st.sidebar.toggle("Presenter mode", key="presenter",
                              help="Bigger images, fonts and charts for a projector; hides the set-up controls")
form.presenter_css(presenter)
st.title("Train a GAN")
form.init_form(SCOPE)
form.apply_query_preset(SCOPE)
SCOPE.show_flash()

if not presenter:
    with st.expander("Set-up: data, model, loss and hyper-parameters", expanded=session_job() is None,
                     key=SCOPE.key(form.SETUP_PANEL), on_change="rerun"):
        form.preset_picker(SCOPE, presets_for("train"))
        form.config_form(SCOPE)
        controls.apply_live_button(SCOPE, help_text="lr, betas, loss, n_critic, penalties, label smoothing, "
                                                    "augmentation and EMA can change mid-run")
controls.job_controls(SCOPE)

job = session_job()
smoothing = st.sidebar.slider("Smoothing window (records)", 1, 50, 5, key=SCOPE.key("smooth"))
compare = [] if presenter else live_panel.compare_picker(SCOPE)
live_panel.live_panel(presenter, smoothing, compare, height=320 if presenter else 220)

if job is not None and not presenter:
    with st.expander("Timeline of samples and GIF export"):
        outputs.timeline(job, SCOPE)
    st.subheader("Save, download, fork")
    outputs.save_panel(SCOPE)
    outputs.fork_panel(SCOPE)
