"""`make replicas`: app replicas behind HAProxy with cookie affinity, all on 127.0.0.1 (docs/serving-a-class.md).

Each replica is a `streamlit run app.py` on a free port; HAProxy (Debian's haproxy) listens on PORT and spreads new
browsers over them round-robin, then keeps each on its replica with a cookie (the websocket included). The replicas
share one cookie secret, so a browser that lands on another replica after a failover is accepted there. With
GAN_RAY_ADDRESS set, training runs on the Ray cluster and a student's job outlives the replica that started it.
Ctrl-C (or SIGTERM) stops HAProxy and every replica. `running_replicas()` is the same, for tests and benchmarks.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.harness.streamlit_server import free_port, kill_group, python_executable, wait_healthy

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "deploy" / "haproxy.cfg"
COOKIE = "GANREPLICA"


def render_config(bind: str, servers: dict[str, str]) -> str:
    """deploy/haproxy.cfg with the bind address and one `server NAME HOST:PORT cookie NAME check` line per replica."""
    lines = "\n".join(f"    server {name} {address} cookie {name} check" for name, address in servers.items())
    return TEMPLATE.read_text().replace("{bind}", bind).replace("{servers}", lines)


@dataclass
class Replicas:
    """The running set: HAProxy's URL, each replica's process and URL by name (r1, r2, ...)."""

    url: str
    haproxy: subprocess.Popen
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """End one replica at once (SIGKILL to its process group): a crashed server."""
        proc = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def start_replica(port: int, cookie_secret: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    cmd = [python_executable(), "-m", "streamlit", "run", str(REPO / "app.py"),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    log = open(log_dir / f"replica-{port}.log", "wb")  # noqa: SIM115 (the child keeps it)
    try:
        # one cookie secret for all: a browser moved to another replica keeps a valid XSRF cookie
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret, **env}
        return subprocess.Popen(cmd, cwd=str(REPO), env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()


@contextlib.contextmanager
def running_replicas(count: int = 2, port: int | None = None, env: dict[str, str] | None = None,
                     timeout: float = 120.0) -> Iterator[Replicas]:
    """`count` replicas and HAProxy in front on 127.0.0.1:`port` (a free one by default); always all stopped."""
    haproxy_bin = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy_bin).exists():
        raise FileNotFoundError("haproxy is not installed (apt-get install haproxy)")
    port = port or free_port()
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="gan-replicas-") as tmp:
        folder = Path(tmp)
        replicas = Replicas(url=f"http://127.0.0.1:{port}", haproxy=None)  # type: ignore[arg-type]
        try:
            for i in range(1, count + 1):
                replica_port = free_port()
                replicas.processes[f"r{i}"] = start_replica(replica_port, secret, env or {}, folder)
                replicas.urls[f"r{i}"] = f"http://127.0.0.1:{replica_port}"
            for name, proc in replicas.processes.items():
                wait_healthy(replicas.urls[name], proc, timeout)
            config = folder / "haproxy.cfg"
            config.write_text(render_config(f"127.0.0.1:{port}", {n: u.removeprefix("http://")
                                                                   for n, u in replicas.urls.items()}))
            replicas.haproxy = subprocess.Popen([haproxy_bin, "-f", str(config), "-db"], stdin=subprocess.DEVNULL,
                                                stdout=open(folder / "haproxy.log", "wb"),  # noqa: SIM115
                                                stderr=subprocess.STDOUT, start_new_session=True)
            wait_healthy(replicas.url, replicas.haproxy, 30, what="haproxy")
            yield replicas
        finally:
            if replicas.haproxy is not None:
                kill_group(replicas.haproxy)
            for proc in replicas.processes.values():
                kill_group(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8501, help="HAProxy's port on 127.0.0.1 (students open it)")
    parser.add_argument("--replicas", type=int, default=2, help="how many app replicas (default 2)")
    args = parser.parse_args(argv)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with running_replicas(args.replicas, args.port) as replicas:
        print(f"{args.replicas} replicas behind HAProxy: open {replicas.url}", flush=True)
        for name, url in replicas.urls.items():
            print(f"  {name}: {url}", flush=True)
        try:
            while not stop and replicas.haproxy.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
