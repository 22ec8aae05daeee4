"""Prometheus metrics, one registry per application (no globals, so tests can run many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "agora_http_requests",
            "HTTP requests served, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "agora_http_request_duration_seconds",
            "Time to serve an HTTP request, by route and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "agora_store_operation_duration_seconds",
            "Time a store operation took, by operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.entities = Gauge(
            "agora_entities",
            "Entities stored, by tenant (read from the store at each scrape).",
            ["tenant"],
            registry=self.registry,
        )
        self.notifications_sent = Counter(
            "agora_notifications_sent",
            "Notifications delivered (2xx), by endpoint scheme.",
            ["scheme"],
            registry=self.registry,
        )
        self.notifications_failed = Counter(
            "agora_notifications_failed",
            "Notifications not delivered after every retry, by endpoint scheme.",
            ["scheme"],
            registry=self.registry,
        )
        self.notifications_dropped = Counter(
            "agora_notifications_dropped",
            "Notifications dropped because their endpoint's queue was full, by scheme.",
            ["scheme"],
            registry=self.registry,
        )
        self.notification_queue_depth = Gauge(
            "agora_notification_queue_depth",
            "Notifications waiting in the endpoint queues, by endpoint scheme.",
            ["scheme"],
            registry=self.registry,
        )
        self.notification_latency = Histogram(
            "agora_notification_duration_seconds",
            "Time from a change to the outcome of its notification, by endpoint scheme.",
            ["scheme"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.mqtt_connections = Gauge(
            "agora_mqtt_connections",
            "Open MQTT connections the notifier publishes through.",
            registry=self.registry,
        )
        self.mqtt_connect_failures = Counter(
            "agora_mqtt_connect_failures",
            "Failed attempts to connect to an MQTT server for notifications.",
            registry=self.registry,
        )
        self.validation_failures = Counter(
            "agora_validation_failures",
            "Writes that did not fit their bundled Smart Data Model, by model and outcome "
            "(warned: stored anyway; refused: rejected with 400).",
            ["model", "outcome"],
            registry=self.registry,
        )
        self.periodic_notifications = Counter(
            "agora_periodic_notifications",
            "Periodic (timeInterval) notifications this process claimed and queued.",
            registry=self.registry,
        )
