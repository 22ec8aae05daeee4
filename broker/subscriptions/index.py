"""Every subscription of every tenant, indexed so that a change is checked only against
candidates: the subscriptions naming one of the entity's types, plus those that admit any
type (no entities, or a selector without type). The periodic ones (timeInterval) are also
kept apart for the scheduler."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from broker.subscriptions.compiled import CompiledSubscription


class _TenantSubscriptions:
    __slots__ = ("any_type", "by_id", "by_type")

    def __init__(self) -> None:
        self.by_id: dict[str, CompiledSubscription] = {}
        self.by_type: dict[str, dict[str, CompiledSubscription]] = {}
        self.any_type: dict[str, CompiledSubscription] = {}


class SubscriptionIndex:
    def __init__(self) -> None:
        self._tenants: dict[str, _TenantSubscriptions] = {}
        self.periodic: dict[tuple[str, str], CompiledSubscription] = {}

    def __len__(self) -> int:
        return sum(len(t.by_id) for t in self._tenants.values())

    def __iter__(self) -> Iterator[CompiledSubscription]:
        for tenant in self._tenants.values():
            yield from tenant.by_id.values()

    def get(self, tenant: str, subscription_id: str) -> CompiledSubscription | None:
        found = self._tenants.get(tenant)
        return None if found is None else found.by_id.get(subscription_id)

    def put(self, sub: CompiledSubscription) -> None:
        self.remove(sub.tenant, sub.id)
        tenant = self._tenants.setdefault(sub.tenant, _TenantSubscriptions())
        tenant.by_id[sub.id] = sub
        if sub.periodic:
            self.periodic[sub.key] = sub
        if sub.type_keys is None:
            tenant.any_type[sub.id] = sub
        else:
            for name in sub.type_keys:
                tenant.by_type.setdefault(name, {})[sub.id] = sub

    def remove(self, tenant_name: str, subscription_id: str) -> None:
        self.periodic.pop((tenant_name, subscription_id), None)
        tenant = self._tenants.get(tenant_name)
        if tenant is None:
            return
        old = tenant.by_id.pop(subscription_id, None)
        if old is None:
            return
        tenant.any_type.pop(subscription_id, None)
        for name in old.type_keys or ():
            bucket = tenant.by_type.get(name)
            if bucket is not None:
                bucket.pop(subscription_id, None)
                if not bucket:
                    del tenant.by_type[name]

    def candidates(self, tenant_name: str, types: Iterable[str]) -> list[CompiledSubscription]:
        """The tenant's subscriptions that may select an entity with these types, each once."""
        tenant = self._tenants.get(tenant_name)
        if tenant is None:
            return []
        found: dict[str, CompiledSubscription] = dict(tenant.any_type)
        for name in types:
            bucket = tenant.by_type.get(name)
            if bucket:
                found.update(bucket)
        return list(found.values())
