"""create_app(settings): the one place that wires concrete parts together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from broker.api.middlewares import make_middleware
from broker.api.routes import add_routes
from broker.api.state import STATE, AppState
from broker.events import EventBus
from broker.jsonld import ContextResolver
from broker.metrics import Metrics
from broker.query.patterns import set_match_timeout
from broker.services.batch import BatchService
from broker.services.discovery import DiscoveryService
from broker.services.entities import EntityService
from broker.services.purge import PurgeService
from broker.services.timed_store import TimedStore
from broker.services.validation import ModelValidation
from broker.settings import Settings
from broker.storage.base import Store
from broker.subscriptions.http_transport import HttpTransport
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.leases import ThrottleLeases
from broker.subscriptions.matcher import Matcher
from broker.subscriptions.mqtt_transport import MqttTransport
from broker.subscriptions.notification import NotificationBuilder
from broker.subscriptions.notifier import Notifier, Transport
from broker.subscriptions.scheduler import PeriodicScheduler
from broker.subscriptions.service import SubscriptionService
from broker.subscriptions.stats import StatsBook
from broker.subscriptions.sync import SubscriptionSync
from broker.subscriptions.tls import notification_ssl_context

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> tuple[Store, str]:
    """The store the URL names, and its kind ("sqlite" or "mongodb")."""
    url = settings.store
    if url.startswith("sqlite:"):
        from broker.storage.sqlite import SqliteStore, parse_sqlite_url

        return SqliteStore(parse_sqlite_url(url), settings), "sqlite"
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from broker.storage.mongo import MongoStore

        return MongoStore(url, settings), "mongodb"
    raise ValueError(
        f"unsupported store URL '{url}': use sqlite:///path/agora.db or mongodb://host:port/"
    )


def public_base_url(settings: Settings) -> str:
    """Where receivers reach this broker (`public_url`, else the listener's address)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{host}:{settings.port}"


@dataclass(frozen=True)
class SubscriptionParts:
    """What runs the subscriptions: started and stopped by `_subscriptions_ctx`."""

    bus: EventBus
    service: SubscriptionService
    matcher: Matcher
    notifier: Notifier
    scheduler: PeriodicScheduler
    sync: SubscriptionSync
    stats: StatsBook
    store: Store


SUBSCRIPTION_PARTS = web.AppKey("subscription_parts", SubscriptionParts)


def create_app(settings: Settings) -> web.Application:
    set_match_timeout(settings.regex_timeout)
    tls = notification_ssl_context(settings)
    metrics = Metrics()
    raw_store, kind = open_store(settings)
    store = TimedStore(raw_store, metrics)
    resolver = ContextResolver(settings, store)
    bus = EventBus()
    validation = ModelValidation(settings.validation, settings.validation_tenants, metrics)
    entities = EntityService(store, bus, validation)
    index = SubscriptionIndex()
    stats = StatsBook()
    builder = NotificationBuilder(resolver, lambda: public_base_url(settings))
    http = HttpTransport(allow_private=settings.allow_private_urls, tls=tls)
    mqtt = MqttTransport(settings, metrics, tls)
    transports: dict[str, Transport] = {"http": http, "https": http, "mqtt": mqtt, "mqtts": mqtt}
    throttle = ThrottleLeases(store)
    notifier = Notifier(
        settings, builder.build, stats, metrics, transports, admit=throttle.admit_throttled
    )
    matcher = Matcher(index, notifier.submit, throttle=throttle)
    subscriptions = SubscriptionService(
        store, settings, entities.require_tenant, index, stats, on_removed=matcher.forget
    )
    scheduler = PeriodicScheduler(
        store, index, notifier.submit, metrics, page_size=settings.page_size_max
    )
    sync = SubscriptionSync(store, index, stats, on_removed=matcher.forget)
    state = AppState(
        settings=settings,
        store=store,
        resolver=resolver,
        entities=entities,
        batch=BatchService(
            store, bus, entities.locks, max_attributes=settings.max_attributes,
            validation=validation,
        ),
        purge=PurgeService(store, bus, entities.locks, page_size=settings.page_size_max),
        discovery=DiscoveryService(store, entities.require_tenant),
        subscriptions=subscriptions,
        metrics=metrics,
        store_kind=kind,
    )
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[make_middleware(metrics)]
    )
    app[STATE] = state
    app[SUBSCRIPTION_PARTS] = SubscriptionParts(
        bus, subscriptions, matcher, notifier, scheduler, sync, stats, store
    )
    add_routes(app)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_resolver_ctx)
    app.cleanup_ctx.append(_subscriptions_ctx)
    return app


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    await state.store.start()
    log.info("store ready: %s", state.store_kind)
    yield
    await state.store.close()
    log.info("store closed: pending writes flushed")


async def _resolver_ctx(app: web.Application) -> AsyncIterator[None]:
    resolver = app[STATE].resolver
    await resolver.start()
    yield
    await resolver.close()


async def _subscriptions_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the subscriptions, start the notifier, listen to changes, run the periodic
    scheduler and follow other replicas' changes in the store; at shutdown stop all that,
    deliver what is queued (for at most notification_drain_timeout), then write the
    delivery counters."""
    parts = app[SUBSCRIPTION_PARTS]
    settings = app[STATE].settings
    await parts.sync.load()
    await parts.notifier.start()
    parts.bus.subscribe(parts.matcher.on_change)
    tasks = [
        asyncio.create_task(_flush_stats(parts, settings.subscription_stats_flush_interval)),
        asyncio.create_task(parts.scheduler.run()),
        asyncio.create_task(parts.sync.run(settings.subscription_sync_interval)),
    ]
    yield
    parts.bus.unsubscribe(parts.matcher.on_change)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await parts.scheduler.close()
    await parts.notifier.close()
    await parts.stats.flush(parts.store)
    log.info("notifications drained, delivery counters saved")


async def _flush_stats(parts: SubscriptionParts, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await parts.stats.flush(parts.store)
