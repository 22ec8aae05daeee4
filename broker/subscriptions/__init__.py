"""Subscriptions and notifications (clauses 5.2.12-5.2.15, 5.3, 5.8, 6.10-6.11, 7).

record.py (the stored form) · parse.py (payload -> stored form, validating) · render.py
(stored form -> payload) · qcodec.py (q ASTs as JSON) · compiled.py (a subscription ready to
match a change) · changes.py · index.py (subscriptions by tenant and type) · matcher.py (the
change listener) · notification.py (the Notification and its headers) · notifier.py
(per-endpoint queues, retries, counters) · http_transport.py and http_client.py (HTTP
delivery) · mqtt_endpoint.py and mqtt_transport.py (MQTT delivery) · scheduler.py (periodic
notifications) · leases.py (throttling through the store) · sync.py (loading, and following
other replicas' changes) · stats.py (delivery counters) · service.py (the use cases).
"""
