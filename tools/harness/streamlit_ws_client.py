"""A small asyncio client that speaks Streamlit's own websocket protocol, for load tests.

One `StreamlitSession` behaves like one browser tab of the Streamlit 1.67 frontend, without rendering
anything, so 30 of them cost a fraction of 30 Chromium contexts. Written against the installed
server (starlette_websocket.py, app_session.py, forward_msg_cache.py, the BackMsg/ForwardMsg/
ClientState/WidgetStates/Element protos) and the frontend's WebsocketConnection / ForwardMsgCache.

Modelled, as the browser does it (st.select_slider is a slider proto with options: it sends the
chosen options' text, not numbers):
- Connect: GET /_stcore/health first (the browser's ping; it sets the `_streamlit_xsrf` cookie), then
  open ws://HOST/_stcore/stream with Sec-WebSocket-Protocol "streamlit, <xsrf cookie or
  PLACEHOLDER_AUTH_TOKEN>", the cookie and a same-origin Origin header. Binary protobuf frames only.
- Initial run: a `rerun_script` BackMsg with the URL's query string, page_script_hash "" and
  page_name taken from the URL path ("" for "/", so st.navigation runs its default page), empty
  widget states and a ContextInfo (timezone, locale, url). Later runs send the page_script_hash the
  server announced in `new_session`, and the query string as updated by `page_info_changed`.
- Widget states: every widget in the current tree keeps a value (the proto's `value` when the
  server sets `set_value`, else what the client last sent, else the proto's default); a rerun
  carries all of them plus the changed one. Buttons send `trigger_value` once, as the frontend does.
  A widget rendered inside an st.fragment carries its delta's `fragment_id`, and a change to it sends
  that `fragment_id`, so only the fragment reruns.
- ForwardMsg cache: `cacheable` messages are kept by hash, `cached_message_hashes` go with every
  rerun, `ref_hash` messages are resolved from the cache (with the reference's metadata), and
  entries age out after `maxCachedMessageAge` completed runs (fragment runs only age their own).
- Element tree: deltas are merged by `delta_path`; when a run completes, what it did not re-emit is
  dropped (full run: everything older; fragment run: only that fragment's region), the frontend's
  stale-node rule. Widgets no longer in the tree lose their state.
- A run ends at `script_finished` with a completed status; FINISHED_EARLY_FOR_RERUN is not an end.
- With `follow_auto_reruns`, st.fragment(run_every=...) as the frontend's App.handleAutoRerun does it:
  an `auto_rerun` message starts a timer for its fragment (the same interval again changes nothing)
  that sends a fragment rerun with every widget state and is_auto_rerun every `interval` seconds,
  without waiting for it; a full run's new_session and `stop_auto_rerun` cancel timers. With
  `fetch_images`, every image URL that appears on the page is fetched once, as the browser's <img>
  does. Otherwise `auto_rerun` messages are only recorded.

Not modelled: reconnecting to an existing session, app_heartbeat, file uploads, forms (form widgets
are sent immediately, not on submit), dialogs' open/close bookkeeping, keyed tabs/expanders/popovers state,
transient elements (spinners, toasts), custom components, charts' selection state and
date/time/colour/text widgets beyond plain string values. Only 127.0.0.1 / localhost URLs are accepted.
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect as ws_connect

LOCAL_HOSTS = ("127.0.0.1", "localhost")
XSRF_COOKIE = "_streamlit_xsrf"
PLACEHOLDER_TOKEN = "PLACEHOLDER_AUTH_TOKEN"
DEFAULT_MAX_CACHED_AGE = 2
COMPLETED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
             ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
# Element types that are widgets, and the WidgetState field each one sends.
WIDGET_FIELDS = {
    "slider": "double_array_value", "number_input": None, "selectbox": "string_value",
    "checkbox": "bool_value", "multiselect": "string_array_value", "radio": "string_value",
    "text_input": "string_value", "text_area": "string_value", "color_picker": "string_value",
    "button": "trigger_value", "download_button": "trigger_value",
}


class ProtocolError(RuntimeError):
    """The server said something this client does not understand, or never finished a run."""


@dataclass
class Widget:
    """A widget in the current tree: its id, label, element type, fragment and current value."""

    id: str
    label: str
    kind: str
    fragment_id: str | None
    proto: Any = field(repr=False)

    def options(self) -> list[str]:
        return list(getattr(self.proto, "options", []))


def _require_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise ValueError(f"only local servers are allowed, not {host!r}")


async def http_get(url: str, headers: dict[str, str] | None = None,
                   timeout: float = 15.0) -> tuple[int, dict[str, list[str]], bytes]:
    """A minimal HTTP/1.1 GET on a fresh connection (no thread pool, so 30 sessions do not queue)."""
    _require_local(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
             "Accept-Encoding: identity"] + [f"{k}: {v}" for k, v in (headers or {}).items()]

    async def go() -> tuple[int, dict[str, list[str]], bytes]:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs: dict[str, list[str]] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            hdrs.setdefault(name.strip().lower(), []).append(value.strip())
        if "chunked" in ",".join(hdrs.get("transfer-encoding", [])).lower():
            body = _dechunk(body)
        return status, hdrs, body

    return await asyncio.wait_for(go(), timeout)


def _dechunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


class _MessageCache:
    """The frontend's ForwardMsgCache: cacheable messages by hash, aged by completed runs."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[bytes, int, str | None]] = {}  # hash -> (encoded, run count, fragment)
        self.run_count = 0
        self.ref_hits = 0  # ref_hash messages resolved from the cache

    def process(self, msg: ForwardMsg, raw: bytes) -> ForwardMsg:
        if msg.WhichOneof("type") != "ref_hash":
            if msg.metadata.cacheable and msg.hash:
                if msg.hash in self.entries:
                    enc, _, frag = self.entries[msg.hash]
                    self.entries[msg.hash] = (enc, self.run_count, frag)
                else:
                    frag = msg.delta.fragment_id if msg.HasField("delta") else ""
                    self.entries[msg.hash] = (raw, self.run_count, frag or None)
            return msg
        entry = self.entries.get(msg.ref_hash)
        if entry is None:
            raise ProtocolError(f"cached ForwardMsg miss for ref_hash {msg.ref_hash}")
        self.entries[msg.ref_hash] = (entry[0], self.run_count, entry[2])
        self.ref_hits += 1
        full = ForwardMsg()
        full.ParseFromString(entry[0])
        full.metadata.CopyFrom(msg.metadata)
        return full

    def increment_run_count(self, max_age: int, fragment_ids: list[str]) -> None:
        self.run_count += 1
        for msg_hash, (_, count, frag) in list(self.entries.items()):
            if fragment_ids and (not frag or frag not in fragment_ids):
                continue
            if self.run_count - count > max_age:
                del self.entries[msg_hash]

    def hashes(self) -> list[str]:
        return list(self.entries)


