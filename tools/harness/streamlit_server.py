"""Start `streamlit run` on a free local port for browser tests, load tests and benchmarks.

`running_server()` is a context manager: the server runs in its own process group, an AppServer (URL, pid, log) is
yielded once /_stcore/health answers, and the whole group is killed on exit, whatever happens.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def find_chromium() -> str | None:
    """Path of the Debian chromium binary (or another Chrome), or None when none is installed."""
    for candidate in (os.environ.get("CHROMIUM_PATH", ""),) + CHROMIUM_CANDIDATES:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def launch_chromium(playwright, who: str):
    """Debian's headless Chromium with the flags this machine needs; a clear error names `who` if none is installed."""
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit(f"{who}: chromium not found (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_executable() -> str:
    venv_python = REPO / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def wait_healthy(base_url: str, proc: subprocess.Popen, timeout: float, what: str = "streamlit") -> None:
    """Until `base_url` answers Streamlit's health check (directly, or through HAProxy: `what` names the process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not answer {base_url}/_stcore/health within {timeout:.0f}s")


def kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything else left in the group
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)


class AppServer:
    """A running server: its URL, its process (for RSS readings) and its captured log."""

    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path) -> None:
        self.proc, self.url, self.log_path = proc, url, log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@contextlib.contextmanager
def running_server(app_path: str | os.PathLike = "app.py", env: dict[str, str] | None = None,
                   timeout: float = 60.0, extra_args: list[str] | None = None,
                   nice: int = 0) -> Iterator[AppServer]:
    """`streamlit run APP` headless on a free 127.0.0.1 port; yields an AppServer (URL, pid, log); always stops it."""
    port = free_port()
    app = Path(app_path)
    app = app if app.is_absolute() else REPO / app
    cmd = [python_executable(), "-m", "streamlit", "run", str(app),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--server.runOnSave", "false"] + list(extra_args or [])
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log_file = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=full_env, stdout=log_file, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log_file.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout)
        yield AppServer(proc, url, log_path)
    finally:
        kill_group(proc)
        with contextlib.suppress(OSError):
            if not os.environ.get("KEEP_STREAMLIT_LOG"):
                log_path.unlink()


def rss_bytes(pid: int, include_children: bool = True) -> int:
    """Resident memory of a process (and its children) from /proc, in bytes."""
    def one(p: int) -> int:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0
    total = one(pid)
    if include_children:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            total += rss_bytes(int(child), True)
    return total
