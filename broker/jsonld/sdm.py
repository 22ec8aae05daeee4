"""The bundled Smart Data Models @contexts as /jsonldContexts records, and the official
Smart Data Models context URLs they answer offline.

Records (kind Hosted, never persisted, never deleted), served at CONTEXTS_PATH + localId:

- ``urn:ngsi-ld:JsonLdContext:sdm``: every bundled model (`data_models.contexts`);
- ``urn:ngsi-ld:JsonLdContext:sdm:dataModel.<Subject>``: the bundled models of one subject;
- ``urn:ngsi-ld:JsonLdContext:sdm:<Type>``: one model's own context.

The global Smart Data Models URLs are answered with the all-models record and each
``dataModel.<Subject>`` URL with that subject's record, when the bundle has models of the
subject. The published documents define many more terms (every model of the programme, not
only the bundled ones), and the global one is an older copy that maps terms to
``https://uri.fiware.org/ns/data-models#`` IRIs; the offline copies hold the bundled terms
only, with the IRIs of the subject contexts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from broker.jsonld.records import CONTEXTS_PATH, HOSTED, ID_PREFIX, ContextRecord
from data_models.contexts import CombinedContext, all_models_context, subject_context, subjects
from data_models.registry import list_models

ALL_MODELS_LOCAL_ID = ID_PREFIX + "sdm"

ALL_MODELS_URLS: tuple[str, ...] = (
    "https://smartdatamodels.org/context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/data-models/master/context.jsonld",
    "https://smart-data-models.github.io/data-models/context.jsonld",
)
SUBJECT_URL_TEMPLATES: tuple[str, ...] = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.{subject}/master/context.jsonld",
    "https://smart-data-models.github.io/dataModel.{subject}/context.jsonld",
)
OFFLINE_NOTE = "only the bundled models' terms; other Smart Data Models URLs are fetched"


def model_local_id(entity_type: str) -> str:
    return f"{ALL_MODELS_LOCAL_ID}:{entity_type}"


def subject_local_id(subject: str) -> str:
    return f"{ALL_MODELS_LOCAL_ID}:dataModel.{subject}"


def subject_urls(subject: str) -> tuple[str, ...]:
    return tuple(template.format(subject=subject) for template in SUBJECT_URL_TEMPLATES)


def _with_http(urls: tuple[str, ...]) -> tuple[str, ...]:
    """The URLs as published, then their http:// spellings (the same documents)."""
    return urls + tuple(url.replace("https://", "http://", 1) for url in urls)


def _record(
    local_id: str, body: Any, created_at: float, extra_info: dict[str, Any]
) -> ContextRecord:
    return ContextRecord(
        local_id=local_id,
        url=CONTEXTS_PATH + local_id,
        kind=HOSTED,
        body=body,
        created_at=created_at,
        extra_info={"bundled": True, **extra_info},
    )


def _combined_record(
    local_id: str, combined: CombinedContext, urls: tuple[str, ...], created_at: float, **info: Any
) -> ContextRecord:
    extra: dict[str, Any] = {**info, "models": list(combined.models)}
    if combined.shared:
        extra["sharedTerms"] = list(combined.shared)
    extra["servedOfflineFor"] = list(urls)
    extra["note"] = OFFLINE_NOTE
    return _record(local_id, combined.document()["@context"], created_at, extra)


def bundled_records(created_at: float) -> Iterator[tuple[ContextRecord, tuple[str, ...]]]:
    """Every bundled record with the official URLs it answers offline (maybe none)."""
    everything = all_models_context()
    yield (
        _combined_record(ALL_MODELS_LOCAL_ID, everything, ALL_MODELS_URLS, created_at),
        _with_http(ALL_MODELS_URLS),
    )
    for subject in subjects():
        combined = subject_context(subject)
        assert combined is not None
        urls = subject_urls(subject)
        record = _combined_record(
            subject_local_id(subject), combined, urls, created_at, subject=subject
        )
        yield record, _with_http(urls)
    for model in list_models():
        body = dict(model.context["@context"])
        info = {"subject": model.subject, "models": [model.type]}
        yield _record(model_local_id(model.type), body, created_at, info), ()
