"""Batch entity operations (clauses 5.6.7-5.6.10 and 5.6.20 of ETSI GS CIM 009).

A batch costs one store round trip to read and one to write, whatever its size: the service
locks the batch's ids (the same per-entity locks as EntityService, taken in sorted order so
two batches never deadlock), reads every existing entity at once, applies the elements in
request order in memory with the pure rules of `broker.model.operations` (so several elements
with one id, as FIWARE IoT Agents send them, see each other's result), writes every final
state at once and publishes one ChangeEvent per changed entity.

Creates skip the read, and so do the upserts of a tenant whose last upsert found none of its
ids stored (an adapter creating its devices): the elements are applied as if no id existed
and written as creates, which the store refuses for an id that is taken. Only the ids it
refused, and the ids whose every element failed (a rule may have failed for want of the
stored entity), are then read and their elements applied again to what was found, in a
second round trip: the answer is the one a read first would have given.

Each element is all-or-nothing: an element whose rule fails leaves the entity as the elements
before it left it, and is reported with its own ProblemDetails. When the store refuses an
entity's final write, every element of that entity is reported failed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from broker.errors import (
    AlreadyExists,
    InternalError,
    NgsiLdError,
    NonexistentTenant,
    ResourceNotFound,
)
from broker.events import ChangeEvent, EventBus
from broker.model import operations
from broker.model.expand import ExpandedFragment
from broker.services.entities import utc_now
from broker.services.locks import EntityLocks, Held
from broker.services.validation import ModelValidation, held_warnings, validated
from broker.storage.base import (
    BatchOutcome,
    BatchWrite,
    ChangedEntity,
    DuplicateEntity,
    EntityStore,
    MissingEntity,
    revision_of,
)
from broker.types import ExpandedEntity

Step = Callable[[ExpandedEntity | None], ExpandedEntity | None]
"""One element of a batch: the entity as the elements before left it (None: absent) ->
the entity after it (None: deleted). Raises NgsiLdError to fail alone."""


@dataclass(frozen=True, slots=True)
class EntityError:
    """One entry of a BatchOperationResult's `errors` (clause 5.2.17)."""

    entity_id: str
    error: NgsiLdError


@dataclass(slots=True)
class BatchResult:
    """A BatchOperationResult (clause 5.2.16) plus the ids the batch created (for the 201
    body of Batch Create and Upsert). Ids appear once, in the order of the request."""

    success: list[str] = field(default_factory=list)
    errors: list[EntityError] = field(default_factory=list)
    created: list[str] = field(default_factory=list)


_TENANT_HINTS = 10_000
"""Tenants whose last upsert the service remembers (whether it found its ids absent)."""
_CHANGED_ROUNDS = 100
"""Rounds a batch re-reads and re-applies entities other replicas keep writing meanwhile."""


@dataclass(slots=True)
class _Round:
    """One application of a batch's elements and its write."""

    elements: list[tuple[str, EntityError | None]] = field(default_factory=list)
    """Per element in request order: its id, and its error when its own rule failed."""
    refused: dict[str, BatchOutcome] = field(default_factory=dict)
    """Per id whose write the store refused: why."""
    created: list[str] = field(default_factory=list)

    def unsure(self) -> set[str]:
        """After a round that assumed no id was stored: the ids whose outcome may be wrong.
        Those the store refused as taken, and those it did not create at all for another
        reason than a store error (every element failed, perhaps for want of the stored
        entity)."""
        created = set(self.created)
        return {
            i for i, _ in self.elements if i not in created and not self._failed_in_store(i)
        }

    def _failed_in_store(self, entity_id: str) -> bool:
        refusal = self.refused.get(entity_id)
        return refusal is not None and not isinstance(refusal, DuplicateEntity)

    def merged(self, again: _Round, redone: Collection[str]) -> _Round:
        """This round with the elements of the `redone` ids taken from `again` (the same
        elements, applied once more to what the store holds)."""
        replacing = iter(again.elements)
        return _Round(
            [next(replacing) if el[0] in redone else el for el in self.elements],
            {**{i: o for i, o in self.refused.items() if i not in redone}, **again.refused},
            [*self.created, *again.created],
        )

    def changed(self) -> set[str]:
        """The ids whose conditional write found the entity changed since it was read."""
        return {i for i, o in self.refused.items() if isinstance(o, ChangedEntity)}

    def result(self) -> BatchResult:
        """The BatchOperationResult."""
        elements = self.elements
        refused = self.refused
        created = set(self.created)
        result = BatchResult()
        succeeded: set[str] = set()
        for entity_id, error in elements:
            if error is not None:
                result.errors.append(error)
            elif entity_id in refused:
                result.errors.append(
                    EntityError(entity_id, _as_problem(entity_id, refused[entity_id]))
                )
            elif entity_id not in succeeded:
                succeeded.add(entity_id)
                result.success.append(entity_id)
        result.created = [i for i in dict.fromkeys(i for i, _ in elements) if i in created]
        return result


