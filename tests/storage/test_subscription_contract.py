"""The subscription part of the store contract (SubscriptionStore in broker/storage/base.py),
on SQLite and MongoDB alike."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest
from store_support import EX, OpenStore

from broker.storage.base import DuplicateSubscription, Store, StoreError
from broker.types import DEFAULT_TENANT


def record(n: int | str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Subscription:{n}",
        "type": "Subscription",
        "entities": [{"type": EX + "Vehicle"}],
        "watchedAttributes": [EX + "speed.kmh", "$odd"],
        "notification": {
            "endpoint": {"uri": "http://receiver.example/n", "accept": "application/json"}
        },
        **extra,
    }


@pytest.fixture
async def subs(open_store: OpenStore) -> Store:
    return cast(Store, await open_store())


async def test_created_subscription_reads_back_equal(subs: Store) -> None:
    sent = record(1, q={"op": "==", "attr": EX + "a.b"})
    await subs.create_subscription(DEFAULT_TENANT, copy.deepcopy(sent))
    found = await subs.get_subscription(DEFAULT_TENANT, sent["id"])
    assert found is not None
    assert found.record == sent
    assert found.stats == {}
    assert found.tenant == DEFAULT_TENANT


async def test_duplicate_subscription_id_raises_and_keeps_the_first(subs: Store) -> None:
    await subs.create_subscription(DEFAULT_TENANT, record(1, description="first"))
    with pytest.raises(DuplicateSubscription):
        await subs.create_subscription(DEFAULT_TENANT, record(1, description="second"))
    found = await subs.get_subscription(DEFAULT_TENANT, record(1)["id"])
    assert found is not None and found.record["description"] == "first"


async def test_duplicate_subscription_is_a_store_error(subs: Store) -> None:
    await subs.create_subscription(DEFAULT_TENANT, record(1))
    with pytest.raises(StoreError):
        await subs.create_subscription(DEFAULT_TENANT, record(1))


async def test_unknown_subscription_is_none(subs: Store) -> None:
    assert await subs.get_subscription(DEFAULT_TENANT, record(9)["id"]) is None
    assert await subs.get_subscription("never-written", record(9)["id"]) is None


async def test_same_subscription_id_in_two_tenants_stays_apart(subs: Store) -> None:
    await subs.create_subscription("a", record(1, description="in a"))
    await subs.create_subscription("b", record(1, description="in b"))
    a = await subs.get_subscription("a", record(1)["id"])
    b = await subs.get_subscription("b", record(1)["id"])
    assert a is not None and a.record["description"] == "in a"
    assert b is not None and b.record["description"] == "in b"
    assert await subs.get_subscription(DEFAULT_TENANT, record(1)["id"]) is None


async def test_creating_a_subscription_creates_its_tenant(subs: Store) -> None:
    await subs.create_subscription("fresh", record(1))
    assert await subs.tenant_exists("fresh")


async def test_list_is_ordered_by_id_and_paged_with_a_total(subs: Store) -> None:
    for n in (3, 1, 4, 2, 5):
        await subs.create_subscription(DEFAULT_TENANT, record(n))
    await subs.create_subscription("other", record(9))
    page = await subs.list_subscriptions(DEFAULT_TENANT, limit=2, offset=1)
    assert [s.id for s in page.subscriptions] == [record(2)["id"], record(3)["id"]]
    assert page.total == 5
    count_only = await subs.list_subscriptions(DEFAULT_TENANT, limit=0)
    assert count_only.subscriptions == [] and count_only.total == 5


async def test_replace_overwrites_the_record_and_keeps_the_stats(subs: Store) -> None:
    await subs.create_subscription(DEFAULT_TENANT, record(1, description="old"))
    stats = {"timesSent": 3, "lastSuccess": "2026-01-01T00:00:00.000Z"}
    await subs.save_subscription_stats([(DEFAULT_TENANT, record(1)["id"], stats)])
    assert await subs.replace_subscription(DEFAULT_TENANT, record(1, description="new"))
    found = await subs.get_subscription(DEFAULT_TENANT, record(1)["id"])
    assert found is not None
    assert found.record == record(1, description="new")
    assert found.stats == stats


async def test_replace_of_unknown_subscription_is_false(subs: Store) -> None:
    assert not await subs.replace_subscription(DEFAULT_TENANT, record(1))
    assert await subs.get_subscription(DEFAULT_TENANT, record(1)["id"]) is None


async def test_delete_removes_the_subscription_once(subs: Store) -> None:
    await subs.create_subscription(DEFAULT_TENANT, record(1))
    assert await subs.delete_subscription(DEFAULT_TENANT, record(1)["id"])
    assert not await subs.delete_subscription(DEFAULT_TENANT, record(1)["id"])
    assert await subs.get_subscription(DEFAULT_TENANT, record(1)["id"]) is None
    await subs.create_subscription(DEFAULT_TENANT, record(1))


async def test_stats_of_unknown_subscriptions_are_skipped(subs: Store) -> None:
    await subs.create_subscription("t", record(1))
    await subs.save_subscription_stats(
        [("t", record(1)["id"], {"timesSent": 1}), ("t", record(2)["id"], {"timesSent": 7})]
    )
    assert await subs.get_subscription("t", record(2)["id"]) is None
    found = await subs.get_subscription("t", record(1)["id"])
    assert found is not None and found.stats == {"timesSent": 1}


async def test_load_gives_every_tenants_subscriptions_with_their_stats(
    open_store: OpenStore,
) -> None:
    first = cast(Store, await open_store())
    await first.create_subscription(DEFAULT_TENANT, record(1))
    await first.create_subscription("city.of/madrid", record(2))
    await first.save_subscription_stats([("city.of/madrid", record(2)["id"], {"timesSent": 2})])
    await first.close()
    again = cast(Store, await open_store())
    loaded = {(s.tenant, s.id): s for s in await again.load_subscriptions()}
    assert set(loaded) == {
        (DEFAULT_TENANT, record(1)["id"]),
        ("city.of/madrid", record(2)["id"]),
    }
    assert loaded["city.of/madrid", record(2)["id"]].stats == {"timesSent": 2}
    assert loaded[DEFAULT_TENANT, record(1)["id"]].record == record(1)


async def test_revision_changes_at_every_replace_and_lists_every_tenant(subs: Store) -> None:
    await subs.create_subscription(DEFAULT_TENANT, record(1))
    await subs.create_subscription("t2", record(2))
    first = await subs.subscription_revisions()
    assert set(first) == {(DEFAULT_TENANT, record(1)["id"]), ("t2", record(2)["id"])}
    assert all(first.values())
    await subs.replace_subscription(DEFAULT_TENANT, record(1, description="changed"))
    second = await subs.subscription_revisions()
    assert second[(DEFAULT_TENANT, record(1)["id"])] != first[(DEFAULT_TENANT, record(1)["id"])]
    assert second[("t2", record(2)["id"])] == first[("t2", record(2)["id"])]
    await subs.delete_subscription("t2", record(2)["id"])
    assert set(await subs.subscription_revisions()) == {(DEFAULT_TENANT, record(1)["id"])}


async def test_a_notification_slot_is_claimed_once_per_interval(subs: Store) -> None:
    sid = record(1)["id"]
    await subs.create_subscription(DEFAULT_TENANT, record(1))
    assert await subs.claim_notification(DEFAULT_TENANT, sid, 1000.0, 10) == (True, 1000.0)
    assert await subs.claim_notification(DEFAULT_TENANT, sid, 1005.0, 10) == (False, 1000.0)
    assert await subs.claim_notification(DEFAULT_TENANT, sid, 1010.0, 10) == (True, 1010.0)
    found = await subs.get_subscription(DEFAULT_TENANT, sid)
    assert found is not None and found.lease == 1010.0
    loaded = await subs.load_subscriptions()
    assert [s.lease for s in loaded] == [1010.0]


async def test_claiming_a_missing_subscription_is_refused(subs: Store) -> None:
    assert await subs.claim_notification(DEFAULT_TENANT, record(7)["id"], 1.0, 1) == (
        False,
        None,
    )


async def test_added_stats_sum_the_counts_and_keep_the_latest_times(subs: Store) -> None:
    sid = record(1)["id"]
    await subs.create_subscription(DEFAULT_TENANT, record(1))
    await subs.add_subscription_stats([(DEFAULT_TENANT, sid, {
        "timesSent": 3, "timesFailed": 1, "status": "ok",
        "lastNotification": "2026-01-01T00:00:03.000Z", "lastSuccess": "2026-01-01T00:00:03.000Z",
        "lastFailure": "2026-01-01T00:00:01.000Z",
    })])
    # another replica's flush, with an older last notification
    await subs.add_subscription_stats([(DEFAULT_TENANT, sid, {
        "timesSent": 2, "timesFailed": 2, "status": "failed",
        "lastNotification": "2026-01-01T00:00:02.000Z",
        "lastFailure": "2026-01-01T00:00:02.000Z",
    }), (DEFAULT_TENANT, record(9)["id"], {"timesSent": 1})])
    found = await subs.get_subscription(DEFAULT_TENANT, sid)
    assert found is not None
    assert found.stats == {
        "timesSent": 5, "timesFailed": 3, "status": "ok",
        "lastNotification": "2026-01-01T00:00:03.000Z",
        "lastSuccess": "2026-01-01T00:00:03.000Z",
        "lastFailure": "2026-01-01T00:00:02.000Z",
    }
    await subs.add_subscription_stats([(DEFAULT_TENANT, sid, {
        "timesSent": 1, "timesFailed": 1, "status": "failed",
        "lastNotification": "2026-01-01T00:00:04.000Z",
        "lastFailure": "2026-01-01T00:00:04.000Z",
    })])
    found = await subs.get_subscription(DEFAULT_TENANT, sid)
    assert found is not None
    assert (found.stats["timesSent"], found.stats["status"]) == (6, "failed")
    assert await subs.get_subscription(DEFAULT_TENANT, record(9)["id"]) is None
