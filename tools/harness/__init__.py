"""The browser and server harness that tests and benchmarks share.

- `streamlit_server`: `running_server()` starts `streamlit run` on a free 127.0.0.1 port and always stops it;
  `launch_chromium()` / `find_chromium()` for Debian's Chromium.
- `browser_helpers`: Playwright page helpers (find an st.image by caption, wait for it to change, sample a canvas).
- `streamlit_ws_client`: `StreamlitSession`, a browser tab without a browser (Streamlit's websocket protocol).
- `waiting`: `wait_for` (poll a predicate) and `run_async` (a coroutine in a thread of its own).

Nothing here imports `tests` or `benchmarks`; pytest fixtures stay in tests/ (conftest, browser_fixtures).
"""
