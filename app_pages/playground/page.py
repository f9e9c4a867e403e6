"""2-D playground: GAN Lab's view of a GAN learning — D's decision surface, G's gradients and manifold, live.

By default each student's browser trains (browser_element.py: TensorFlow.js in a Web Worker, every animation
frame drawn from it, nothing sent to the server while training); "On the server" runs a server job instead
(server_view.py). A link holds the whole set-up (link.py); Save puts the browser's G on Explore (save.py).
"""
import logging

import streamlit as st

from app_pages.playground import browser_element as be
from app_pages.playground import server_view
from app_pages.playground import state as pg_state
from app_pages.playground.save import save_browser_model, setup_from_payload
from app_shared.session import session_dir
from app_shared.training_ui import form
from app_shared.training_ui.scope import FormScope
from gan_core.io.checkpoint import CheckpointError

logger = logging.getLogger(__name__)
SCOPE = FormScope("pg_")  # the server path's widget keys
ENGINES = {"browser": "In your browser", "server": "On the server"}


def on_save() -> None:
    """The element sent G's weights: check them, write the checkpoint, and answer the element."""
    page = pg_state.current()
    payload = be.trigger("save")
    nonce = payload.get("nonce") if isinstance(payload, dict) else None
    try:
        label, _ = save_browser_model(payload, session_dir(), be.default_setup(), be.limits())
    except CheckpointError as exc:
        page.saved = {"nonce": nonce, "ok": False, "text": f"Not saved: {exc}"}
        page.saved_label = None
        return
    page.saved = {"nonce": nonce, "ok": True, "text": f"Saved as “{label}”: it is in Explore's model list now."}
    page.saved_label = label


def on_server() -> None:
    """The student asked for the server (the browser could not train): the server form gets the same set-up."""
    page = pg_state.current()
    raw = be.trigger("server")
    if isinstance(raw, dict):
        try:
            page.setup = setup_from_payload(raw, be.default_setup(), be.limits())
        except CheckpointError as exc:
            logger.info("the browser's set-up for the server was not usable: %s", exc)
    cfg = page.setup.config()
    for name in form.FORM_FIELDS:
        if hasattr(cfg, name):
            SCOPE.set(name, getattr(cfg, name))
    st.session_state[pg_state.ENGINE_KEY] = "server"


def on_failed() -> None:
    page = pg_state.current()
    page.failure = str(be.trigger("failed") or "unknown reason")[:200]
    logger.info("the browser could not train: %s", page.failure)


presenter = st.sidebar.toggle("Presenter mode", key="presenter",
                              help="A bigger plot and fonts for a projector; hides the set-up controls")
form.presenter_css(presenter)
st.title("2-D playground")
st.caption("Green: real points. Orange (dark outline): generated points G(z). Background: the discriminator "
           "D(x) (blue = \"real\", red = \"fake\"). Arrows: where the generator's loss pushes each fake point. "
           "Grey grid: the image under G of a square grid of z — the generator's manifold.")
form.init_form(SCOPE)
form.apply_query_preset(SCOPE)
page = pg_state.current()
st.session_state.setdefault(pg_state.ENGINE_KEY, "browser")
engine = st.segmented_control("Training", list(ENGINES), format_func=ENGINES.get, key=pg_state.ENGINE_KEY,
                              required=True,
                              help="In your browser: TensorFlow.js trains on this computer and the picture follows "
                                   "every step. On the server: a background job, for bigger networks or a browser "
                                   "that cannot run TensorFlow.js.")
for notice in page.notices:
    st.warning(notice)
if engine == "server":
    st.caption("Training on the server.")
    SCOPE.show_flash()
    server_view.show(SCOPE, presenter, be.browser_presets())
else:
    if page.saved_label and page.saved and page.saved.get("ok"):
        st.page_link("app_pages/explore/page.py", label=f"Open {page.saved_label} on Explore",
                     icon=":material/explore:", query_params={"model": page.saved_label})
    be.show(be.element_data(page.setup, page.preset, page.setup_nonce, page.saved),
            on_save=on_save, on_server=on_server, on_failed=on_failed)
