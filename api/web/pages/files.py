"""``/files/{sha256}``: an evidence file in the browser, for everyone the API lets read it — the
organizer, the committee, the auditor, and a unit user for their own unit's files (the same
service call as ``GET /api/v1/attachments/{sha256}``, with the page's cookie instead of a bearer
token). ``?name=`` is the name it is saved under (the name it was uploaded with)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.pageroute import page_router
from api.web.session import PageUser, services

router = page_router()


def save_as(name: str | None) -> str | None:
    """A file name to save under: its last path part, at most 120 characters, or None."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:120] or None


@router.get("/files/{sha256}")
async def evidence(request: Request, sha256: str, user: PageUser, name: str | None = None) -> Response:
    return await backend.evidence_file(services(request), user, sha256, save_as(name))
