"""Readings (the demo's protocol messages) to Smart Data Models entities, normalized NGSI-LD.

A reading is a JSON object: `{"sensor": "3", "at": "2026-11-30T08:00:00Z",
"temperature": 14.5, "humidity": 0.72}` for a weather station, `{"sensor": "3", "at": ...,
"occupied": true}` for a parking spot; `lat` and `lon` give the sensor's position.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data_models.registry import get_model


class BadReading(ValueError):
    """A reading that cannot become an entity; the text names the member."""


def entity_context(kind: str) -> Mapping[str, Any]:
    """The bundled Smart Data Models context of `kind`, sent inline with each entity."""
    model = get_model(kind)
    if model is None:
        raise LookupError(f"no bundled model for {kind}")
    context: Mapping[str, Any] = model.context["@context"]
    return context


def reading_to_entity(reading: Mapping[str, Any], site: str) -> dict[str, Any]:
    sensor = _member(reading, "sensor", str)
    at = _member(reading, "at", str)
    location = {
        "type": "GeoProperty",
        "value": {
            "type": "Point",
            "coordinates": [_member(reading, "lon", float), _member(reading, "lat", float)],
        },
    }
    if "occupied" in reading:
        occupied = _member(reading, "occupied", bool)
        return {
            "id": f"urn:ngsi-ld:ParkingSpot:{site}-{sensor}",
            "type": "ParkingSpot",
            "location": location,
            "status": _observed("occupied" if occupied else "free", at),
            "category": {"type": "Property", "value": ["onStreet"]},
            "refParkingSite": {
                "type": "Relationship", "object": f"urn:ngsi-ld:OnStreetParking:{site}",
            },
        }
    return {
        "id": f"urn:ngsi-ld:WeatherObserved:{site}-{sensor}",
        "type": "WeatherObserved",
        "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": at}},
        "location": location,
        "temperature": _observed(_member(reading, "temperature", float), at, unit="CEL"),
        "relativeHumidity": _observed(_member(reading, "humidity", float), at),
    }


def _observed(value: Any, at: str, unit: str | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {"type": "Property", "value": value, "observedAt": at}
    if unit:
        attribute["unitCode"] = unit
    return attribute


def _member(reading: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    if name not in reading:
        raise BadReading(f"{name}: missing")
    value = reading[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadReading(f"{name}: expected {kind.__name__}, got {value!r}")
    return value
