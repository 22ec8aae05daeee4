"""Operational endpoints (not part of NGSI-LD): /health answers 200 once the store is ready and
/metrics exposes Prometheus counters of the requests served."""

from __future__ import annotations

import re

from conformance_tests.client import Client, new_id
from conformance_tests.samples import vehicle

# name, optional labels (label values may themselves hold braces, e.g. a route "{entityId}"),
# value.
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+([-+0-9.eE]+|NaN|[+-]Inf)(\s+\d+)?$")


def _request_count(client: Client) -> float:
    """Sum of every `*request*_total` counter sample on /metrics."""
    r = client.get("/metrics")
    assert r.status == 200, r
    assert r.content_type.startswith("text/plain") or "openmetrics" in r.content_type, r
    total = 0.0
    found = False
    for line in r.body.decode().splitlines():
        m = SAMPLE.match(line)
        if m and "request" in m.group(1) and m.group(1).endswith("_total"):
            total += float(m.group(3))
            found = True
    assert found, "no request counter (…request…_total) on /metrics"
    return total


def test_health_answers_200(client: Client) -> None:
    r = client.get("/health")
    assert r.status == 200, r


def test_metrics_exposes_request_counters_in_prometheus_format(client: Client) -> None:
    _request_count(client)


def test_metrics_request_count_grows_with_requests(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _request_count(client)
    for _ in range(5):
        client.entity(entity["id"])
    client.retrieve(new_id())
    after = _request_count(client)
    assert after - before >= 6


def test_metrics_counts_requests_by_status(client: Client) -> None:
    client.retrieve(new_id())
    text = client.get("/metrics").body.decode()
    assert re.search(r'request[a-z_]*_total\{.*status="404".*\}', text), (
        "request counter should carry the HTTP status"
    )
