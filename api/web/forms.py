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
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import RedirectResponse

from api.errors import STATUS
from api.web import catalogue
from api.web.render import fmt_time
from domain.errors import DomainError, halves

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
    #: Every bad field when the command checked several (``{code, message, field}`` each), else empty.
    errors: tuple[dict[str, Any], ...] = ()

    def body(self) -> dict[str, Any]:
        zh, en = halves(self.message)
        out: dict[str, Any] = {"code": self.code, "message": self.message, "message_zh": zh, "message_en": en}
        if self.field is not None:
            out["field"] = self.field
        if self.errors:
            out["errors"] = list(self.errors)
        return out

    def each(self) -> list[dict[str, Any]]:
        """Every error of the refusal (the one it names when it lists none)."""
        return list(self.errors) or [{"code": self.code, "message": self.message, "field": self.field}]


def refusal(err: BaseException) -> Refusal:
    """What a form shows for ``err``. Anything that is not the form's error is raised again for the
    page route: an outage (503, the retry page) and every error that is not a refusal (a bug)."""
    if isinstance(err, DomainError):
        status = STATUS.get(err.kind, 400)
        if status == 503:
            raise err
        d = err.to_dict()
        return Refusal(status, d.get("code"), d.get("message", str(err)), d.get("field"), tuple(d.get("errors") or ()))
    if isinstance(err, HTTPException):
        if err.status_code == 503:
            raise err
        if isinstance(err.detail, dict):
            d = err.detail
            return Refusal(err.status_code, d.get("code"), str(d.get("message", "")), d.get("field"),
                           tuple(e for e in d.get("errors") or () if isinstance(e, dict)))
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
    """Where errors go on a sheet of many rows (points of a scheme, units of a ballot): each beside
    the row it names (``scores.1.1.2`` → row ``1.1.2``; a row's first error when it has several),
    as ``({key: message}, None)``; an error that names no row goes above the sheet (the second
    part). A refusal that lists every bad field (``errors``) puts every one of them in place."""
    if error is None:
        return {}, None
    rows: dict[str, str] = {}
    above: str | None = None
    for each in error.each():
        field = str(each.get("field") or "")
        for prefix in prefixes:
            if field.startswith(prefix) and field[len(prefix):] in keys:
                rows.setdefault(field[len(prefix):], each.get("message") or "")  # a Bilingual keeps its halves
                break
        else:
            above = above or each.get("message") or ""
    return rows, above


# ------------------------------------------------------------------ a draft keeps what is valid

#: The API's field prefix of a sheet's values → the form input's prefix (``scores.1.1`` → ``score.1.1``).
SHEET_INPUTS = {"scores.": "score.", "evidence.": "evidence.", "na_reasons.": "na_reason.", "comments.": "comment."}


async def save_keeping_valid(save: Callable[[set[str]], Awaitable[Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """Save a draft, keeping every valid value: ``save(dropped)`` stores the sheet without the API
    fields in ``dropped``. The store refuses a draft with a bad value whole (bad input writes
    nothing), naming every bad field; then the draft is saved again without those fields, and
    they are answered as not kept (``{code, message, field}`` each). Any other refusal is raised."""
    try:
        return await save(set()), []
    except REFUSED as err:
        error = refusal(err)
        dropped = [e for e in error.each() if str(e.get("field") or "").startswith(tuple(SHEET_INPUTS))]
        if error.status != 422 or not dropped or len(dropped) < len(error.each()):
            raise
    return await save({str(e["field"]) for e in dropped}), dropped


async def keep_as_draft(save: Callable[[set[str]], Awaitable[Any]]) -> None:
    """After a refused submission: keep what is valid of it as the draft, so a reload (or a page
    without JS, which never autosaved) does not lose it. Best effort: if even that is refused (an
    outage, a closed stage), the page still shows the form as typed and says why it was refused."""
    try:
        await save_keeping_valid(save)
    except REFUSED:
        pass


def without(values: dict[str, Any], dropped: set[str], prefix: str) -> dict[str, Any]:
    """``values`` (point → value) without the points whose ``prefix + point`` field was dropped."""
    return {k: v for k, v in values.items() if prefix + k not in dropped}


def not_kept(dropped: list[dict[str, Any]], say: Callable[[str], str]) -> list[dict[str, str]]:
    """What the page shows beside each field a draft did not keep: the point, the form input, and
    ``say(message)`` (the message in the page's language, in its sentence)."""
    out = []
    for e in dropped:
        field = str(e.get("field") or "")
        for api, form in SHEET_INPUTS.items():
            if field.startswith(api):
                point = field[len(api):]
                out.append({"field": field, "point": point, "input": form + point, "message": say(e.get("message") or "")})
                break
    return out


def draft_answer(lang: str, dropped: list[dict[str, Any]]) -> dict[str, Any]:
    """What the sheet's script shows after a draft was saved: when (Beijing time), and what was not kept."""
    now = fmt_time(datetime.now(timezone.utc))
    kept = not_kept(dropped, lambda m: catalogue.t(lang, "forms_not_kept", reason=catalogue.pick(lang, m)))
    message = (catalogue.t(lang, "forms_draft_partly", time=now, count=len(kept)) if kept
               else catalogue.t(lang, "forms_draft_saved_at", time=now))
    return {"saved": True, "message": message, "not_kept": kept}


def draft_refused(lang: str, error: Refusal) -> dict[str, Any]:
    """A draft that could not be saved at all (the stage closed, another unit's sheet): why."""
    return {"saved": False, "message": catalogue.t(lang, "forms_draft_refused", reason=catalogue.pick(lang, error.message)),
            "error": error.body()}


# ------------------------------------------------------------------ after a command went through


def see_other(url: str) -> RedirectResponse:
    """303 See Other: the browser GETs the page, so a reload does not post the form again."""
    return RedirectResponse(url, status_code=303)


def done_redirect(path: str, done: str, anchor: str = "") -> RedirectResponse:
    """Back to ``path`` with ``?done=<what>`` (the page shows what was done) and an anchor."""
    return see_other(f"{path}?done={quote(done)}{anchor}")
