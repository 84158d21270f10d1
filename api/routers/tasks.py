"""My inbox: what waits for me, for which cycle and unit, since when, and by when."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CurrentUser, Svc, json_answer
from services import inbox

router = APIRouter(tags=["tasks 待办"])


@router.get("/tasks", summary="我的待办 / my inbox", name="my_tasks")
async def my_tasks(user: CurrentUser, svc: Svc) -> Response:
    return json_answer(await svc.reads.respond(inbox.tasks_cache_key(user), lambda: inbox.tasks(svc, user)))
