"""Content negotiation, Link header, tenant and option parsing (clause 6.3)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from broker.api.http import (
    GEO_JSON,
    JSON,
    LD_JSON,
    link_context,
    list_param,
    negotiate,
    options_of,
    tenant_of,
)
from broker.errors import BadRequestData, NotAcceptable

OFFERED = (JSON, LD_JSON, GEO_JSON)


def _req(headers: dict[str, str] | None = None, path: str = "/") -> object:
    return make_mocked_request("GET", path, headers=headers or {})


def test_no_accept_header_gives_application_json() -> None:
    assert negotiate(_req(), OFFERED) == JSON


def test_accept_ld_json_is_chosen() -> None:
    assert negotiate(_req({"Accept": "application/ld+json"}), OFFERED) == LD_JSON


def test_accept_quality_values_pick_the_preferred_type() -> None:
    header = "application/json;q=0.5, application/geo+json;q=0.9"
    assert negotiate(_req({"Accept": header}), OFFERED) == GEO_JSON


def test_accept_wildcard_gives_application_json() -> None:
    assert negotiate(_req({"Accept": "text/html, */*;q=0.1"}), OFFERED) == JSON


def test_unacceptable_accept_is_406_naming_accept() -> None:
    with pytest.raises(NotAcceptable) as info:
        negotiate(_req({"Accept": "text/html"}), OFFERED)
    assert info.value.field == "Accept"


def test_accept_with_q_zero_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable):
        negotiate(_req({"Accept": "application/json;q=0"}), (JSON,))


def test_link_header_context_url_is_extracted() -> None:
    header = (
        '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; '
        'type="application/ld+json"'
    )
    assert link_context(_req({"Link": header})) == "https://example.org/ctx.jsonld"


def test_link_header_with_other_rel_is_ignored() -> None:
    assert link_context(_req({"Link": '<https://example.org/a>; rel="next"'})) is None


def test_two_context_link_headers_are_rejected() -> None:
    rel = 'rel="http://www.w3.org/ns/json-ld#context"'
    header = f"<https://a.org/1>; {rel}, <https://a.org/2>; {rel}"
    with pytest.raises(BadRequestData):
        link_context(_req({"Link": header}))


def test_tenant_from_ngsild_tenant_header() -> None:
    assert tenant_of(_req({"NGSILD-Tenant": "city_a"})) == "city_a"


def test_fiware_service_is_an_alias_for_the_tenant() -> None:
    assert tenant_of(_req({"Fiware-Service": "province"})) == "province"


def test_no_tenant_header_is_the_default_tenant() -> None:
    assert tenant_of(_req()) == ""


def test_tenant_with_forbidden_characters_is_rejected_naming_the_header() -> None:
    with pytest.raises(BadRequestData) as info:
        tenant_of(_req({"NGSILD-Tenant": "../etc"}))
    assert info.value.field == "NGSILD-Tenant"


def test_options_are_split_on_commas_and_checked() -> None:
    req = _req(path="/?options=keyValues,sysAttrs")
    assert options_of(req, frozenset({"keyValues", "sysAttrs"})) == {"keyValues", "sysAttrs"}
    with pytest.raises(BadRequestData) as info:
        options_of(_req(path="/?options=fast"), frozenset({"keyValues"}))
    assert info.value.field == "options"


def test_list_param_rejects_empty_items() -> None:
    assert list_param(_req(path="/?attrs=a,b"), "attrs") == ["a", "b"]
    assert list_param(_req(path="/"), "attrs") is None
    with pytest.raises(BadRequestData):
        list_param(_req(path="/?attrs=a,,b"), "attrs")
