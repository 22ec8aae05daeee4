"""What handlers reach through `request.app[STATE]`: one typed object, no globals."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from broker.jsonld import ContextResolver
from broker.metrics import Metrics
from broker.services.batch import BatchService
from broker.services.discovery import DiscoveryService
from broker.services.entities import EntityService
from broker.services.purge import PurgeService
from broker.settings import Settings
from broker.storage.base import EntityStore
from broker.subscriptions.service import SubscriptionService


@dataclass(frozen=True)
class AppState:
    settings: Settings
    store: EntityStore
    resolver: ContextResolver
    entities: EntityService
    batch: BatchService
    purge: PurgeService
    discovery: DiscoveryService
    subscriptions: SubscriptionService
    metrics: Metrics
    store_kind: str


STATE = web.AppKey("state", AppState)
