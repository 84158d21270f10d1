"""Errors the domain raises when a command breaks a rule.

Each error carries a stable ``code`` (for programs), a ``message`` in Chinese first and
English second (for people), and, where it concerns one input, the ``field`` it names.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a business rule; nothing was stored."""

    #: HTTP-like category the adapters map to a status code.
    kind = "invalid"

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str]:
        data = {"code": self.code, "message": self.message}
        if self.field is not None:
            data["field"] = self.field
        return data

    def __reduce__(self):  # picklable across threads/processes
        return (type(self), (self.code, self.message, self.field))


class InvalidInput(DomainError):
    """The input itself is malformed or out of range (HTTP 422)."""

    kind = "invalid"


class Conflict(DomainError):
    """The input is well-formed but the state does not allow it now (HTTP 409)."""

    kind = "conflict"


class Forbidden(DomainError):
    """The actor may not do this (HTTP 403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The thing acted on does not exist (HTTP 404)."""

    kind = "not_found"


class Unavailable(DomainError):
    """The system cannot take the command right now; retrying with the same key is safe (HTTP 503).

    ``retry_after`` is how many seconds a client should wait before it retries."""

    kind = "unavailable"
    retry_after = 2

    def __init__(self, code: str, message: str, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(code, message, field)
        if retry_after is not None:
            self.retry_after = retry_after

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.field, self.retry_after))


ERROR_KINDS: dict[str, type[DomainError]] = {
    cls.kind: cls for cls in (InvalidInput, Conflict, Forbidden, NotFound, Unavailable)
}


def rebuild_error(kind: str, code: str, message: str, field: str | None) -> DomainError:
    """Re-create a domain error that crossed a process boundary (e.g. a Temporal failure)."""
    return ERROR_KINDS.get(kind, DomainError)(code, message, field)
