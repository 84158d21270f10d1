"""The second look before a final action (closing a stage, submitting a self-review or a ballot
sheet, approving and publishing the allocation, issuing feedback).

The page's POST of a final action runs its command only when the form says ``confirm=yes``.
Without it the handler answers :func:`confirm_page`: what will happen, in words and numbers
(``7 个单位未提交，将记为未提交``), with a hidden copy of the form — the same fields and the same
idempotency key, the CSRF token — and two buttons: confirm (``confirm=yes``: the same POST again,
now run) and go back (``confirm=back``: a sheet shows its form again with what was typed; or a
link back). It is all server-rendered, so nothing in the browser can skip it; the JSON API's
endpoints are other URLs and never ask.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.web.forms import text
from api.web.render import render, render_page
from api.web.session import CSRF_FIELD

CONFIRM_FIELD = "confirm"


def confirmed(form: Any) -> bool:
    """The user saw the confirmation and confirmed."""
    return text(form, CONFIRM_FIELD) == "yes"


def going_back(form: Any) -> bool:
    """The user saw the confirmation and went back to the form (with what they typed)."""
    return text(form, CONFIRM_FIELD) == "back"


def copy_of(form: Any) -> list[tuple[str, str]]:
    """The form's fields to post again (its text fields, the idempotency key; not the CSRF token,
    which the page writes afresh, nor an earlier answer to the confirmation)."""
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k not in (CONFIRM_FIELD, CSRF_FIELD)]


async def confirm_page(
    request: Request, user: Any, form: Any, *, title: str, lines: list[str], confirm_label: str,
    items: list[str] | None = None, after: list[str] | None = None, back_url: str | None = None,
    action: str | None = None, testid: str = "confirm",
) -> Response:
    """The confirmation page of a final action: ``title``; ``lines`` (what will happen), each
    followed by nothing or, for the first, the named ``items`` (the units it concerns); ``after``
    (what cannot be undone); confirm re-posts the form to ``action`` (default: this URL)."""
    fields = copy_of(form)
    context = dict(
        title=title, lines=lines, items=items or [], after=after or [], confirm_label=confirm_label,
        back_url=back_url, action=action or request.url.path, fields=fields, testid=testid,
    )
    if user is None:  # the phone ballot of a code: no account, no CSRF token
        return render(request, "confirm.html", None, 200, **context)
    return await render_page(request, "confirm.html", user, 200, **context)
