"""A tiny local Ray cluster for the cluster tests and benchmarks: a head with no CPUs and worker nodes with
one CPU each, all on 127.0.0.1, no dashboard, a small object store; always shut down."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from tools.harness.streamlit_server import free_port

OBJECT_STORE_BYTES = 100 * 1024 * 1024


# Ray replaces 127.0.0.1 in an address by the machine's outward IP unless clusters are marked local-only
# (the variable's name says Windows/OSX; on Linux it switches the same rule): everything stays on loopback.
# Read when ray is imported: this module sets it on import, before any test imports ray.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
os.environ.update(LOOPBACK_ENV)


def node_args(num_cpus: int) -> dict:
    return {"num_cpus": num_cpus, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": False,
            "node_ip_address": "127.0.0.1"}


@contextlib.contextmanager
def local_cluster(workers: int = 2, worker_cpus: int = 1) -> Iterator:
    """A ray.cluster_utils.Cluster (head: 0 CPUs) with `workers` worker nodes; its address is cluster.address."""
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={**node_args(0), "gcs_server_port": free_port()})
    try:
        for _ in range(workers):
            cluster.add_node(**node_args(worker_cpus))
        cluster.wait_for_nodes()
        yield cluster
    finally:
        import ray
        ray.shutdown()
        cluster.shutdown()
