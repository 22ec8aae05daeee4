"""create_app(settings): the one place that wires concrete parts together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from broker.api.middlewares import make_middleware
from broker.api.routes import add_routes
from broker.api.state import STATE, AppState
from broker.events import EventBus
from broker.jsonld import ContextResolver
from broker.metrics import Metrics
from broker.services.batch import BatchService
from broker.services.discovery import DiscoveryService
from broker.services.entities import EntityService
from broker.services.purge import PurgeService
from broker.services.timed_store import TimedStore
from broker.settings import Settings
from broker.storage.base import Store

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


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()
    raw_store, kind = open_store(settings)
    store = TimedStore(raw_store, metrics)
    resolver = ContextResolver(settings, store)
    bus = EventBus()
    entities = EntityService(store, bus)
    state = AppState(
        settings=settings,
        store=store,
        resolver=resolver,
        entities=entities,
        batch=BatchService(store, bus, entities.lock, max_attributes=settings.max_attributes),
        purge=PurgeService(store, bus, entities.lock, page_size=settings.page_size_max),
        discovery=DiscoveryService(store, entities.require_tenant),
        metrics=metrics,
        store_kind=kind,
    )
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[make_middleware(metrics)]
    )
    app[STATE] = state
    add_routes(app)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_resolver_ctx)
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
