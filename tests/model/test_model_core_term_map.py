"""The model with the broker's real TermMap (core context only): names in the core
namespace, like `location`, expand and compact back."""

from __future__ import annotations

from model_support import NOW, POINT

from broker.jsonld import TermMap
from broker.model.expand import expand_entity
from broker.model.render import RenderOptions, render_entity

VEHICLE = {
    "id": "urn:ngsi-ld:Vehicle:A1",
    "type": "Vehicle",
    "speed": {"type": "Property", "value": 80, "unitCode": "KMH",
              "observedAt": "2024-05-01T10:00:00.000Z",
              "accuracy": {"type": "Property", "value": 0.9}},
    "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Park:1", "objectType": "Park"},
    "location": {"type": "GeoProperty", "value": POINT},
    "category": {"type": "VocabProperty", "vocab": "non-commercial"},
    "route": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:City:1"}]},
}


def test_normalized_entity_round_trips_through_the_core_context() -> None:
    terms = TermMap()
    stored = expand_entity(VEHICLE, terms, now=NOW)
    assert "https://uri.etsi.org/ngsi-ld/location" in stored["attrs"]
    assert render_entity(stored, terms, RenderOptions()) == VEHICLE
