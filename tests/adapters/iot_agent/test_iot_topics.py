"""Which MQTT topics carry measures, and what they name."""

from __future__ import annotations

import pytest

from adapters.iot_agent.topics import SUBSCRIPTIONS, Route, route_topic


@pytest.mark.parametrize(
    ("topic", "route"),
    [
        ("/json/key1/dev1/attrs", Route("key1", "dev1", "json")),
        ("/ul/key1/dev1/attrs", Route("key1", "dev1", "ul")),
        ("/json/key1/dev1/attrs/temperature", Route("key1", "dev1", "json", "temperature")),
        ("/ul/key1/dev1/attrs/t", Route("key1", "dev1", "ul", "t")),
        ("/key1/dev1/attrs", Route("key1", "dev1", None)),
        ("/key1/dev1/attrs/t", Route("key1", "dev1", None, "t")),
        ("json/key1/dev1/attrs", Route("key1", "dev1", "json")),
        ("key1/dev1/attrs", Route("key1", "dev1", None)),
        # an API key that happens to be spelled like a protocol, on the legacy topic
        ("/json/dev1/attrs/t", Route("json", "dev1", None, "t")),
    ],
)
def test_measures_topics_name_the_api_key_device_and_protocol(topic: str, route: Route) -> None:
    assert route_topic(topic) == route


@pytest.mark.parametrize(
    "topic",
    ["/json/key1/dev1/cmdexe", "/key1/dev1/cmd", "/json/key1//attrs", "/json/key1/dev1/attrs/t/x",
     "/", "", "/key1/attrs"],
)
def test_other_topics_are_not_measures(topic: str) -> None:
    assert route_topic(topic) is None


def _matches(pattern: str, topic: str) -> bool:
    want, got = pattern.split("/"), topic.split("/")
    return len(want) == len(got) and all(w in ("+", g) for w, g in zip(want, got, strict=True))


@pytest.mark.parametrize(
    "topic",
    ["/json/k/d/attrs", "/ul/k/d/attrs/t", "/k/d/attrs", "/k/d/attrs/t", "json/k/d/attrs",
     "k/d/attrs/t"],
)
def test_each_measures_topic_is_subscribed_exactly_once(topic: str) -> None:
    assert sum(_matches(p, topic) for p in SUBSCRIPTIONS) == 1