@dataclass
class _Node:
    msg: ForwardMsg | None = None  # None for a root or a placeholder container
    children: dict[int, _Node] = field(default_factory=dict)

    @property
    def is_container(self) -> bool:
        return self.msg is None or self.msg.delta.WhichOneof("type") == "add_block"


class StreamlitSession:
    """One simulated browser tab. All waits are bounded by `timeout` seconds."""

    def __init__(self, timeout: float = 60.0, connect_timeout: float = 15.0,
                 timezone: str = "UTC", locale: str = "en-US", follow_auto_reruns: bool = False,
                 fetch_images: bool = False) -> None:
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.follow_auto_reruns, self.fetch_images = follow_auto_reruns, fetch_images
        self.timezone, self.locale = timezone, locale
        self.base_url = ""
        self.query = ""
        self.page_name = ""
        self.page_script_hash = ""
        self.session_id = ""
        self.max_cached_age = DEFAULT_MAX_CACHED_AGE
        self.cache = _MessageCache()
        self.values: dict[str, WidgetState] = {}  # widget id -> state the frontend would send
        self.auto_reruns: list[tuple[float, str]] = []  # (interval, fragment_id) of every auto_rerun message
        self.auto_reruns_sent = 0
        self.images_fetched: list[str] = []  # with fetch_images: URLs fetched, in order
        self.image_errors: list[str] = []
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, timer task)
        self._fetching: set[asyncio.Task] = set()
        self._seen_urls: set[str] = set()
        self.finished: list[int] = []  # script_finished statuses, in order
        self.messages_received = 0
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._deltas: list[tuple[str, ForwardMsg]] = []  # (run id, delta msg): the page's content
        self._element_at: dict[tuple[int, ...], int] = {}
        self._run_id = ""
        self._run_fragments: list[str] = []
        self._sent = 0  # rerun requests sent
        self._run_started_after: dict[str, int] = {}  # run id -> value of _sent when it started
        self._done: asyncio.Condition | None = None
        self._last_done: tuple[str, int] = ("", -1)  # (run id, status) of the latest completed run
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ connection
    async def open(self, base_url: str, path: str = "/", query: str = "") -> float:
        """Connect like a browser opening BASE_URL/PATH?QUERY; wait for the first run; return seconds."""
        _require_local(base_url)
        start = time.perf_counter()
        self.base_url = base_url.rstrip("/")
        self.query = query.lstrip("?")
        self.page_name = path.strip("/")
        self._done = asyncio.Condition()
        status, headers, _ = await http_get(f"{self.base_url}/_stcore/health", timeout=self.connect_timeout)
        if status != 200:
            raise ProtocolError(f"/_stcore/health answered {status}")
        xsrf = None
        for cookie in headers.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            if name.strip() == XSRF_COOKIE:
                xsrf = rest.split(";")[0]
        parts = urlsplit(self.base_url)
        extra = {"Cookie": f"{XSRF_COOKIE}={xsrf}"} if xsrf else {}
        self._ws = await ws_connect(
            f"ws://{parts.netloc}/_stcore/stream", subprotocols=["streamlit", xsrf or PLACEHOLDER_TOKEN],
            origin=f"http://{parts.netloc}", additional_headers=extra, open_timeout=self.connect_timeout,
            max_size=None, proxy=None, close_timeout=5)
        self._reader = asyncio.create_task(self._read_loop(), name="streamlit-ws-reader")
        await self._rerun(fragment_id="")
        return time.perf_counter() - start

    async def close(self) -> None:
        self._cancel_timers(list(self._timers))
        for task in list(self._fetching):
            task.cancel()
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 10)
            except (TimeoutError, OSError):
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await asyncio.wait_for(self._reader, 5)
            except (TimeoutError, asyncio.CancelledError):  # _read_loop keeps its own errors in self._error
                pass
        self._ws = self._reader = None

    async def __aenter__(self) -> StreamlitSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                if isinstance(raw, str):
                    raise ProtocolError("server sent a text frame")
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self.messages_received += 1
                await self._handle(self.cache.process(msg, raw))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a closed socket or a bad message: kept, raised to every waiter
            self._error = exc
        finally:
            if self._error is None:
                self._error = ProtocolError("websocket closed")
            if self._done is not None:
                async with self._done:
                    self._done.notify_all()

    # ------------------------------------------------------------------ incoming messages
    async def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            self._add_delta(msg)
        elif kind == "new_session":
            ns = msg.new_session
            self._run_id = msg.metadata.run.script_run_id
            self._run_fragments = list(msg.metadata.run.fragment_ids)
            if not self._run_fragments:  # a full run: the frontend's cleanupAutoReruns
                self._cancel_timers(list(self._timers))
            self._run_started_after[self._run_id] = self._sent
            if len(self._run_started_after) > 64:  # only recent runs matter
                self._run_started_after.pop(next(iter(self._run_started_after)))
            self._element_at = {}
            self.page_script_hash = ns.page_script_hash or self.page_script_hash
            self.session_id = ns.initialize.session_id or self.session_id
            if ns.config.max_cached_message_age:
                self.max_cached_age = ns.config.max_cached_message_age
        elif kind == "navigation":  # st.navigation names the page that ran: later reruns stay on it
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_reruns.append((msg.auto_rerun.interval, msg.auto_rerun.fragment_id))
            if self.follow_auto_reruns:
                self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._cancel_timers(list(msg.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished":
            status = msg.script_finished
            self.finished.append(status)
            if status in COMPLETED:
                run_id = msg.metadata.run.script_run_id or self._run_id
                fragments = list(msg.metadata.run.fragment_ids) or self._run_fragments
                if status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self._drop_stale(fragments)
                    self.cache.increment_run_count(self.max_cached_age, fragments)
                self._forget_inactive_widgets()
                if self.fetch_images:
                    self._fetch_new_images()
                async with self._done:
                    self._last_done = (run_id, status)
                    self._done.notify_all()
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self._add_delta(_exception_delta(msg.session_event.script_compilation_exception))

    def _add_delta(self, msg: ForwardMsg) -> None:
        if msg.delta.WhichOneof("type") not in ("new_element", "add_block"):
            return  # transient elements (spinners, toasts) are not part of the page
        path = tuple(msg.metadata.delta_path)
        if not path:
            return
        if msg.delta.WhichOneof("type") == "new_element":
            index = self._element_at.get(path)
            if index is not None:
                self._deltas[index] = (self._run_id, msg)
                return
            self._element_at[path] = len(self._deltas)
            self._remember_value(msg)
        else:
            for cached in [p for p in self._element_at if p[:len(path)] == path]:
                del self._element_at[cached]
        self._deltas.append((self._run_id, msg))

    def _drop_stale(self, fragments: list[str]) -> None:
        """The frontend's stale-node rule, applied to the list of deltas when a run completes."""
        self._element_at = {}
        if not fragments:
            self._deltas = [(r, m) for r, m in self._deltas if r == self._run_id]
            return
        running = set(fragments)
        replaced = {tuple(m.metadata.delta_path) for _, m in self._deltas
                    if m.delta.fragment_id in running and m.delta.WhichOneof("type") == "add_block"}

        def stale(run_id: str, m: ForwardMsg) -> bool:
            if run_id == self._run_id:
                return False
            if m.delta.fragment_id in running:
                return True
            path = tuple(m.metadata.delta_path)
            return any(path[:d] in replaced for d in range(1, len(path) + 1))

        self._deltas = [(r, m) for r, m in self._deltas if not stale(r, m)]

    def _tree(self) -> _Node:
        """Merge the kept deltas into a tree (a block of another type drops what was under it)."""
        root = _Node()
        for _, msg in self._deltas:
            path = list(msg.metadata.delta_path)
            parent, ok = root, True
            for index in path[:-1]:
                child = parent.children.setdefault(index, _Node())
                if not child.is_container:
                    ok = False
                    break
                parent = child
            if not ok:
                continue
            node = _Node(msg)
            old = parent.children.get(path[-1])
            if node.is_container and old is not None and old.is_container and (
                    old.msg is None or old.msg.delta.add_block.WhichOneof("type")
                    == msg.delta.add_block.WhichOneof("type")):
                node.children = old.children
            parent.children[path[-1]] = node
        return root

    def elements(self) -> list[ForwardMsg]:
        """The delta messages of the current page's elements, in display order."""
        out: list[ForwardMsg] = []

        def walk(node: _Node) -> None:
            if node.msg is not None and not node.is_container:
                out.append(node.msg)
            for index in sorted(node.children):
                walk(node.children[index])
        walk(self._tree())
        return out

    # ------------------------------------------------------------------ widgets
    def widgets(self) -> list[Widget]:
        found = []
        for msg in self.elements():
            kind = msg.delta.new_element.WhichOneof("type")
            if kind in WIDGET_FIELDS:
                proto = getattr(msg.delta.new_element, kind)
                found.append(Widget(proto.id, proto.label, kind, msg.delta.fragment_id or None, proto))
        return found

    def widget(self, label: str) -> Widget:
        matches = [w for w in self.widgets() if w.label == label]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} widgets labelled {label!r}; have "
                           f"{[w.label for w in self.widgets()]}")
        return matches[0]

    def value(self, label: str) -> Any:
        """The value the client holds for a widget (slider: float, or a list for a range)."""
        w = self.widget(label)
        state = self.values.get(w.id)
        if state is None:
            return None
        which = state.WhichOneof("value")
        got = getattr(state, which) if which else None
        if which and which.endswith("array_value"):
            data = list(got.data)
            return data[0] if w.kind == "slider" and len(data) == 1 else data
        return got

    def _remember_value(self, msg: ForwardMsg) -> None:
        """What the frontend keeps for a freshly drawn widget: the server's value if it set one, else
        what it already had, else the default."""
        kind = msg.delta.new_element.WhichOneof("type")
        if kind not in WIDGET_FIELDS or WIDGET_FIELDS[kind] == "trigger_value":
            return
        p = getattr(msg.delta.new_element, kind)
        if not p.id or (p.id in self.values and not p.set_value):
            return
        state = WidgetState(id=p.id)
        if kind == "slider" and p.options:  # st.select_slider: the chosen options' text
            state.string_array_value.data.extend(p.options[int(i)] for i in (p.value if p.set_value else p.default))
        elif kind == "slider":
            state.double_array_value.data.extend(p.value if p.set_value else p.default)
        elif kind == "number_input":
            has = p.HasField("value") if p.set_value else p.HasField("default")
            if not has:
                return  # an empty number box sends no value
            v = p.value if p.set_value else p.default
            if p.data_type == type(p).INT:
                state.int_value = int(v)
            else:
                state.double_value = float(v)
        elif kind == "selectbox":
            if p.set_value:
                if not p.HasField("raw_value"):
                    return
                state.string_value = p.raw_value
            elif p.HasField("default") and 0 <= p.default < len(p.options):
                state.string_value = p.options[p.default]
            else:
                return
        elif kind == "checkbox":
            state.bool_value = p.value if p.set_value else p.default
        elif kind == "multiselect":
            chosen = list(p.raw_values) if p.set_value else [p.options[i] for i in p.default]
            state.string_array_value.data.extend(chosen)
        elif kind == "radio":
            if p.set_value and p.HasField("raw_value"):
                state.string_value = p.raw_value
            elif not p.set_value and p.HasField("default"):
                state.string_value = p.options[p.default]
            else:
                return
        else:  # text-like widgets
            v = p.value if p.set_value else p.default
            if isinstance(v, str):
                state.string_value = v
            else:
                return
        self.values[p.id] = state

    def _forget_inactive_widgets(self) -> None:
        active = {w.id for w in self.widgets()}
        for wid in [w for w in self.values if w not in active]:
            del self.values[wid]

    def _state_for(self, w: Widget, value: Any) -> WidgetState:
        state = WidgetState(id=w.id)
        if w.kind in ("button", "download_button"):
            state.trigger_value = True
        elif w.kind == "slider" and w.proto.options:  # st.select_slider: options by index or text
            values = value if isinstance(value, (list, tuple)) else [value]
            state.string_array_value.data.extend(w.proto.options[v] if isinstance(v, int) and not isinstance(v, bool)
                                                 else str(v) for v in values)
        elif w.kind == "slider":
            state.double_array_value.data.extend([float(v) for v in (value if isinstance(value, (list, tuple))
                                                                    else [value])])
        elif w.kind == "number_input":
            if w.proto.data_type == type(w.proto).INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif w.kind in ("selectbox", "radio"):
            options = w.options()
            state.string_value = options[value] if isinstance(value, int) and not isinstance(value, bool) \
                else str(value)
        elif w.kind == "checkbox":
            state.bool_value = bool(value)
        elif w.kind == "multiselect":
            options = w.options()
            state.string_array_value.data.extend(options[v] if isinstance(v, int) else str(v) for v in value)
        else:
            state.string_value = str(value)
        return state

    async def set_widget(self, label: str, value: Any = True) -> float:
        """Change a widget as a user would (button: click); wait for that run to finish; return seconds.

        Slider: a float (or a pair for a range); number_input: a number; selectbox/radio: an option
        index or its text; checkbox: a bool; button: anything (a click).
        """
        w = self.widget(label)
        state = self._state_for(w, value)
        if state.WhichOneof("value") != "trigger_value":
            self.values[w.id] = state
            states = list(self.values.values())
        else:
            states = list(self.values.values()) + [state]  # a trigger is sent once, not kept
        return await self._rerun(fragment_id=w.fragment_id or "", states=states)

    async def click(self, label: str) -> float:
        return await self.set_widget(label, True)

    async def move_slider(self, label: str, delta: float, caption_prefix: str) -> float:
        """Move a slider by `delta` and fetch the new image under `caption_prefix`, as a student's move
        does; return the seconds from sending the value to the image fetched. Raises when the image did
        not change or came back empty."""
        old = self.image(caption_prefix)
        value = float(self.value(label)) + delta
        start = time.perf_counter()
        await self.set_widget(label, value)
        new = self.image(caption_prefix)
        if new == old:
            raise AssertionError("the image did not change")
        if not await self.fetch(new):
            raise AssertionError("the new image was empty")
        return time.perf_counter() - start

    async def rerun(self) -> float:
        """Like pressing R: a full rerun with the current widget states."""
        return await self._rerun(fragment_id="")

    def _rerun_msg(self, fragment_id: str, states: list[WidgetState] | None,
                   is_auto_rerun: bool = False) -> bytes:
        if self._ws is None:
            raise ProtocolError("session is not open")
        if self._error is not None:
            raise ProtocolError(f"connection failed: {self._error!r}")
        back = BackMsg()
        rs = back.rerun_script
        rs.query_string = self.query
        rs.widget_states.widgets.extend(list(self.values.values()) if states is None else states)
        rs.page_script_hash = self.page_script_hash
        if not self.page_script_hash:
            rs.page_name = self.page_name
        if fragment_id:
            rs.fragment_id = fragment_id
        rs.is_auto_rerun = is_auto_rerun
        rs.cached_message_hashes.extend(self.cache.hashes())
        ci = rs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = self.timezone, 0, self.locale
        ci.url = f"{self.base_url}/{quote(self.page_name)}" + (f"?{self.query}" if self.query else "")
        ci.is_embedded, ci.color_scheme = False, "light"
        return back.SerializeToString()

    async def _rerun(self, fragment_id: str, states: list[WidgetState] | None = None) -> float:
        data = self._rerun_msg(fragment_id, states)
        start = time.perf_counter()
        async with self._done:
            self._sent += 1
            sent = self._sent
            await self._ws.send(data)

            def finished() -> bool:
                run_id, _ = self._last_done
                return self._error is not None or self._run_started_after.get(run_id, 0) >= sent
            try:
                await asyncio.wait_for(self._done.wait_for(finished), self.timeout)
            except TimeoutError:
                raise ProtocolError(f"no script_finished within {self.timeout:.0f}s") from None
        if self._run_started_after.get(self._last_done[0], 0) < sent:
            raise ProtocolError(f"connection failed: {self._error!r}")
        return time.perf_counter() - start

    # ------------------------------------------------------------------ what the browser does unasked
    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or interval <= 0:
            return  # the frontend ignores an auto_rerun without a fragment
        if fragment_id in self._timers and self._timers[fragment_id][0] == interval:
            return  # re-registering the same interval does not restart the countdown
        self._cancel_timers([fragment_id])
        task = asyncio.create_task(self._auto_rerun_loop(fragment_id, interval), name=f"auto-rerun-{fragment_id}")
        self._timers[fragment_id] = (interval, task)

    def _cancel_timers(self, fragment_ids: list[str]) -> None:
        for fragment_id in fragment_ids:
            entry = self._timers.pop(fragment_id, None)
            if entry is not None:
                entry[1].cancel()

    async def _auto_rerun_loop(self, fragment_id: str, interval: float) -> None:
        """setInterval(sendUpdateWidgetsMessage(fragmentId, true)): send, do not wait for the run."""
        while self._ws is not None and self._error is None:
            await asyncio.sleep(interval)
            try:
                data = self._rerun_msg(fragment_id, None, is_auto_rerun=True)
                async with self._done:
                    self._sent += 1
                    await self._ws.send(data)
            except Exception:  # noqa: BLE001 - a closed connection: the reader keeps the error, a waiting call raises it
                return
            self.auto_reruns_sent += 1

    def _fetch_new_images(self) -> None:
        for _, url in self.images():
            if url not in self._seen_urls:
                self._seen_urls.add(url)
                task = asyncio.create_task(self._fetch_image(url))
                self._fetching.add(task)
                task.add_done_callback(self._fetching.discard)

    async def _fetch_image(self, url: str) -> None:
        try:
            if await self.fetch(url):
                self.images_fetched.append(url)
            else:
                self.image_errors.append(f"{url}: empty")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept in image_errors, which the tests assert on
            self.image_errors.append(f"{url}: {type(exc).__name__}: {exc}")

    async def wait_for_text(self, pattern: str, timeout: float | None = None) -> str:
        """Wait until a text on the page (see `texts`) matches the regex `pattern` (re.search), as the
        page changes on its own (auto-reruns); return that text."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for text in self.texts():
                if regex.search(text):
                    return text
            if self._error is not None:
                raise ProtocolError(f"connection failed: {self._error!r}")
            if time.monotonic() > deadline:
                raise ProtocolError(f"no text matching {pattern!r}; have {self.texts()[:8]}")
            await asyncio.sleep(0.1)

    # ------------------------------------------------------------------ reading the page
    def images(self) -> list[tuple[str, str]]:
        """(caption, absolute media URL) of every image on the page."""
        out = []
        for msg in self.elements():
            el = msg.delta.new_element
            if el.WhichOneof("type") == "imgs":
                for img in el.imgs.imgs:
                    url = img.url if "://" in img.url else f"{self.base_url}/{img.url.lstrip('/')}"
                    out.append((img.caption, url))
        return out

    def image(self, caption_prefix: str) -> str:
        for caption, url in self.images():
            if caption.startswith(caption_prefix):
                return url
        raise KeyError(f"no image captioned {caption_prefix!r}…; have {[c for c, _ in self.images()]}")

    def exceptions(self) -> list[str]:
        """'Type: message' of each st.exception element (and script compile error) on the page."""
        out = []
        for msg in self.elements():
            el = msg.delta.new_element
            if el.WhichOneof("type") == "exception":
                out.append(f"{el.exception.type}: {el.exception.message}")
        return out

    def texts(self) -> list[str]:
        """Text of markdown, captions, headings, alerts and metrics, in page order."""
        out = []
        for msg in self.elements():
            el = msg.delta.new_element
            kind = el.WhichOneof("type")
            if kind == "markdown":
                out.append(el.markdown.body)
            elif kind == "heading":
                out.append(el.heading.body)
            elif kind == "alert":
                out.append(el.alert.body)
            elif kind == "text":
                out.append(el.text.body)
            elif kind == "metric":
                out.append(f"{el.metric.label}: {el.metric.body}")
        return out

    async def fetch(self, url: str) -> bytes:
        """GET a media URL of this server and return its bytes (raises on a non-200 answer)."""
        _require_local(url)
        status, _, body = await http_get(url, timeout=self.timeout)
        if status != 200:
            raise ProtocolError(f"GET {url} answered {status}")
        return body


def _exception_delta(exc: Any) -> ForwardMsg:
    """A compile error arrives as a session_event; show it as an exception element, like the page does."""
    msg = ForwardMsg()
    msg.delta.new_element.exception.CopyFrom(exc)
    msg.metadata.delta_path.extend([0, 10_000])
    return msg
