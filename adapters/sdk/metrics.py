"""Prometheus metrics per adapter, in a registry the runtime exposes on `/metrics`."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


class AdapterMetrics:
    """The metric families of one runtime; `for_adapter(name)` gives one adapter's series."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ["adapter"]
        self.messages_in = Counter(
            "agora_adapter_messages_in", "Protocol messages an adapter received.", labels,
            registry=self.registry,
        )
        self.entities_out = Counter(
            "agora_adapter_entities_out", "Entities the broker accepted.", labels,
            registry=self.registry,
        )
        self.errors = Counter(
            "agora_adapter_errors",
            "Errors: entities the broker rejected, failed requests, adapter errors.", labels,
            registry=self.registry,
        )
        self.dropped = Counter(
            "agora_adapter_dropped",
            "Entities dropped undelivered (buffer overflow, or still buffered at close).",
            labels, registry=self.registry,
        )
        self.buffered = Gauge(
            "agora_adapter_buffered", "Entities waiting to be sent.", labels,
            registry=self.registry,
        )

    def for_adapter(self, name: str) -> AdapterCounters:
        return AdapterCounters(
            messages_in=self.messages_in.labels(name),
            entities_out=self.entities_out.labels(name),
            errors=self.errors.labels(name),
            dropped=self.dropped.labels(name),
            buffered=self.buffered.labels(name),
        )


@dataclass(frozen=True, slots=True)
class AdapterCounters:
    """One adapter's series; the values are read back for health and tests."""

    messages_in: Counter
    entities_out: Counter
    errors: Counter
    dropped: Counter
    buffered: Gauge

    def snapshot(self) -> dict[str, float]:
        return {
            "messages_in": _value(self.messages_in),
            "entities_out": _value(self.entities_out),
            "errors": _value(self.errors),
            "dropped": _value(self.dropped),
            "buffered": _value(self.buffered),
        }


def _value(metric: Counter | Gauge) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                return float(sample.value)
    return 0.0
