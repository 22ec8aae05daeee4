"""Clause 6.4.3.2 / 5.7.2 Query Entities with `scopeQ` (clause 4.19): an exact scope, `+` for
exactly one level, `#` for a level and everything below it, `,` for OR and `;` for AND, over
entities with one scope, several scopes or none."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance_tests.client import API, JSON, Client, assert_problem, new_id

ENTITIES = f"{API}/entities"

SCOPES: dict[str, Any] = {
    "madrid": "/Madrid",
    "gardens": "/Madrid/Gardens",
    "retiro": "/Madrid/Gardens/Retiro",
    "streets": "/Madrid/Streets",
    "bcn_gardens": "/Barcelona/Gardens",
    "two_scopes": ["/Madrid/Gardens", "/Company/Fleet"],
    "no_scope": None,
}


@pytest.fixture
def scoped(client: Client) -> tuple[str, dict[str, str]]:
    """One entity per entry of SCOPES, all of a fresh type: (type, {name: id})."""
    t = f"Garden{uuid.uuid4().hex[:8]}"
    ids = {}
    for name, scope in SCOPES.items():
        entity: dict[str, Any] = {
            "id": new_id(t),
            "type": t,
            "name": {"type": "Property", "value": name},
        }
        if scope is not None:
            entity["scope"] = scope
        client.create(entity)
        ids[name] = entity["id"]
    return t, ids


def _ids(client: Client, t: str, scope_q: str) -> set[str]:
    r = client.get(ENTITIES, params={"type": t, "scopeQ": scope_q}, accept=JSON)
    assert r.status == 200, f"scopeQ={scope_q} failed: {r}"
    return {e["id"] for e in r.json()}


def _named(ids: dict[str, str], *names: str) -> set[str]:
    return {ids[n] for n in names}


def test_scope_q_with_a_full_scope_matches_exactly_that_scope(
    client: Client, scoped: Any
) -> None:
    t, ids = scoped
    assert _ids(client, t, "/Madrid") == _named(ids, "madrid")


def test_scope_q_matches_an_entity_having_that_scope_among_several(
    client: Client, scoped: Any
) -> None:
    t, ids = scoped
    assert _ids(client, t, "/Madrid/Gardens") == _named(ids, "gardens", "two_scopes")
    assert _ids(client, t, "/Company/Fleet") == _named(ids, "two_scopes")


def test_scope_q_with_hash_matches_the_level_and_everything_below(
    client: Client, scoped: Any
) -> None:
    t, ids = scoped
    got = _ids(client, t, "/Madrid/#")
    assert got == _named(ids, "madrid", "gardens", "retiro", "streets", "two_scopes")


def test_scope_q_with_hash_below_a_deeper_level(client: Client, scoped: Any) -> None:
    t, ids = scoped
    got = _ids(client, t, "/Madrid/Gardens/#")
    assert got == _named(ids, "gardens", "retiro", "two_scopes")


def test_scope_q_with_only_hash_matches_every_entity_that_has_a_scope(
    client: Client, scoped: Any
) -> None:
    t, ids = scoped
    assert _ids(client, t, "/#") == set(ids.values()) - {ids["no_scope"]}


def test_scope_q_with_plus_matches_exactly_one_level(client: Client, scoped: Any) -> None:
    t, ids = scoped
    got = _ids(client, t, "/Madrid/+")
    assert got == _named(ids, "gardens", "streets", "two_scopes")


def test_scope_q_with_plus_as_first_level(client: Client, scoped: Any) -> None:
    t, ids = scoped
    got = _ids(client, t, "/+/Gardens")
    assert got == _named(ids, "gardens", "bcn_gardens", "two_scopes")


def test_scope_q_with_plus_then_hash(client: Client, scoped: Any) -> None:
    t, ids = scoped
    got = _ids(client, t, "/+/Gardens/#")
    assert got == _named(ids, "gardens", "retiro", "bcn_gardens", "two_scopes")


def test_scope_q_comma_is_or(client: Client, scoped: Any) -> None:
    t, ids = scoped
    got = _ids(client, t, "/Madrid/Streets,/Barcelona/Gardens")
    assert got == _named(ids, "streets", "bcn_gardens")


def test_scope_q_semicolon_is_and(client: Client, scoped: Any) -> None:
    t, ids = scoped
    assert _ids(client, t, "/Madrid/Gardens;/Company/Fleet") == _named(ids, "two_scopes")
    assert _ids(client, t, "/Madrid/Streets;/Company/Fleet") == set()


def test_scope_q_without_a_match_is_an_empty_array(client: Client, scoped: Any) -> None:
    t, _ = scoped
    assert _ids(client, t, "/Valencia") == set()
    assert _ids(client, t, "/Madrid/Gardens/Retiro/Lake") == set()


def test_scope_q_combines_with_q(client: Client, scoped: Any) -> None:
    t, ids = scoped
    params = {"type": t, "scopeQ": "/Madrid/#", "q": 'name=="streets","retiro"'}
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, r
    assert {e["id"] for e in r.json()} == _named(ids, "streets", "retiro")


def test_entities_returned_by_scope_q_carry_their_scope(client: Client, scoped: Any) -> None:
    t, ids = scoped
    r = client.get(ENTITIES, params={"type": t, "scopeQ": "/Company/Fleet"}, accept=JSON)
    assert r.status == 200, r
    (entity,) = r.json()
    assert entity["id"] == ids["two_scopes"]
    assert sorted(entity["scope"]) == sorted(SCOPES["two_scopes"])


@pytest.mark.parametrize(
    "scope_q",
    ["/Madrid//Gardens", "/Madrid/#/Gardens", "/Madrid/", "/Madrid;", "/Mad rid"],
    ids=[
        "empty_level",
        "hash_not_last",
        "trailing_slash",
        "dangling_and",
        "space_in_level",
    ],
)
def test_malformed_scope_q_is_400_bad_request_data(client: Client, scope_q: str) -> None:
    t = f"Garden{uuid.uuid4().hex[:8]}"
    r = client.get(ENTITIES, params={"type": t, "scopeQ": scope_q}, accept=JSON)
    assert_problem(r, 400, "BadRequestData")
