"""The yardstick: a bare aiohttp + uvloop + orjson JSON server with the broker's URL shapes.

GET answers a fixed NGSI-LD entity, POST and PATCH parse the JSON body and answer 201/204,
a batch upsert parses its array and answers 201 with the ids —
the least any JSON API server must do for those requests. Benchmarks report the broker's
throughput as a ratio to this server's, measured in the same run on the same CPU.

    python bench/baseline.py --port 8080
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
from aiohttp import web

ENTITY = {
    "id": "urn:ngsi-ld:Vehicle:bench",
    "type": "Vehicle",
    "brandName": {"type": "Property", "value": "Mercedes"},
    "speed": {"type": "Property", "value": 80, "unitCode": "KMH"},
    "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}},
}
LINK = (
    '<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; '
    'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


async def get_entity(request: web.Request) -> web.Response:
    body = dict(ENTITY, id=request.match_info["entityId"])
    return web.Response(
        body=orjson.dumps(body), content_type="application/json", headers={"Link": LINK}
    )


async def create_entity(request: web.Request) -> web.Response:
    payload = orjson.loads(await request.read())
    location = f"/ngsi-ld/v1/entities/{payload['id']}"
    return web.Response(status=201, headers={"Location": location})


async def update_attrs(request: web.Request) -> web.Response:
    orjson.loads(await request.read())
    return web.Response(status=204)


async def batch_upsert(request: web.Request) -> web.Response:
    payload = orjson.loads(await request.read())
    created = [entity["id"] for entity in payload]
    return web.Response(body=orjson.dumps(created), status=201, content_type="application/json")


async def health(request: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/ngsi-ld/v1/entities/{entityId}", get_entity)
    app.router.add_post("/ngsi-ld/v1/entities", create_entity)
    app.router.add_patch("/ngsi-ld/v1/entities/{entityId}/attrs", update_attrs)
    app.router.add_post("/ngsi-ld/v1/entityOperations/upsert", batch_upsert)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(
        make_app(), host=args.host, port=args.port, loop=loop, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
