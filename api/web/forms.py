"""The one copy of what every page form needs: reading posted fields, the idempotency key that
makes a resent form the same command, turning a refused command into the page's error display,
and the see-other redirect after a command went through.

A form's life:

1. GET renders it with ``idem=new_idem()`` in a hidden field ``idem``.
2. POST reads it (``text``, ``raw``), passes ``idem_of(form)`` to the command in :mod:`api.web.backend`.
3. The command went through: ``see_other(url)`` (303). A double click or the 503 page's resend
   carries the same key, so the command is stored once.
4. The command was refused (``DomainError``, or ``HTTPException`` with a ``{code, message, field}``
   body): ``refusal(err)`` gives its status and body, and the page renders the form again with what
   was typed and the message beside the field it names (``beside`` or ``by_place``), or above the
   form. An outage (a 503) is not the form's error: ``refusal`` lets it through, and the page route
   answers with the page that sends the form again after Retry-After.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import RedirectResponse

from api.errors import STATUS
from domain.errors import DomainError

IDEM_FIELD = "idem"
#: Fields of a form that are machinery, not what the user typed.
MACHINERY = ("csrf", IDEM_FIELD)


# ------------------------------------------------------------------ reading a form


def text(form: Any, name: str) -> str:
    """A posted text field, stripped; ``""`` when missing or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def raw(form: Any, name: str) -> str:
    """A posted field exactly as typed (a feedback text, a reason keeps its spaces and lines)."""
    return str(form.get(name) or "")


def typed_values(form: Any) -> dict[str, str]:
    """What the user typed into a form (its text fields, without csrf and idem), to show it again."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in MACHINERY}


# ------------------------------------------------------------------ idempotency


def new_idem() -> str:
    """A fresh idempotency key for one rendered form: a double submit sends one command, not two."""
    return "web-" + uuid.uuid4().hex


def idem_of(form: Any) -> str | None:
    """The form's idempotency key (the API scopes it to the user and checks its length), or None."""
    return text(form, IDEM_FIELD) or None


# ------------------------------------------------------------------ a refused command


@dataclass(frozen=True)
class Refusal:
    """A command the API refused: the status it would answer and its ``{code, message, field}``."""

    status: int
    code: str | None
    message: str
    field: str | None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


def refusal(err: BaseException) -> Refusal:
    """What a form shows for ``err``. Anything that is not the form's error is raised again for the
    page route: an outage (503, the retry page) and every error that is not a refusal (a bug)."""
    if isinstance(err, DomainError):
        status = STATUS.get(err.kind, 400)
        if status == 503:
            raise err
        d = err.to_dict()
        return Refusal(status, d.get("code"), d.get("message", str(err)), d.get("field"))
    if isinstance(err, HTTPException):
        if err.status_code == 503:
            raise err
        if isinstance(err.detail, dict):
            d = err.detail
            return Refusal(err.status_code, d.get("code"), str(d.get("message", "")), d.get("field"))
        return Refusal(err.status_code, f"http_{err.status_code}", str(err.detail), None)
    raise err


#: What a page's ``except`` clause catches: :func:`refusal` sorts out the rest.
REFUSED = (DomainError, HTTPException)


def beside(error: Refusal, fields: list[str], strip: str = "") -> dict[str, str]:
    """The message keyed by the form input it concerns: the longest input name the error's field
    is or starts with (``policy.thresholds.good`` → ``policy.thresholds.good``, ``schemes.x.y`` →
    ``schemes.x``), or ``_form`` (above the form) when it names none of them. ``strip`` is a prefix
    of the API's field names that the form's inputs do not have (``units[0].``)."""
    field = str(error.field or "")
    if strip and field.startswith(strip):
        field = field[len(strip):]
    best = ""
    for name in fields:
        if field == name or field.startswith(name + ".") or field.startswith(name + "["):
            if len(name) > len(best):
                best = name
    return {best or "_form": error.message}


def by_place(error: Refusal | None, keys: list[str], prefixes: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """Where an error goes on a sheet of many rows (points of a scheme, units of a ballot): beside the
    row it names (``scores.1.1.2`` → row ``1.1.2``), as ``({key: message}, None)``; else above the
    sheet, as ``({}, message)``."""
    if error is None:
        return {}, None
    field = str(error.field or "")
    for prefix in prefixes:
        if field.startswith(prefix) and field[len(prefix):] in keys:
            return {field[len(prefix):]: error.message}, None
    return {}, error.message


# ------------------------------------------------------------------ after a command went through


def see_other(url: str) -> RedirectResponse:
    """303 See Other: the browser GETs the page, so a reload does not post the form again."""
    return RedirectResponse(url, status_code=303)


def done_redirect(path: str, done: str, anchor: str = "") -> RedirectResponse:
    """Back to ``path`` with ``?done=<what>`` (the page shows what was done) and an anchor."""
    return see_other(f"{path}?done={quote(done)}{anchor}")
