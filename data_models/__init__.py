"""Bundled Smart Data Models: JSON-LD contexts and JSON Schemas, validated offline."""
