"""The adapter SDK: what a vendor needs to turn a sensor protocol into NGSI-LD entities.

An adapter implements `Adapter` (async `start(ctx)` and `stop()`), takes a configuration
dataclass, declares a `Manifest`, and is exposed as an `AdapterPlugin` under the entry-point
group `agora.adapters`. `AdapterContext.publish` delivers entities to any NGSI-LD broker.
"""

from adapters.sdk.client import BrokerUnavailable, NgsiLdClient, UpsertOutcome
from adapters.sdk.config import ConfigError, config_schema, load_config, read_config_file
from adapters.sdk.context import AdapterContext, JsonLdContext
from adapters.sdk.contract import Adapter, AdapterPlugin, MessageHandler
from adapters.sdk.manifest import Manifest, ManifestError
from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.publisher import PublishSettings
from adapters.sdk.registry import GROUP, BrokenAdapter, UnknownAdapter, discover

__all__ = [
    "GROUP",
    "Adapter",
    "AdapterContext",
    "AdapterMetrics",
    "AdapterPlugin",
    "BrokenAdapter",
    "BrokerUnavailable",
    "ConfigError",
    "JsonLdContext",
    "Manifest",
    "ManifestError",
    "MessageHandler",
    "NgsiLdClient",
    "PublishSettings",
    "UnknownAdapter",
    "UpsertOutcome",
    "config_schema",
    "discover",
    "load_config",
    "read_config_file",
]
