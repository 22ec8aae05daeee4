"""The NGSI-LD HTTP API: aiohttp handlers, one module per resource."""
