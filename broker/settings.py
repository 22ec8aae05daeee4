"""Typed settings: defaults, `AGORA_*` environment variables and CLI flags.

Every field of `Settings` can be set by the environment variable `AGORA_<FIELD>` (upper case)
and, for the common ones, by a flag of `agora serve`. The table in docs/configuration.md is
generated from the field metadata here and checked by a test.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "AGORA_"


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    host: str = _setting("0.0.0.0", "Address the API listens on.")
    port: int = _setting(1026, "Port the API listens on (FIWARE convention: 1026).")
    store: str = _setting(
        "sqlite:///data/agora.db",
        "Store URL: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, "
        "`sqlite://:memory:` or `mongodb://host:port/`.",
    )
    mongo_db_prefix: str = _setting(
        "agora", "MongoDB database name prefix: `<prefix>` for the default tenant, "
        "`<prefix>-<tenant>` for the others."
    )
    mongo_journal: bool = _setting(
        True, "Acknowledge MongoDB writes only once journaled (`j: true`)."
    )
    allow_private_urls: bool = _setting(
        False,
        "Allow fetching user-supplied URLs (remote @context, notification endpoints) "
        "that resolve to private, loopback or link-local addresses.",
    )
    public_url: str = _setting(
        "",
        "The URL receivers reach this broker at (e.g. `https://broker.example.org`): the "
        "`Link` header of a notification names an @context this broker hosts (one given "
        "inline) under it. Empty: `http://<host>:<port>` of the listener, with the "
        "machine's name when listening on every address.",
    )
    max_body_bytes: int = _setting(1_048_576, "Largest request body accepted (413 above).")
    max_attributes: int = _setting(1000, "Most attributes one entity may carry.")
    context_fetch_timeout: float = _setting(
        5.0, "Seconds allowed to fetch one remote @context."
    )
    context_max_bytes: int = _setting(1_048_576, "Largest remote @context accepted, in bytes.")
    context_cache_size: int = _setting(256, "Remote @context documents kept in memory.")
    context_cache_ttl: float = _setting(
        3600.0, "Seconds a fetched remote @context is kept before it is fetched again."
    )
    page_size_max: int = _setting(1000, "Largest `limit` a query may ask for.")
    page_size_default: int = _setting(20, "`limit` when a query gives none.")
    batch_max_entities: int = _setting(1000, "Most entities one batch operation may carry.")
    regex_max_length: int = _setting(
        256, "Longest regular expression accepted in `idPattern` and the `~=` operator."
    )
    regex_timeout: float = _setting(
        0.05,
        "Seconds one `~=` or `idPattern` match may run; a query whose pattern takes longer "
        "is refused with 400 (a subscription's does not fire).",
    )
    query_max_length: int = _setting(
        4096, "Longest `q`, `scopeQ`, `type` or `csf` expression accepted."
    )
    query_max_depth: int = _setting(16, "Deepest parenthesis nesting accepted in a `q`.")
    indexed_attributes: tuple[str, ...] = _setting(
        (),
        "Attributes (full IRIs, comma-separated in the environment variable) whose values "
        "get an index, so that a selective q comparison on them is answered from the index "
        "instead of a walk over the tenant's entities. SQLite: a partial index per tenant, "
        "created at start-up and at the first write of the attribute; MongoDB: indexes on "
        "the attribute's `value` and `object`, created at start-up and at a tenant's first "
        "write.",
    )
    notification_timeout: float = _setting(
        10.0, "Seconds a notification may take when its endpoint sets no `timeout`."
    )
    notification_retries: int = _setting(
        2, "Further attempts after a notification failed (connection error, timeout, non-2xx)."
    )
    notification_retry_backoff: float = _setting(
        0.5, "Seconds before the first retry of a notification; doubled for each next one."
    )
    notification_queue_size: int = _setting(
        1000,
        "Notifications waiting per endpoint (scheme, host, port) before new ones are dropped "
        "and counted in `agora_notifications_dropped`.",
    )
    notification_concurrency: int = _setting(
        16,
        "Notifications in flight at once per endpoint (HTTP: scheme, host, port; MQTT: one "
        "connection), each on its own keep-alive connection for HTTP.",
    )
    notification_drain_timeout: float = _setting(
        5.0, "Seconds a graceful shutdown waits for queued notifications to be delivered."
    )
    notification_ca_file: str = _setting(
        "",
        "A PEM file of CA certificates trusted for `https://` and `mqtts://` notification "
        "endpoints in addition to the system trust store (e.g. a city's private CA). The "
        "receiver's certificate and host name are always verified; an endpoint whose "
        "certificate does not verify fails like an unreachable one. Empty: the system trust "
        "store alone.",
    )
    mqtt_keepalive: int = _setting(
        60, "Seconds between MQTT keep-alive pings on an idle notification connection."
    )
    mqtt_reconnect_backoff: float = _setting(
        0.5,
        "Seconds before an MQTT notification connection that failed to connect is tried "
        "again; doubled after each failure up to `mqtt_reconnect_backoff_max`.",
    )
    mqtt_reconnect_backoff_max: float = _setting(
        30.0, "Longest wait between two connect attempts to one MQTT server."
    )
    subscription_sync_interval: float = _setting(
        0.5,
        "Seconds between two looks at the store for subscriptions created, changed or "
        "deleted by another broker replica sharing it.",
    )
    subscription_stats_flush_interval: float = _setting(
        5.0,
        "Seconds between writes of the subscriptions' delivery counters (timesSent, "
        "lastSuccess, ...) to the store; they are also written at shutdown.",
    )
    validation: str = _setting(
        "off",
        "Checks writes of the bundled Smart Data Models types against their schemas: `off`, "
        "`warn` (stored, logged and counted in `agora_validation_failures`) or `enforce` "
        "(refused with 400 naming the field). Applies to every tenant not named in "
        "`validation_tenants`.",
    )
    validation_tenants: tuple[str, ...] = _setting(
        (),
        "Per-tenant validation modes overriding `validation`, as `tenant=mode` "
        "(comma-separated in the environment variable), e.g. `city-a=enforce,city-b=warn`.",
    )
    sqlite_synchronous: str = _setting(
        "NORMAL",
        "SQLite `synchronous` pragma (NORMAL survives a process crash; FULL also power loss).",
    )
    sqlite_readers: int = _setting(2, "SQLite read connections (each on its own thread).")
    sqlite_cache_mb: int = _setting(
        64,
        "SQLite page cache of each connection (the writer and every reader), in MB.",
    )
    group_commit_max: int = _setting(512, "Most writes the SQLite writer commits at once.")
    sqlite_writer: str = _setting(
        "auto",
        "Where the SQLite writer's connection lives: `process` (a process of its own, with "
        "its own GIL, so that writes and the event loop use two CPUs), `thread` (a thread of "
        "the broker's process) or `auto` (a process when the broker may run on two or more "
        "CPUs, by its CPU affinity and its cgroup CPU quota; else the thread). In-memory "
        "databases always use the thread.",
    )
    log_level: str = _setting("INFO", "Logging level.")
    access_log: bool = _setting(False, "Log every request.")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Defaults, overlaid by `AGORA_*` variables, overlaid by explicit (non-None) overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, type(f.default))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _coerce(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is tuple:
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        return raw
    except ValueError:
        raise SystemExit(
            f"invalid value for {ENV_PREFIX}{name.upper()}: {raw!r} (expected {kind.__name__})"
        ) from None


def settings_table() -> str:
    """The settings as a Markdown table (for docs/configuration.md)."""
    rows = ["| Setting | Environment variable | Default | Meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(Settings):
        rows.append(
            f"| `{f.name}` | `{ENV_PREFIX}{f.name.upper()}` | `{f.default}` | {f.metadata['doc']} |"
        )
    return "\n".join(rows) + "\n"
