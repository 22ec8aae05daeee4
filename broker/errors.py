"""NGSI-LD ProblemDetails errors.

Every request that is not served answers with one of these: the error type URI from
ETSI GS CIM 009 (clause 5.5.2), a title and a detail naming the offending field.
Services raise them; the error middleware turns them into `application/json` responses.
"""

from __future__ import annotations

from typing import Any, ClassVar

ERROR_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    """Base of every error that becomes a ProblemDetails response."""

    type_name: ClassVar[str] = "InternalError"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    @property
    def type_uri(self) -> str:
        return ERROR_BASE + self.type_name

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type_uri, "title": self.title, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidRequest(NgsiLdError):
    type_name = "InvalidRequest"
    title = "Invalid request"
    status = 400


class BadRequestData(NgsiLdError):
    type_name = "BadRequestData"
    title = "Bad request data"
    status = 400


class AlreadyExists(NgsiLdError):
    type_name = "AlreadyExists"
    title = "Already exists"
    status = 409


class OperationNotSupported(NgsiLdError):
    type_name = "OperationNotSupported"
    title = "Operation not supported"
    status = 422


class ResourceNotFound(NgsiLdError):
    type_name = "ResourceNotFound"
    title = "Resource not found"
    status = 404


class NonexistentTenant(NgsiLdError):
    type_name = "NonexistentTenant"
    title = "Nonexistent tenant"
    status = 404


class LdContextNotAvailable(NgsiLdError):
    type_name = "LdContextNotAvailable"
    title = "JSON-LD context not available"
    status = 503


class TooComplexQuery(NgsiLdError):
    type_name = "TooComplexQuery"
    title = "Too complex query"
    status = 403


class TooManyResults(NgsiLdError):
    type_name = "TooManyResults"
    title = "Too many results"
    status = 403


class NotAcceptable(NgsiLdError):
    type_name = "NotAcceptable"
    title = "Not acceptable"
    status = 406


class UnsupportedMediaType(NgsiLdError):
    type_name = "UnsupportedMediaType"
    title = "Unsupported media type"
    status = 415


class RequestEntityTooLarge(NgsiLdError):
    type_name = "RequestEntityTooLarge"
    title = "Request entity too large"
    status = 413


class MethodNotAllowed(NgsiLdError):
    type_name = "MethodNotAllowed"
    title = "Method not allowed"
    status = 405


class InternalError(NgsiLdError):
    pass
