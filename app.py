"""GAN Playground: explore, teach and live-train GANs in the browser.  Run: make run"""
import logging
from pathlib import Path

import streamlit as st

from app_pages.explore.warm_up import warm_up_once
from app_shared.housekeeping import keep_heap_frozen
from app_shared.jobs import browser_session_id
from app_shared.session_janitor import session_janitor
from gan_core.settings import SettingsError, settings

logger = logging.getLogger("app")
logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # once

# A local image: a :material/...: page icon makes the browser fetch its favicon from Google's font servers
ICON = str(Path(__file__).resolve().parent / "static" / "icon.png")
st.set_page_config(page_title="GAN Playground", page_icon=ICON, layout="wide")

try:
    settings()  # every environment setting, read once and checked before any page (or its imports) runs
except SettingsError as exc:
    logger.error("the app cannot start: %s", exc)
    st.error(f"The server cannot start: {exc}. Fix this environment variable (see README, Settings) and restart it.")
    st.stop()

PAGES = [
    st.Page("app_pages/explore/page.py", title="Explore", icon=":material/explore:", default=True, url_path="explore"),
    st.Page("app_pages/train/page.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/playground/page.py", title="2-D playground", icon=":material/scatter_plot:",
            url_path="playground"),
    st.Page("app_pages/learn/page.py", title="Learn", icon=":material/school:", url_path="learn"),
    st.Page("app_pages/apply/page.py", title="Apply", icon=":material/science:", url_path="apply"),
]

if settings().warm_up:  # off in the tests: its exports would run beside them and race torch's global tracing state
    warm_up_once()  # Explore's default model, its directions and the shipped browser files, in a background thread
session_janitor().seen(browser_session_id())  # a closed tab's memory is given back after a while
try:
    st.navigation(PAGES).run()
finally:  # after the page's imports and models: keeps the collector's full passes cheap (renewed every 10 min)
    keep_heap_frozen()
