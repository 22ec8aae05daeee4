"""NGSI-LD payloads: validation into the stored (expanded) form, the update rules, and the
renderers back to the wire forms (normalized, concise, keyValues, GeoJSON).

- `expand`: wire payload -> ExpandedEntity / ExpandedAttrs (normalized, concise, keyValues
  input), validating every member; BadRequestData names the offending field.
- `render`: ExpandedEntity -> normalized, concise, keyValues, GeoJSON Feature.
- `operations`: the update rules (append, update, merge, partial attribute update, replace,
  delete) as pure functions returning new entities and an UpdateResult.
- `null`: how the NGSI-LD Null travels from expansion to the update rules.
- `geojson`: GeoJSON geometry validation (also used by geo-queries).
- `validate`: URI, DateTime, name, scope and language tag checks.
- `language`: the Language Filter (`lang`).
"""
