"""NGSI-LD payloads: validation into the stored (expanded) form, the update rules, and the
renderers back to the wire forms (normalized, concise, keyValues, GeoJSON)."""
