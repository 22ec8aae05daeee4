"""Agora: an NGSI-LD context broker."""

__version__ = "0.1.0"
