"""Durability (issue "Must show"): restarting the broker loses no acknowledged write, on each
store the suite runs. Needs a broker the suite started (skipped with AGORA_URL)."""

from __future__ import annotations

import pytest

from conformance_tests.client import attrs_path, entity_path
from conformance_tests.conftest import Target
from conformance_tests.samples import full_vehicle, vehicle


def test_acknowledged_writes_survive_a_broker_restart(target: Target) -> None:
    if target.broker is None:
        pytest.skip("the broker under test was not started by the suite (AGORA_URL)")
    client = target.client()
    tenant = target.client("durability")
    created = [vehicle() for _ in range(40)] + [full_vehicle() for _ in range(10)]
    for entity in created:
        client.create(entity)
    in_tenant = vehicle()
    tenant.create(in_tenant)
    updated = created[0]
    speed = {"type": "Property", "value": 7, "unitCode": "KMH"}
    assert client.patch(attrs_path(updated["id"]), json={"speed": speed}).status == 204
    deleted = created[1]
    assert client.delete(entity_path(deleted["id"])).status == 204
    removed_attr = created[2]
    assert client.delete(attrs_path(removed_attr["id"], "brandName")).status == 204

    target.broker.restart()

    for entity in created[3:]:
        assert client.entity(entity["id"]) == entity
    assert client.entity(updated["id"]) == {**updated, "speed": speed}
    assert not client.exists(deleted["id"])
    assert "brandName" not in client.entity(removed_attr["id"])
    assert tenant.entity(in_tenant["id"]) == in_tenant


def test_writes_right_before_a_restart_are_not_lost(target: Target) -> None:
    if target.broker is None:
        pytest.skip("the broker under test was not started by the suite (AGORA_URL)")
    client = target.client()
    last = vehicle()
    client.create(last)
    target.broker.restart()
    assert client.entity(last["id"]) == last


def test_acknowledged_writes_survive_a_broker_crash(target: Target) -> None:
    """SIGKILL: no graceful shutdown, so every 201/204 must already be durable."""
    broker = target.broker
    if broker is None or broker.proc is None:
        pytest.skip("the broker under test was not started by the suite (AGORA_URL)")
    client = target.client()
    created = [vehicle() for _ in range(30)]
    for entity in created:
        client.create(entity)
    speed = {"type": "Property", "value": 3}
    assert client.patch(attrs_path(created[0]["id"]), json={"speed": speed}).status == 204

    broker.proc.kill()
    broker.proc.wait(10)
    broker.proc = None
    broker.start()

    assert client.entity(created[0]["id"]) == {**created[0], "speed": speed}
    for entity in created[1:]:
        assert client.entity(entity["id"]) == entity
