"""Two app replicas behind HAProxy (tools/replicas.py): how sessions spread, and what a replica's crash costs.

1. `--sessions` new browsers (tools/harness/replica_client.py: HAProxy's cookie, Streamlit's websocket) arrive;
   reported: how many landed on each replica, and whether every later request and websocket stayed there.
2. Replica r1 is killed (SIGKILL); for each of its browsers, the time until page and websocket are served again
   (by r2).
3. The jobs of a crashed server: a stand-in for the crashed replica's job side (a process that starts `--jobs`
   training jobs with tokens, as the app's registry does) is SIGKILLed; then another process looks for them by
   token. With local worker processes (no GAN_RAY_ADDRESS) a job dies with its server; with Ray (a local cluster:
   head with no CPUs, one worker node) the named, detached actors carry on and are re-attached.
Writes benchmarks/results/replicas.json.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import tools.harness.ray_cluster as ray_cluster  # before ray is imported: loopback-only Ray
from benchmarks.common import REPO, summary_ms, write_result
from gan_core.settings import settings
from tools.harness.replica_client import Visitor
from tools.replicas import running_replicas

STARTER = textwrap.dedent("""
    import json, sys, time
    import tools.harness.ray_cluster
    from gan_core import TrainConfig, WorkerJob
    from gan_core.train.ray_job import RayJob
    mode, tokens = sys.argv[1], sys.argv[2].split(",")
    config = TrainConfig(dataset="ring8", batch_size=64, num_threads=1)
    jobs = [RayJob(config, name=t[:6], token=t) if mode == "ray" else WorkerJob(config, name=t[:6]) for t in tokens]
    for job in jobs:
        job.start()
    for job in jobs:
        assert job.wait_until(10, 300), job.status()
    print(json.dumps({"pids": [job.pid for job in jobs]}), flush=True)
    time.sleep(3600)
""")


def crash_with_jobs(mode: str, tokens: list[str]) -> list[int | None]:
    """Start the jobs in a server stand-in, wait until each stepped, SIGKILL it; returns its workers' pids."""
    proc = subprocess.Popen([sys.executable, "-c", STARTER, mode, ",".join(tokens)], cwd=str(REPO),
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        pids = json.loads(line)["pids"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the server process only: as a crash, its children are not signalled
        proc.wait(10)
    return pids


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def jobs_lost(jobs: int) -> dict:
    tokens = [f"bench-token-{i:02d}-{os.getpid()}" for i in range(jobs)]
    pids = crash_with_jobs("local", tokens)
    time.sleep(5)  # a worker notices its parent is gone within a poll
    local_lost = sum(not alive(pid) for pid in pids)
    for pid in pids:  # whatever survived is not reachable by anyone: end it
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    with ray_cluster.local_cluster(workers=1, worker_cpus=jobs) as cluster:
        os.environ["GAN_RAY_ADDRESS"] = cluster.address
        settings.cache_clear()
        from gan_core.train.ray_job import RayJob
        crash_with_jobs("ray", tokens)
        t0 = time.monotonic()
        found, carried_on = 0, 0
        for token in tokens:
            job = RayJob.attach(token)
            if job is None:
                continue
            found += 1
            if job.wait_ready(60):
                step = job.trainer.step_count
                carried_on += job.wait_until(step + 20, 60)
            job.close()
        reattach_s = time.monotonic() - t0
    return {"jobs": jobs, "local_processes_lost": local_lost, "ray_found_again": found,
            "ray_lost": jobs - carried_on, "ray_reattach_and_20_steps_s": round(reattach_s, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    with running_replicas(2) as replicas:
        visitors = [Visitor(replicas.url) for _ in range(args.sessions)]
        landed = [v.get() for v in visitors]
        stayed = sum(all(v.get() == r for _ in range(3)) and v.websocket() == r
                     for v, r in zip(visitors, landed, strict=True))
        victims = [v for v, r in zip(visitors, landed, strict=True) if r == "r1"]
        times, moved_to = [], Counter()
        t0 = time.monotonic()
        replicas.kill("r1")
        for visitor in victims:  # each as soon as it retries, in turn: the clock runs from the kill
            replica, _ = visitor.served_within(60)
            times.append(time.monotonic() - t0)
            moved_to[replica] += 1
    result = {"sessions": args.sessions, "distribution": dict(Counter(landed)), "stayed_on_their_replica": stayed,
              "failover": {"browsers_on_killed_replica": len(victims), "moved_to": dict(moved_to),
                           "served_again_after": summary_ms(times)},
              "jobs_of_a_crashed_server": jobs_lost(args.jobs),
              "note": "one run on a 2-core machine shared with other developers' work"}
    write_result("replicas", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
