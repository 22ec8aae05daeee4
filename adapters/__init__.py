"""Southbound adapters: sensor protocols in, NGSI-LD entities out (over HTTP only)."""
