"""Where the suite's brokers come from.

- `AGORA_URL` set: every test runs against that broker (any NGSI-LD broker; tests that need to
  restart or start brokers are skipped).
- otherwise the suite starts `agora serve` itself, once on SQLite (a temp file) and once on
  MongoDB (`nx-27017`, or `MONGODB_URL` when set), and every test runs against both
  (ids `sqlite` and `mongo`; `AGORA_CONFORMANCE_STORES=sqlite` limits the run).

The brokers it starts check writes of the bundled Smart Data Models types in two tenants
(`validated`: enforce, `warned`: warn; every other tenant: off). They get
`AGORA_ALLOW_PRIVATE_URLS=true` so that they may fetch the @context
documents the suite serves on 127.0.0.1 and notify the receiver it runs there, and
`AGORA_NOTIFICATION_CA_FILE` naming the suite's throwaway CA (`suite_ca`), so that they trust
the TLS receivers and MQTT servers whose certificates it issued.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance_tests import servers
from conformance_tests.client import Client
from conformance_tests.context_server import ContextServer
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.samples import USER_CONTEXT
from conformance_tests.subscription_support import Subscriptions

if TYPE_CHECKING:
    from conformance_tests.tls import TestCa

STORES = ("sqlite", "mongo")
VALIDATED_TENANT = "validated"
WARNED_TENANT = "warned"
BROKER_ENV = {
    "AGORA_ALLOW_PRIVATE_URLS": "true",
    # two tenants whose writes of Smart Data Models types are checked (test_sdm_validation)
    "AGORA_VALIDATION_TENANTS": f"{VALIDATED_TENANT}=enforce,{WARNED_TENANT}=warn",
    "AGORA_LOG_LEVEL": "WARNING",
    "AGORA_ACCESS_LOG": "false",
}


def _targets() -> list[str]:
    if os.environ.get("AGORA_URL"):
        return ["remote"]
    wanted = os.environ.get("AGORA_CONFORMANCE_STORES", ",".join(STORES))
    chosen = [s.strip() for s in wanted.split(",") if s.strip()]
    unknown = set(chosen) - set(STORES)
    if unknown:
        raise pytest.UsageError(f"AGORA_CONFORMANCE_STORES: unknown store(s) {sorted(unknown)}")
    return chosen


@dataclass
class Target:
    """The broker under test."""

    name: str
    url: str
    broker: servers.Broker | None  # None when given by AGORA_URL (cannot be restarted)

    def client(self, tenant: str | None = None) -> Client:
        return Client(self.url, tenant=tenant)


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    with servers.mongo_wire_server() as url:
        yield url


@pytest.fixture(scope="session")
def suite_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """The CA the brokers the suite starts trust for notification endpoints."""
    from conformance_tests.tls import TestCa

    return TestCa(tmp_path_factory.mktemp("agora-tls"), "suite-ca")


@pytest.fixture(scope="session", params=_targets())
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    name = request.param
    if name == "remote":
        yield Target("remote", os.environ["AGORA_URL"].rstrip("/"), None)
        return
    ca: TestCa = request.getfixturevalue("suite_ca")
    env = {**BROKER_ENV, "AGORA_NOTIFICATION_CA_FILE": str(ca.ca_file)}
    if name == "sqlite":
        path = tmp_path_factory.mktemp("agora-sqlite") / "agora.db"
        store = f"sqlite:///{path}"
    else:
        store = request.getfixturevalue("mongo_url")
        env["AGORA_MONGO_DB_PREFIX"] = f"agora-conf-{uuid.uuid4().hex[:8]}"
    broker = servers.Broker(store, env=env)
    broker.start()
    try:
        yield Target(name, broker.url, broker)
    finally:
        broker.stop()


@pytest.fixture
def client(target: Target) -> Client:
    return target.client()


@pytest.fixture(scope="session")
def context_server() -> Iterator[ContextServer]:
    with ContextServer() as server:
        yield server


@pytest.fixture(scope="session")
def receiver() -> Iterator[NotificationReceiver]:
    """An HTTP server on 127.0.0.1 that records the notifications it is sent."""
    with NotificationReceiver() as server:
        yield server


@pytest.fixture
def subscriptions() -> Iterator[Subscriptions]:
    """Creates subscriptions for a test and deletes them after it."""
    made = Subscriptions()
    yield made
    made.delete_all()


@pytest.fixture(scope="session")
def user_context_url(context_server: ContextServer) -> str:
    """The URL of the suite's user @context (see samples.USER_TERMS)."""
    return context_server.publish("/contexts/agora-user.jsonld", USER_CONTEXT)


@pytest.fixture
def spawn_broker(
    target: Target, tmp_path: Path
) -> Iterator[Callable[[dict[str, str]], servers.Broker]]:
    """Start an extra broker on SQLite with the given environment (not with AGORA_URL)."""
    if target.broker is None:
        pytest.skip("needs a broker the suite starts itself (AGORA_URL is set)")
    started: list[servers.Broker] = []

    def spawn(env: dict[str, str]) -> servers.Broker:
        path = tmp_path / f"extra-{len(started)}.db"
        broker = servers.Broker(f"sqlite:///{path}", env={**BROKER_ENV, **env})
        started.append(broker)
        broker.start()
        return broker

    yield spawn
    for broker in started:
        with contextlib.suppress(Exception):
            broker.stop()
