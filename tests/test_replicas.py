"""Two app replicas behind HAProxy on 127.0.0.1 (`make replicas`, tools/replicas.py; run by `make test-cluster`).

New browsers spread over both replicas; each browser stays on its replica, its websocket included (HAProxy passes
the upgrade); when a replica is killed its browsers are served by the other one, page and websocket.
"""
from __future__ import annotations

import shutil
from collections import Counter

import pytest

from tests.conftest import require
from tools.harness.replica_client import Visitor

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def replicas():
    require(shutil.which("haproxy", path="/usr/sbin:/usr/bin") is not None, "haproxy (apt-get install haproxy)")
    from tools.replicas import running_replicas
    with running_replicas(2) as running:
        yield running


def test_sessions_spread_over_both_replicas_and_each_stays_on_its_own(replicas):
    visitors = [Visitor(replicas.url) for _ in range(8)]
    first = [v.get() for v in visitors]
    assert Counter(first) == {"r1": 4, "r2": 4}, first
    for visitor, replica in zip(visitors, first, strict=True):
        assert visitor.cookies["GANREPLICA"] == replica
        assert [visitor.get() for _ in range(3)] == [replica] * 3
        assert visitor.websocket() == replica, "the websocket goes where the page came from"
    assert Visitor(replicas.url).get("/") in ("r1", "r2"), "the app's page itself comes through the proxy"


def test_a_killed_replicas_browsers_are_served_by_the_other(replicas):
    visitors = [Visitor(replicas.url) for _ in range(4)]
    on = [v.get() for v in visitors]
    victims = [v for v, r in zip(visitors, on, strict=True) if r == "r1"]
    assert victims and len(victims) < len(visitors)
    replicas.kill("r1")
    for visitor in victims:
        replica, seconds = visitor.served_within(20)
        assert replica == "r2" and visitor.cookies["GANREPLICA"] == "r2", visitor.cookies
        assert seconds < 20
    for visitor, replica in zip(visitors, on, strict=True):
        if replica == "r2":
            assert visitor.get() == "r2" and visitor.websocket() == "r2", "the other replica's browsers stay"
