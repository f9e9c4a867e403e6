"""A browser's view of app replicas behind HAProxy, without a browser: its cookies (HAProxy's GANREPLICA and
Streamlit's XSRF cookie), a page request and the websocket upgrade, each reporting which replica answered
(HAProxy's X-Replica header, set by deploy/haproxy.cfg). For tests/test_replicas.py and benchmarks/replicas.py."""
from __future__ import annotations

import http.cookies
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

XSRF_COOKIE = "_streamlit_xsrf"


@dataclass
class Visitor:
    """One browser: a cookie jar kept across requests."""

    url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep(self, set_cookies: list[str]) -> None:
        for raw in set_cookies:
            jar = http.cookies.SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    def get(self, path: str = "/_stcore/health", timeout: float = 5.0) -> str:
        """GET through the proxy; returns the replica that answered ('' if none); raises on an error status."""
        request = urllib.request.Request(self.url + path, headers=self._cookie_header())
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            self._keep(resp.headers.get_all("Set-Cookie") or [])
            resp.read()
            return resp.headers.get("X-Replica", "")

    def websocket(self, timeout: float = 10.0) -> str:
        """Open Streamlit's websocket as the frontend does (XSRF token as subprotocol); returns the replica."""
        from websockets.sync.client import connect
        netloc = urlsplit(self.url).netloc
        xsrf = self.cookies.get(XSRF_COOKIE, "placeholder")
        with connect(f"ws://{netloc}/_stcore/stream", subprotocols=["streamlit", xsrf], origin=f"http://{netloc}",
                     additional_headers=self._cookie_header(), open_timeout=timeout, proxy=None) as ws:
            return ws.response.headers.get("X-Replica", "")

    def served_within(self, timeout: float) -> tuple[str, float]:
        """Retry page + websocket until both answer (a failover); returns (replica, seconds it took)."""
        from websockets.exceptions import InvalidHandshake
        start = time.monotonic()
        last: BaseException | None = None
        while time.monotonic() - start < timeout:
            try:
                page = self.get()
                if self.websocket() == page:
                    return page, time.monotonic() - start
            except (urllib.error.URLError, OSError, TimeoutError, InvalidHandshake) as exc:  # not there yet
                last = exc
            time.sleep(0.05)
        raise TimeoutError(f"not served again within {timeout} s: {last!r}")
