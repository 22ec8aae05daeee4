"""Clause 5.5 (error types) and 5.5.2 (ProblemDetails, IETF RFC 7807): every request that is
not served answers a ProblemDetails body with the NGSI-LD error type URI, a title and a detail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    JSON,
    Client,
    Response,
    assert_problem,
    attrs_path,
    entity_path,
    new_id,
)
from conformance_tests.context_server import ContextServer
from conformance_tests.samples import vehicle

Case = Callable[[Client, dict[str, Any], ContextServer], Response]

CASES: dict[str, tuple[Case, int, tuple[str, ...]]] = {
    "retrieve_unknown_entity": (
        lambda c, e, s: c.retrieve(new_id()), 404, ("ResourceNotFound",)
    ),
    "retrieve_invalid_entity_id": (
        lambda c, e, s: c.get(f"{API}/entities/not-a-uri"), 400, ("BadRequestData",)
    ),
    "create_malformed_json": (
        lambda c, e, s: c.post(f"{API}/entities", body=b"{", content_type=JSON),
        400,
        ("InvalidRequest",),
    ),
    "create_without_type": (
        lambda c, e, s: c.post(f"{API}/entities", json={"id": new_id()}),
        400,
        ("BadRequestData",),
    ),
    "create_duplicate": (
        lambda c, e, s: c.post(f"{API}/entities", json=e), 409, ("AlreadyExists",)
    ),
    "update_unknown_attribute": (
        lambda c, e, s: c.patch(attrs_path(e["id"], "nothing"), json={"value": 1}),
        404,
        ("ResourceNotFound",),
    ),
    "delete_unknown_attribute": (
        lambda c, e, s: c.delete(attrs_path(e["id"], "nothing")), 404, ("ResourceNotFound",)
    ),
    "not_acceptable": (
        lambda c, e, s: c.retrieve(e["id"], accept="text/html"), 406, ("NotAcceptable",)
    ),
    "unsupported_media_type": (
        lambda c, e, s: c.post(f"{API}/entities", body=b"{}", content_type="text/plain"),
        415,
        ("UnsupportedMediaType",),
    ),
    "unavailable_context": (
        lambda c, e, s: c.post(
            f"{API}/entities",
            json=vehicle(),
            context=f"{s.base_url}/missing/{uuid.uuid4().hex}.jsonld",
        ),
        503,
        ("LdContextNotAvailable",),
    ),
    "unknown_tenant": (
        lambda c, e, s: c.with_tenant(f"t{uuid.uuid4().hex[:10]}").retrieve(e["id"]),
        404,
        ("NonexistentTenant",),
    ),
    "method_not_allowed": (
        lambda c, e, s: c.put(f"{API}/entities", json=e), 405, ("MethodNotAllowed",)
    ),
}


@pytest.fixture
def entity(client: Client) -> dict[str, Any]:
    e = vehicle()
    client.create(e)
    return e


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_error_is_problem_details_with_type_title_and_detail(
    client: Client, entity: dict[str, Any], context_server: ContextServer, case: str
) -> None:
    make, status, types = CASES[case]
    assert_problem(make(client, entity, context_server), status, types)


def test_unknown_path_is_404_problem_details(client: Client) -> None:
    r = client.get(f"{API}/nothingHere", headers={"Accept": JSON})
    assert_problem(r, 404, ("ResourceNotFound", "InvalidRequest", "OperationNotSupported"))


def test_error_detail_names_the_offending_attribute(client: Client) -> None:
    e = vehicle(temperatureOutside={"type": "Property", "value": None})
    problem = assert_problem(client.post(f"{API}/entities", json=e), 400, "BadRequestData")
    assert "temperatureOutside" in problem["detail"] or problem.get("field") == (
        "temperatureOutside"
    ), problem


def test_error_detail_names_the_invalid_id(client: Client) -> None:
    e = vehicle()
    e["id"] = "definitely-not-a-uri"
    problem = assert_problem(client.post(f"{API}/entities", json=e), 400, "BadRequestData")
    assert "id" in problem["detail"].lower() or problem.get("field") == "id", problem


def test_problem_details_status_member_matches_the_http_status(client: Client) -> None:
    r = client.retrieve(new_id())
    problem = assert_problem(r, 404, "ResourceNotFound")
    if "status" in problem:
        assert problem["status"] == 404


def test_rejected_writes_leave_the_entity_as_it_was(client: Client, entity: dict[str, Any]) -> None:
    before = client.entity(entity["id"], params={"options": "sysAttrs"})
    bad_writes = [
        client.post(attrs_path(entity["id"]), json={"a=b": {"type": "Property", "value": 1}}),
        client.patch(attrs_path(entity["id"]), body=b"[", content_type=JSON),
        client.put(entity_path(entity["id"]), json={"type": "Vehicle", "speed": None}),
        client.patch(entity_path(entity["id"]), json={"speed": {"type": "Property"}}),
        client.put(attrs_path(entity["id"], "speed"), json={"type": "Property", "value": None}),
        client.patch(
            entity_path(entity["id"]),
            json={"location": {"type": "GeoProperty", "value": {"type": "Point"}}},
        ),
    ]
    for r in bad_writes:
        assert 400 <= r.status < 500, r
        assert_problem(r, r.status, ("BadRequestData", "InvalidRequest"))
    assert client.entity(entity["id"], params={"options": "sysAttrs"}) == before
