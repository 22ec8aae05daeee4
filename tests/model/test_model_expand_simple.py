"""The short path for the attribute shapes sensors send (`_Expander._simple`) makes exactly
what the general expansion makes: the same stored instance, or the same refusal."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broker.errors import NgsiLdError
from broker.jsonld import TermMap
from broker.model import expand
from broker.model.null import NGSI_LD_NULL

NOW = "2026-12-03T10:00:00.000Z"

MEMBER_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "KMH", "urn:ngsi-ld:V:1", "not a uri", NGSI_LD_NULL, "x:y",
                     "2026-12-03T10:00:00Z", "2026-12-03T10:00:00,5Z", "2026-13-03T10:00:00Z"]),
    st.lists(st.sampled_from(["urn:a:1", 3, None]), max_size=2),
    st.just({"type": "Point", "coordinates": [1.0, 2.0]}),
    st.just({"a": NGSI_LD_NULL}),
)
COORDINATES = st.one_of(
    st.floats(-200, 200), st.integers(-200, 200), st.just(float("nan")), st.just("1.0")
)
POINTS = st.one_of(
    # Mostly the plain Point, often something near it: ints, three or one coordinates, out
    # of range, a bbox, another geometry type, a member more.
    st.tuples(st.floats(-180, 180), st.floats(-90, 90)).map(
        lambda p: {"type": "Point", "coordinates": [p[0], p[1]]}
    ),
    st.lists(COORDINATES, min_size=1, max_size=3).map(
        lambda c: {"type": "Point", "coordinates": c}
    ),
    st.just({"type": "Point", "coordinates": [1.0, 2.0], "bbox": [1.0, 2.0, 1.0, 2.0]}),
    st.just({"coordinates": [1.0, 2.0], "type": "Point"}),
    st.just({"type": "MultiPoint", "coordinates": [[1.0, 2.0]]}),
    st.just({"type": "Point", "coordinates": [1.0, 2.0], "crs": "x"}),
    st.just({"type": "Point"}),
)
KEYS = st.sampled_from(
    ["value", "object", "unitCode", "observedAt", "datasetId", "objectType", "lang",
     "createdAt", "speed", "@context", "valueList"]
)


@st.composite
def attribute_objects(draw: st.DrawFn) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": draw(st.sampled_from(["Property", "Relationship", "GeoProperty"]))
    }
    main = "object" if obj["type"] == "Relationship" else "value"
    usual = st.one_of(st.integers(-5, 5), st.just(2.5), st.just("free"), st.booleans())
    if obj["type"] == "Relationship":
        usual = st.just("urn:ngsi-ld:V:1")
    elif obj["type"] == "GeoProperty":
        usual = POINTS
    if draw(st.integers(0, 9)):  # mostly a value the short path takes, often something else
        obj[main] = draw(st.one_of(usual, MEMBER_VALUES))
    for key in draw(st.lists(KEYS, max_size=2, unique=True)):
        good = {"unitCode": st.just("KMH"), "observedAt": st.just("2026-12-03T10:00:00Z")}
        obj[key] = draw(st.one_of(good.get(key, MEMBER_VALUES), MEMBER_VALUES))
    if draw(st.booleans()):  # the type member need not come first
        obj = {k: obj[k] for k in sorted(obj, key=lambda k: draw(st.integers(0, 3)))}
    return obj


def _expanded(obj: dict[str, Any], name: str, allow_null: bool) -> tuple[str, Any]:
    expander = expand._Expander(TermMap(), NOW, allow_null=allow_null, key_values=False)
    iri = expand.expand_attribute_name(name, TermMap())
    try:
        return "ok", expander.attribute(obj, (name,), iri)
    except NgsiLdError as exc:
        return "refused", (type(exc), str(exc), exc.to_problem().get("field"))


@settings(max_examples=1000, deadline=None)
@given(
    obj=attribute_objects(),
    name=st.sampled_from(["speed", "location", "observationSpace"]),
    allow_null=st.booleans(),
)
# Two faults: the general path names the datasetId, so the short path must not name the
# observedAt first.
@example(
    obj={"type": "Property", "value": 2.5, "observedAt": "", "datasetId": None},
    name="speed",
    allow_null=False,
)
def test_the_short_path_agrees_with_the_general_expansion(
    obj: dict[str, Any], name: str, allow_null: bool
) -> None:
    short = _expanded(obj, name, allow_null)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(expand._Expander, "_simple", lambda *args: None)
        general = _expanded(obj, name, allow_null)
    assert short == general


def test_the_short_path_takes_what_sensors_send() -> None:
    """The common shapes do not fall through to the general walk."""
    expander = expand._Expander(TermMap(), NOW, allow_null=False, key_values=False)
    for obj in (
        {"type": "Property", "value": 21.5, "unitCode": "CEL",
         "observedAt": "2026-12-03T09:59:58Z"},
        {"type": "Property", "value": "free"},
        {"type": "Relationship", "object": "urn:ngsi-ld:Device:d1"},
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]},
         "observedAt": "2026-12-03T09:59:58Z"},
    ):
        made = expander._simple(obj, obj["type"], ("a",), "https://example.org/a")
        assert made is not None and made["createdAt"] == NOW
