"""Errors the domain raises when a command breaks a rule.

Each error carries a stable ``code`` (for programs), a ``message`` in Chinese first and
English second (for people), and, where it concerns one input, the ``field`` it names.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a business rule; nothing was stored."""

    #: HTTP-like category the adapters map to a status code.
    kind = "invalid"
    #: Every field this refusal found wrong, when it checked more than one (see :func:`all_of`);
    #: the error's own ``code``/``message``/``field`` are the first of them.
    errors: tuple["DomainError", ...] = ()

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        data: dict = {"code": self.code, "message": self.message}
        if self.field is not None:
            data["field"] = self.field
        if self.errors:
            data["errors"] = [e.to_dict() for e in self.errors]
        return data

    def __reduce__(self):  # picklable across threads/processes
        return (type(self), (self.code, self.message, self.field), {"errors": self.errors} if self.errors else None)


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


def all_of(errors: list[DomainError], first: DomainError | None = None) -> DomainError:
    """One refusal that names every bad field at once (a sheet of many points): ``first`` (or the
    first of ``errors``) gives its code, message and field, as a client reading only those expects;
    ``errors`` lists each field's own error. One error alone is refused as itself."""
    head = first or errors[0]
    if len(errors) == 1 and errors[0] is head:
        return head
    out = type(head)(head.code, head.message, head.field)
    out.errors = tuple(errors)
    return out


ERROR_KINDS: dict[str, type[DomainError]] = {
    cls.kind: cls for cls in (InvalidInput, Conflict, Forbidden, NotFound, Unavailable)
}


def rebuild_error(kind: str, code: str, message: str, field: str | None) -> DomainError:
    """Re-create a domain error that crossed a process boundary (e.g. a Temporal failure)."""
    return ERROR_KINDS.get(kind, DomainError)(code, message, field)
