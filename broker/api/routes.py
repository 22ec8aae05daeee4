"""The route table: verb + path -> handler."""

from __future__ import annotations

from aiohttp import web

from broker.api import batch, contexts, discovery, entities, query, subscriptions, system

API = "/ngsi-ld/v1"


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/health", system.health),
            web.get("/metrics", system.metrics),
            web.get("/version", system.version),
            web.post(f"{API}/entities", entities.create_entity),
            web.post(f"{API}/entities/", entities.create_entity),
            web.get(f"{API}/entities", query.query_entities),
            web.get(f"{API}/entities/", query.query_entities),
            web.delete(f"{API}/entities", query.purge_entities),
            web.delete(f"{API}/entities/", query.purge_entities),
            web.post(f"{API}/entityOperations/query", query.query_entities_post),
            web.post(f"{API}/entityOperations/query/", query.query_entities_post),
            web.get(f"{API}/entities/{{entityId}}", entities.retrieve_entity),
            web.put(f"{API}/entities/{{entityId}}", entities.replace_entity),
            web.patch(f"{API}/entities/{{entityId}}", entities.merge_entity),
            web.delete(f"{API}/entities/{{entityId}}", entities.delete_entity),
            web.post(f"{API}/entities/{{entityId}}/attrs", entities.append_attributes),
            web.post(f"{API}/entities/{{entityId}}/attrs/", entities.append_attributes),
            web.patch(f"{API}/entities/{{entityId}}/attrs", entities.update_attributes),
            web.patch(f"{API}/entities/{{entityId}}/attrs/", entities.update_attributes),
            web.get(f"{API}/entities/{{entityId}}/attrs/{{attrId}}", entities.retrieve_attribute),
            web.patch(
                f"{API}/entities/{{entityId}}/attrs/{{attrId}}", entities.partial_update_attribute
            ),
            web.put(f"{API}/entities/{{entityId}}/attrs/{{attrId}}", entities.replace_attribute),
            web.delete(
                f"{API}/entities/{{entityId}}/attrs/{{attrId}}", entities.delete_attribute
            ),
            *_batch_routes(),
            *_discovery_routes(),
            *_subscription_routes(),
            web.post(f"{API}/jsonldContexts", contexts.add_context),
            web.get(f"{API}/jsonldContexts", contexts.list_contexts),
            web.get(f"{API}/jsonldContexts/{{contextId}}", contexts.serve_context),
            web.delete(f"{API}/jsonldContexts/{{contextId}}", contexts.delete_context),
        ]
    )


def _batch_routes() -> list[web.RouteDef]:
    """/entityOperations/{operation}, with or without a trailing slash (IoT Agents send
    `/entityOperations/upsert/?options=update`)."""
    handlers = {
        "create": batch.batch_create,
        "upsert": batch.batch_upsert,
        "update": batch.batch_update,
        "delete": batch.batch_delete,
        "merge": batch.batch_merge,
    }
    return [
        web.post(f"{API}/entityOperations/{operation}{slash}", handler)
        for operation, handler in handlers.items()
        for slash in ("", "/")
    ]


def _discovery_routes() -> list[web.RouteDef]:
    """/types and /attributes (clauses 6.25-6.28), the collections with or without a
    trailing slash, as /entities."""
    return [
        *(web.get(f"{API}/types{slash}", discovery.retrieve_types) for slash in ("", "/")),
        web.get(f"{API}/types/{{type}}", discovery.retrieve_type),
        *(
            web.get(f"{API}/attributes{slash}", discovery.retrieve_attributes)
            for slash in ("", "/")
        ),
        web.get(f"{API}/attributes/{{attrId}}", discovery.retrieve_attribute),
    ]


def _subscription_routes() -> list[web.RouteDef]:
    """/subscriptions (clauses 6.10-6.11), the collection with or without a trailing slash."""
    one = f"{API}/subscriptions/{{subscriptionId}}"
    return [
        *(
            web.post(f"{API}/subscriptions{slash}", subscriptions.create_subscription)
            for slash in ("", "/")
        ),
        *(
            web.get(f"{API}/subscriptions{slash}", subscriptions.query_subscriptions)
            for slash in ("", "/")
        ),
        web.get(one, subscriptions.retrieve_subscription),
        web.patch(one, subscriptions.update_subscription),
        web.delete(one, subscriptions.delete_subscription),
    ]