class BatchService:
    def __init__(
        self,
        store: EntityStore,
        bus: EventBus,
        locks: EntityLocks | None = None,
        *,
        max_attributes: int | None = None,
        validation: ModelValidation | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.max_attributes = max_attributes
        self.validation = validation
        # EntityService's, so that a batch and a single-entity write of one entity are
        # serialised.
        self._locks = EntityLocks() if locks is None else locks
        self._absent: dict[str, bool] = {}
        """Per tenant: whether its last upsert found none of its ids stored (the next one
        then writes before it reads)."""

    # -- the operations -----------------------------------------------------------------

    async def create(self, tenant: str, entities: Sequence[ExpandedEntity]) -> BatchResult:
        """Batch Entity Creation (5.6.7): each entity as Create Entity (5.6.1)."""

        def step(entity: ExpandedEntity) -> Step:
            def apply(old: ExpandedEntity | None) -> ExpandedEntity:
                if old is not None:
                    raise AlreadyExists(f"entity '{entity['id']}' already exists", field="id")
                return entity

            return self._checked(tenant, apply, lambda old: None)

        # Creates need no read: most ids are new, and the store refuses one that is taken.
        return await self._run(
            tenant, [(e["id"], step(e)) for e in entities], creates=True, guess_absent=True
        )

    async def upsert(
        self, tenant: str, entities: Sequence[ExpandedEntity], *, replace: bool
    ) -> BatchResult:
        """Batch Entity Upsert (5.6.8): an absent entity is created; an existing one is
        replaced (options=replace, the default: Replace Entity, 5.6.18) or gets the
        element's attributes appended, overwriting (options=update: 5.6.3)."""
        now = utc_now()

        def step(entity: ExpandedEntity) -> Step:
            def apply(old: ExpandedEntity | None) -> ExpandedEntity:
                if old is None:
                    return entity
                if replace:
                    return operations.replace_entity(old, entity, now=now)
                new, _ = operations.append_attrs(
                    old,
                    entity["attrs"],
                    now=now,
                    overwrite=True,
                    types=entity["type"],
                    scope=entity.get("scope"),
                    max_attributes=self.max_attributes,
                )
                return new

            written = entity["attrs"]
            return self._checked(
                tenant, apply, lambda old: None if old is None or replace else written
            )

        # An adapter creating its devices sends batch after batch of new ids; an IoT Agent
        # whose devices exist sends known ones. While a tenant's upserts find nothing stored,
        # each is first written as creates, and only the ids found taken are read and
        # applied again: the read of ids that do not exist is skipped.
        return await self._run(
            tenant, [(e["id"], step(e)) for e in entities], creates=True,
            guess_absent=self._absent.get(tenant, True), learn=True,
        )

    async def update(
        self, tenant: str, fragments: Sequence[ExpandedFragment], *, overwrite: bool
    ) -> BatchResult:
        """Batch Entity Update (5.6.9): each existing entity gets the element's attributes
        as Append Entity Attributes (5.6.3) does; options=noOverwrite keeps existing ones."""
        now = utc_now()

        def step(fragment: ExpandedFragment) -> Step:
            def apply(old: ExpandedEntity | None) -> ExpandedEntity:
                new, _ = operations.append_attrs(
                    _existing(old, fragment),
                    fragment.attrs,
                    now=now,
                    overwrite=overwrite,
                    types=fragment.types,
                    scope=fragment.scope,
                    max_attributes=self.max_attributes,
                )
                return new

            return self._checked(tenant, apply, lambda old: fragment.attrs)

        return await self._run(tenant, [(_id_of(f), step(f)) for f in fragments], creates=False)

    async def merge(self, tenant: str, fragments: Sequence[ExpandedFragment]) -> BatchResult:
        """Batch Entity Merge (5.6.20): each existing entity as Merge Entity (5.6.17)."""
        now = utc_now()

        def step(fragment: ExpandedFragment) -> Step:
            def apply(old: ExpandedEntity | None) -> ExpandedEntity:
                new, _ = operations.merge_entity(
                    _existing(old, fragment),
                    fragment.attrs,
                    now=now,
                    types=fragment.types,
                    scope=fragment.scope,
                    max_attributes=self.max_attributes,
                )
                return new

            return self._checked(tenant, apply, lambda old: fragment.attrs)

        return await self._run(tenant, [(_id_of(f), step(f)) for f in fragments], creates=False)

    async def delete(self, tenant: str, ids: Sequence[str]) -> BatchResult:
        """Batch Entity Delete (5.6.10): an id that does not exist is an error of its own."""

        def step(entity_id: str) -> Step:
            def apply(old: ExpandedEntity | None) -> None:
                if old is None:
                    raise ResourceNotFound(f"entity '{entity_id}' not found", field="id")
                return None

            return apply

        return await self._run(tenant, [(i, step(i)) for i in ids], creates=False)

    def _checked(
        self,
        tenant: str,
        apply: Callable[[ExpandedEntity | None], ExpandedEntity],
        written: Callable[[ExpandedEntity | None], Collection[str] | None],
    ) -> Step:
        """`apply` followed by the check of the entity it produced against its model; the
        element fails alone (enforce) when it does not fit."""
        return validated(self.validation, tenant, apply, written, lambda new: new)

    # -- one read, one write --------------------------------------------------------------

    async def _run(
        self,
        tenant: str,
        steps: Sequence[tuple[str, Step]],
        *,
        creates: bool,
        guess_absent: bool = False,
        learn: bool = False,
    ) -> BatchResult:
        """`guess_absent`: apply and write as if no id were stored, then read and apply
        again the ids whose outcome that may have got wrong (see the module docstring);
        else read every id first. `learn`: remember for the tenant whether this batch found
        any of its ids stored."""
        if not steps:
            return BatchResult()
        ids = sorted({entity_id for entity_id, _ in steps})
        async with self._locked(tenant, ids):
            if not guess_absent:
                before = await self.store.get_entities(tenant, ids)
                if not before and not creates and not await self.store.tenant_exists(tenant):
                    raise NonexistentTenant(
                        f"tenant '{tenant}' does not exist", field="NGSILD-Tenant"
                    )
                if learn:
                    self._learn(tenant, absent=not before)
                done = await self._apply(tenant, steps, before)
                return (await self._settled(tenant, steps, done)).result()
            with held_warnings() as held:
                first = await self._apply(tenant, steps, {})
            unsure = first.unsure()
            if self.validation is not None:
                # An unsure id's elements are applied again below, and report then.
                self.validation.release(held, lambda entity_id: entity_id not in unsure)
            found = await self.store.get_entities(tenant, sorted(unsure)) if unsure else {}
            if learn:
                self._learn(tenant, absent=not found)
            if not unsure:
                return first.result()
            again = await self._apply(tenant, [s for s in steps if s[0] in unsure], found)
            return (await self._settled(tenant, steps, first.merged(again, unsure))).result()

    async def _settled(
        self, tenant: str, steps: Sequence[tuple[str, Step]], done: _Round
    ) -> _Round:
        """`done` with the elements of every entity another process wrote between this
        batch's read and its write (a store shared by replicas refused the write as
        ChangedEntity) read again and applied again to what that process wrote, until none
        is refused so (at most `_CHANGED_ROUNDS` times; then ChangedEntity is the answer)."""
        for _ in range(_CHANGED_ROUNDS):
            changed = done.changed()
            if not changed:
                break
            found = await self.store.get_entities(tenant, sorted(changed))
            again = await self._apply(tenant, [s for s in steps if s[0] in changed], found)
            done = done.merged(again, changed)
        return done

    def _learn(self, tenant: str, *, absent: bool) -> None:
        self._absent.pop(tenant, None)  # the most recent tenant goes last
        self._absent[tenant] = absent
        if len(self._absent) > _TENANT_HINTS:
            del self._absent[next(iter(self._absent))]

    async def _apply(
        self,
        tenant: str,
        steps: Sequence[tuple[str, Step]],
        before: dict[str, ExpandedEntity],
    ) -> _Round:
        """The elements applied in request order to `before`, every final state written at
        once, an event published for each entity written."""
        state: dict[str, ExpandedEntity | None] = dict(before)
        done = _Round()
        for entity_id, step in steps:
            try:
                state[entity_id] = step(state.get(entity_id))
            except NgsiLdError as exc:
                done.elements.append((entity_id, EntityError(entity_id, exc)))
            else:
                done.elements.append((entity_id, None))
        changed = dict.fromkeys(i for i, error in done.elements if error is None)
        writes = [w for w in (_write_of(i, before.get(i), state.get(i)) for i in changed) if w]
        outcomes = await self.store.write_batch(tenant, writes) if writes else []
        for w, o in zip(writes, outcomes, strict=True):
            if o is None:
                if w.kind == "create":
                    done.created.append(w.entity_id)
                self._publish(tenant, w.entity_id, before.get(w.entity_id), state[w.entity_id])
            else:
                done.refused[w.entity_id] = o
        return done

    def _publish(
        self, tenant: str, entity_id: str, old: ExpandedEntity | None, new: ExpandedEntity | None
    ) -> None:
        if old is None:
            self.bus.publish(ChangeEvent(tenant, "entityCreated", entity_id, None, new))
        elif new is None:
            self.bus.publish(ChangeEvent(tenant, "entityDeleted", entity_id, old, None))
        else:
            self.bus.publish(ChangeEvent(tenant, "entityUpdated", entity_id, old, new))

    def _locked(self, tenant: str, sorted_ids: list[str]) -> Held:
        return self._locks.hold(tenant, sorted_ids)


def _id_of(fragment: ExpandedFragment) -> str:
    if fragment.entity_id is None:
        raise ValueError("a batch fragment needs its entity id")
    return fragment.entity_id


def _existing(old: ExpandedEntity | None, fragment: ExpandedFragment) -> ExpandedEntity:
    if old is None:
        raise ResourceNotFound(f"entity '{fragment.entity_id}' not found", field="id")
    return old


def _write_of(
    entity_id: str, old: ExpandedEntity | None, new: ExpandedEntity | None
) -> BatchWrite | None:
    if new is None:
        return None if old is None else BatchWrite.delete(entity_id, revision_of(old))
    return BatchWrite.create(new) if old is None else BatchWrite.replace(new, revision_of(old))


def _as_problem(entity_id: str, outcome: BatchOutcome) -> NgsiLdError:
    if isinstance(outcome, DuplicateEntity):
        return AlreadyExists(f"entity '{entity_id}' already exists", field="id")
    if isinstance(outcome, MissingEntity):
        return ResourceNotFound(f"entity '{entity_id}' not found", field="id")
    if isinstance(outcome, NgsiLdError):  # bad input only the store could see (RejectedEntity)
        return outcome
    return InternalError(f"entity '{entity_id}' could not be written: {outcome}")
