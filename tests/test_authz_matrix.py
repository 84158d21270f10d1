"""The authorization matrix (issue 12): every route of the running app — the JSON API under
``/api/v1`` and the web pages — called by every role and by nobody, a unit user both for its own
unit and for another, over real HTTP against the real stack, on both stores.

What each route should answer is written down **once**, in :data:`MATRIX` (route → who may call
it, whether a unit user is held to its own unit). A route of the app with no entry, or an entry
with no route, fails :func:`test_every_route_has_one_entry`; :func:`test_a_new_route_without_an_entry_is_caught`
shows that check catching a route added to an app.

"Allowed" means the role check let the caller through: anything but 401/403 (a 404, 409 or 422
for a well-formed request that does not apply is fine) and, for a page, not the redirect to the
sign-in page. "Refused" means 401/403, or for a page the 303 to ``/login`` or the 403 page. A 5xx
anywhere fails.

So that the matrix changes nothing that matters, reads and page forms go to a published cycle
(``mx``; a form sent with its CSRF token and no fields is refused or finds nothing to do there),
and the API's writes to a cycle that does not exist (``mx-void``): every use case checks the
caller against ``services.permissions.TABLE`` before it loads anything, so an allowed caller is
told 404 and a refused one 403. The few writes with no cycle in their path name nobody real (``mx-intruder``),
and the session-ending routes (sign-out) run last, each on a session of its own.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from api.web.routes import TOKEN_COOKIE, csrf_for
from api.web.pageroute import PageRoute
from kaohe.runtime import Stack
from tests.conftest import Client
from tests.module_stack import backend, module_database, stack  # noqa: F401 (fixtures: one stack per store)
from tests.helpers import small_cycle
from tests.test_security import WRITES

pytestmark = pytest.mark.temporal

ORG, EVA, UNIT, REP, COM, AUD, ADM = "organizer", "evaluator", "unit", "representative", "committee", "auditor", "admin"
ROLES = (ORG, EVA, UNIT, REP, COM, AUD, ADM)
ANON = "anonymous"
SIGNED_IN = ROLES
READERS = (ORG, COM, AUD)  # services.permissions.READERS: reports, documents, the audit trail
OPEN = ROLES + (ANON,)


@dataclass(frozen=True)
class May:
    """Who may call a route. ``unit_scoped``: a unit user may call it for its own unit only (the
    ``{unit}`` of the path, the owner of its ``{item}``, the unit whose item cites its ``{sha256}``). ``kind``: ``"open"`` needs no session (sign-in, the phone ballot by
    code, the documentation outside production), ``"ends"`` ends the session it is called with."""

    roles: tuple[str, ...]
    unit_scoped: bool = False
    kind: str = ""


def may(*roles: str | tuple[str, ...], scoped: bool = False, kind: str = "") -> May:
    flat: list[str] = []
    for r in roles:
        flat.extend(r if isinstance(r, tuple) else (r,))
    return May(tuple(dict.fromkeys(flat)), scoped, kind)


OPEN_ROUTE = may(OPEN, kind="open")
SIGN_OUT = may(SIGNED_IN, kind="ends")
V = "/api/v1"

#: (method, path) → who may call it. One entry per route of the app; nothing else says it.
#: The admin keeps accounts and reads no assessment data (results, units, adjustments,
#: rectifications, the debrief list, assignments): issue 12, ``services.permissions.TABLE``.
MATRIX: dict[tuple[str, str], May] = {
    # ---------------------------------------------------------------- the documentation (public outside production)
    ("GET", "/openapi.json"): OPEN_ROUTE,
    ("GET", "/docs"): OPEN_ROUTE,
    ("GET", "/docs/oauth2-redirect"): OPEN_ROUTE,
    ("GET", "/redoc"): OPEN_ROUTE,
    # ---------------------------------------------------------------- JSON API: sign-in and people
    ("GET", f"{V}/health"): OPEN_ROUTE,
    ("POST", f"{V}/auth/login"): OPEN_ROUTE,
    ("POST", f"{V}/auth/token"): OPEN_ROUTE,
    ("POST", f"{V}/me/totp"): may(SIGNED_IN),
    ("POST", f"{V}/me/totp/confirm"): may(SIGNED_IN),
    ("POST", f"{V}/me/totp/disable"): may(SIGNED_IN),
    ("POST", f"{V}/auth/logout"): SIGN_OUT,
    ("GET", f"{V}/me"): may(SIGNED_IN),
    ("GET", f"{V}/users"): may(ADM, ORG, AUD),
    ("GET", f"{V}/audit/accounts"): may(*READERS),
    ("PUT", f"{V}/users/{{username}}"): may(ADM),
    # ---------------------------------------------------------------- cycles and stages
    ("POST", f"{V}/cycles"): may(ORG),
    ("GET", f"{V}/cycles"): may(SIGNED_IN),
    ("GET", f"{V}/cycles/{{key}}"): may(SIGNED_IN),
    ("POST", f"{V}/cycles/{{key}}/units"): may(ORG),
    ("POST", f"{V}/cycles/{{key}}/open"): may(ORG),
    ("POST", f"{V}/cycles/{{key}}/stages/{{stage}}/open"): may(ORG),
    ("POST", f"{V}/cycles/{{key}}/stages/{{stage}}/close"): may(ORG),
    ("PUT", f"{V}/cycles/{{key}}/deadlines/{{stage}}"): may(ORG),
    ("POST", f"{V}/cycles/{{key}}/close"): may(ORG),
    ("GET", f"{V}/cycles/{{key}}/allocation"): may(COM, ORG, AUD),
    ("POST", f"{V}/cycles/{{key}}/allocation/ties"): may(COM),
    ("POST", f"{V}/cycles/{{key}}/allocation/overrides"): may(COM),
    ("POST", f"{V}/cycles/{{key}}/allocation/approve"): may(COM),
    ("POST", f"{V}/cycles/{{key}}/allocation/reject"): may(COM),
    ("GET", f"{V}/cycles/{{key}}/results"): may(ORG, COM, AUD, UNIT),
    # ---------------------------------------------------------------- units: self-review, scoring, feedback
    ("GET", f"{V}/cycles/{{cycle}}/units"): may(ORG, EVA, UNIT, COM, AUD),
    ("GET", f"{V}/cycles/{{cycle}}/units/{{unit}}"): may(ORG, EVA, UNIT, COM, AUD, scoped=True),
    ("PUT", f"{V}/cycles/{{cycle}}/units/{{unit}}/self-review/draft"): may(UNIT, scoped=True),
    ("POST", f"{V}/cycles/{{cycle}}/units/{{unit}}/self-review"): may(UNIT, scoped=True),
    ("POST", f"{V}/cycles/{{cycle}}/units/{{unit}}/scoring"): may(EVA),
    ("PUT", f"{V}/cycles/{{cycle}}/units/{{unit}}/evaluators"): may(ORG),
    ("GET", f"{V}/cycles/{{cycle}}/evaluators"): may(ORG, EVA, UNIT, COM, AUD),  # units.read; a unit user sees its own unit's
    ("POST", f"{V}/cycles/{{cycle}}/units/{{unit}}/feedback"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/units/{{unit}}/feedback/acknowledge"): may(UNIT, scoped=True),
    ("GET", f"{V}/cycles/{{cycle}}/units/{{unit}}/feedback"): may(ORG, AUD, UNIT, COM, scoped=True),
    ("PUT", f"{V}/cycles/{{cycle}}/units/{{unit}}/feedback/draft"): may(ORG),
    ("GET", f"{V}/cycles/{{cycle}}/units/{{unit}}/feedback.docx"): may(READERS, UNIT, scoped=True),
    # ---------------------------------------------------------------- debrief: rosters, ballots, codes
    ("GET", f"{V}/cycles/{{cycle}}/debrief"): may(ORG, EVA, REP, COM, AUD),
    ("GET", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}"): may(ORG, COM, AUD),  # roster.read: the roster and turnout
    ("PUT", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}/roster"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}/ballots"): may(REP),
    ("POST", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}/close"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}/codes"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/debrief/{{cohort}}/codes.pdf"): may(ORG),
    # the phone ballot: the one-time code in the path is the credential (tests/test_meeting.py)
    ("GET", f"{V}/ballot-codes/{{code}}"): OPEN_ROUTE,
    ("POST", f"{V}/ballot-codes/{{code}}"): OPEN_ROUTE,
    # ---------------------------------------------------------------- adjustments and the committee
    ("GET", f"{V}/cycles/{{cycle}}/adjustments"): may(ORG, COM, AUD, UNIT),
    ("POST", f"{V}/cycles/{{cycle}}/adjustments"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/adjustments/{{adjustment}}/decision"): may(COM),
    ("GET", f"{V}/cycles/{{cycle}}/proposals"): may(COM, ORG, AUD),
    ("POST", f"{V}/cycles/{{cycle}}/proposals/{{proposal}}/confirm"): may(COM),
    ("POST", f"{V}/cycles/{{cycle}}/proposals/{{proposal}}/objection"): may(COM),
    # ---------------------------------------------------------------- rectification and evidence
    ("GET", f"{V}/cycles/{{cycle}}/rectifications"): may(ORG, COM, AUD, UNIT),
    ("GET", f"{V}/cycles/{{cycle}}/units/{{unit}}/carried-over"): may(ORG, COM, AUD, UNIT, scoped=True),  # rectification.read
    ("POST", f"{V}/cycles/{{cycle}}/rectifications"): may(ORG),
    # item routes: the unit scope is the item's owner
    ("POST", f"{V}/cycles/{{cycle}}/rectifications/{{item}}/progress"): may(UNIT, scoped=True),
    ("POST", f"{V}/cycles/{{cycle}}/rectifications/{{item}}/submit"): may(UNIT, scoped=True),
    ("POST", f"{V}/cycles/{{cycle}}/rectifications/{{item}}/verify"): may(ORG),
    ("POST", f"{V}/attachments"): may(UNIT, ORG),
    # a unit user reads a file only through an item of its own unit that cites it
    ("GET", f"{V}/attachments/{{sha256}}"): may(ORG, COM, AUD, UNIT, scoped=True),
    # ---------------------------------------------------------------- reports and the use of results
    ("GET", f"{V}/cycles/{{cycle}}/report"): may(READERS),
    ("GET", f"{V}/cycles/{{cycle}}/report.{{fmt}}"): may(READERS),
    ("PUT", f"{V}/cycles/{{cycle}}/report/suggestions"): may(ORG),
    ("GET", f"{V}/cycles/{{cycle}}/results.xlsx"): may(READERS),
    ("GET", f"{V}/cycles/{{cycle}}/rectifications.xlsx"): may(READERS),
    ("PUT", f"{V}/cycles/{{cycle}}/results-use"): may(ORG),
    ("GET", f"{V}/cycles/{{cycle}}/hr-export"): may(READERS),
    ("GET", f"{V}/cycles/{{cycle}}/hr-export.xlsx"): may(READERS),
    ("POST", f"{V}/cycles/{{cycle}}/business-grades"): may(ORG),
    ("POST", f"{V}/cycles/{{cycle}}/business-grades/file"): may(ORG),
    ("GET", f"{V}/cycles/{{cycle}}/cross-check"): may(READERS),
    ("GET", f"{V}/units/{{unit}}/trend"): may(READERS, UNIT, scoped=True),
    ("GET", f"{V}/tasks"): may(SIGNED_IN),
    # ---------------------------------------------------------------- the audit trail
    ("GET", f"{V}/audit/digest"): may(AUD, ORG, COM),
    ("GET", f"{V}/audit/verify"): may(AUD, ORG, COM),
    ("GET", f"{V}/audit/cycles/{{key}}/replay"): may(AUD, ORG, COM),
    ("GET", f"{V}/audit/cycles/{{key}}/timeline"): may(AUD, ORG, COM),
    ("GET", f"{V}/audit/cycles/{{key}}/units/{{unit}}/explain"): may(AUD, ORG, COM),
    ("POST", f"{V}/audit/cycles/{{key}}/whatif"): may(AUD, ORG, COM),  # a read with a body: nothing written
    # the ballot is secret (the default): the export names each representative's scores, the auditor's alone
    ("GET", f"{V}/audit/cycles/{{key}}/export"): may(AUD),
    # ================================================================ the web pages
    ("GET", "/"): OPEN_ROUTE,
    ("GET", "/login"): OPEN_ROUTE,
    ("POST", "/login"): OPEN_ROUTE,
    ("POST", "/login/otp"): OPEN_ROUTE,
    # the second step of a sign-in: without the first step's half-session nobody gets past it
    ("GET", "/login/totp"): may(kind="open"),
    ("POST", "/login/totp"): may(kind="open"),
    ("POST", "/logout"): SIGN_OUT,
    ("GET", "/tasks"): may(SIGNED_IN),
    ("GET", "/cycles"): may(SIGNED_IN),
    ("GET", "/results"): may(ORG, COM, AUD, UNIT),
    ("GET", "/audit"): may(AUD, ORG, COM),
    ("GET", "/audit/accounts"): may(AUD, ORG, COM),  # the admin's changes to accounts, from the log
    ("GET", "/account/password"): may(SIGNED_IN),
    ("POST", "/account/password"): may(SIGNED_IN),
    ("GET", "/account/totp"): may(SIGNED_IN),
    ("POST", "/account/totp/begin"): may(SIGNED_IN),
    ("POST", "/account/totp/confirm"): may(SIGNED_IN),
    ("POST", "/account/totp/disable"): may(SIGNED_IN),
    # the admin's pages: accounts
    ("GET", "/admin/users"): may(ADM),
    ("GET", "/admin/users/new"): may(ADM),
    ("POST", "/admin/users/new"): may(ADM),
    ("GET", "/admin/users/template.xlsx"): may(ADM),
    ("GET", "/admin/users/import"): may(ADM),
    ("POST", "/admin/users/import"): may(ADM),
    ("GET", "/admin/users/{username}"): may(ADM),
    ("POST", "/admin/users/{username}"): may(ADM),
    ("POST", "/admin/users/{username}/active"): may(ADM),
    ("POST", "/admin/users/{username}/password"): may(ADM),
    # the organizer's console
    ("GET", "/org"): may(ORG),
    ("GET", "/org/cycles"): may(ORG),
    ("GET", "/org/cycles/new"): may(ORG),
    ("POST", "/org/cycles/new"): may(ORG),
    ("GET", "/org/cycles/{key}"): may(ORG),
    ("GET", "/org/cycles/{key}/units.xlsx"): may(ORG),
    ("GET", "/org/cycles/{key}/rectifications.xlsx"): may(ORG),
    ("POST", "/org/cycles/{key}/open"): may(ORG),
    ("POST", "/org/cycles/{key}/adjustments"): may(ORG),
    ("GET", "/org/cycles/{key}/units"): may(ORG),
    ("POST", "/org/cycles/{key}/units"): may(ORG),
    ("POST", "/org/cycles/{key}/units/upload"): may(ORG),
    ("GET", "/org/cycles/{key}/bulk/{action}"): may(ORG),
    ("POST", "/org/cycles/{key}/bulk/{action}"): may(ORG),
    ("POST", "/org/cycles/{key}/bulk/{action}/one"): may(ORG),
    ("POST", "/org/cycles/{key}/deadlines/{stage}"): may(ORG),
    ("POST", "/org/cycles/{key}/stages/{stage}/{action}"): may(ORG),
    ("POST", "/org/cycles/{key}/debrief/{cohort}/close"): may(ORG),
    ("POST", "/org/cycles/{key}/rectifications/{item}/verify"): may(ORG),
    ("GET", "/org/cycles/{key}/debrief/{cohort}"): may(ORG),
    ("GET", "/org/cycles/{key}/debrief/{cohort}/turnout"): may(ORG, COM, AUD),  # roster.read
    ("POST", "/org/cycles/{key}/debrief/{cohort}/roster"): may(ORG),
    ("POST", "/org/cycles/{key}/debrief/{cohort}/roster/upload"): may(ORG),
    ("POST", "/org/cycles/{key}/debrief/{cohort}/codes.pdf"): may(ORG),
    ("POST", "/org/cycles/{key}/debrief/{cohort}/close-session"): may(ORG),
    ("GET", "/org/cycles/{key}/units/{unit}/feedback"): may(ORG),
    ("POST", "/org/cycles/{key}/units/{unit}/feedback"): may(ORG),
    ("POST", "/org/cycles/{key}/units/{unit}/evaluators"): may(ORG),
    ("POST", "/org/cycles/{key}/units/{unit}/remind/{step}"): may(ORG),
    # a cycle, a unit, the results
    ("GET", "/cycles/{key}"): may(SIGNED_IN),
    ("GET", "/cycles/{key}/units/{unit}"): may(ORG, EVA, UNIT, COM, AUD, scoped=True),
    ("GET", "/results/{cycle}"): may(ORG, COM, AUD, UNIT),
    ("GET", "/results/{cycle}/download/{what}"): may(READERS),
    # the audit pages
    ("GET", "/audit/{cycle}"): may(AUD, ORG, COM),
    ("GET", "/audit/{cycle}/timeline.csv"): may(AUD, ORG, COM),
    ("GET", "/audit/{cycle}/export"): may(AUD),  # secret ballot, as the API's export
    ("GET", "/audit/{cycle}/integrity"): may(AUD, ORG, COM),
    ("GET", "/audit/{cycle}/explain/{unit}"): may(AUD, ORG, COM),
    ("GET", "/audit/{cycle}/whatif"): may(AUD, ORG, COM),
    # the committee's pages
    ("GET", "/committee/{cycle}/adjustments"): may(COM, ORG, AUD),
    ("POST", "/committee/{cycle}/adjustments/{adjustment}/decision"): may(COM),
    ("GET", "/committee/{cycle}/allocation"): may(COM, ORG, AUD),
    ("POST", "/committee/{cycle}/allocation/override"): may(COM),
    ("POST", "/committee/{cycle}/allocation/tie"): may(COM),
    ("POST", "/committee/{cycle}/allocation/decision"): may(COM),
    ("GET", "/committee/{cycle}/proposals/{proposal}"): may(COM, ORG, AUD),
    ("POST", "/committee/{cycle}/proposals/{proposal}/confirm"): may(COM),
    ("POST", "/committee/{cycle}/proposals/{proposal}/objection"): may(COM),
    # evidence files
    ("GET", "/files/{sha256}"): may(ORG, COM, AUD, UNIT, scoped=True),  # a unit user: a file its own item cites
    ("GET", "/my/files/{sha256}"): may(ORG, COM, AUD, UNIT, scoped=True),
    # the representative's ballot, on a signed-in page or by one-time code
    ("GET", "/ballot/{cycle}/{cohort}"): may(REP),
    ("POST", "/ballot/{cycle}/{cohort}"): may(REP),
    ("GET", "/b/{code}"): OPEN_ROUTE,
    ("POST", "/b/{code}"): OPEN_ROUTE,
    # the evaluator's sheet
    ("GET", "/scoring/{cycle}/{unit}"): may(EVA),
    ("POST", "/scoring/{cycle}/{unit}"): may(EVA),
    ("POST", "/scoring/{cycle}/{unit}/draft"): may(EVA),
    # the unit's own pages
    ("GET", "/self-review/{cycle}/{unit}"): may(UNIT, scoped=True),
    ("POST", "/self-review/{cycle}/{unit}"): may(UNIT, scoped=True),
    ("POST", "/self-review/{cycle}/{unit}/draft"): may(UNIT, scoped=True),
    ("GET", "/my/{cycle}/{unit}"): may(UNIT, scoped=True),
    ("POST", "/my/{cycle}/{unit}/acknowledge"): may(UNIT, scoped=True),
    ("GET", "/my/{cycle}/{unit}/feedback.docx"): may(READERS, UNIT, scoped=True),  # feedback.download
    ("POST", "/my/{cycle}/{unit}/items/{item_cycle}/{item}"): may(UNIT, scoped=True),
}

#: One user per role (and a unit user of U2, the "other" unit); the matrix's callers.
PEOPLE = {ORG: "org", EVA: "eva", UNIT: "u1", REP: "R1", COM: "com", AUD: "aud", ADM: "admin"}
PASSWORD = "mx-Matrix-pass-2026"
READ_CYCLE, VOID_CYCLE = "mx", "mx-void"
NOBODY = "00000000-0000-0000-0000-000000000000"
CONCURRENCY = 12
#: Path parameters that belong to a unit: a unit user calls such a route for its own unit's and another's.
SCOPED_BY = ("{unit}", "{item}", "{sha256}")


# ---------------------------------------------------------------- the app's routes


def app_routes(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, is_page) of every route of an app: API routes, page routes and the
    documentation's routes (HEAD, which Starlette adds beside GET, is not a route of its own)."""
    routes: Any = app.routes
    try:  # FastAPI ≥ 0.16x keeps included routers lazily; flatten them
        from fastapi.routing import iter_route_contexts

        routes = iter_route_contexts(app.routes)
    except ImportError:  # pragma: no cover - older FastAPI lists routes directly
        pass
    out = []
    for route in routes:
        original = getattr(route, "original_route", route)
        if not isinstance(original, (APIRoute, Route)):
            continue  # the /static mount: files, no check
        for method in sorted((route.methods or set()) - {"HEAD"}):
            out.append((method, route.path, isinstance(original, PageRoute)))
    return out


def unclassified(routes: Iterable[tuple[str, str, bool]], matrix: dict[tuple[str, str], May]) -> tuple[set, set]:
    """(routes with no entry, entries with no route)."""
    have = {(m, p) for m, p, _ in routes}
    return have - set(matrix), set(matrix) - have


# ---------------------------------------------------------------- one stack per store


class Cast(Client):
    """The test client, its users made with one known password (the sign-in routes need it), and
    each unit's rectification item and evidence file (``items``, ``files``: unit → id, SHA-256)."""

    items: dict[str, str]
    files: dict[str, str]

    async def user(self, username: str, role: str, unit: str | None = None) -> str:
        if "admin" not in self.tokens:
            await self.login("admin", "admin-pass-123")
        r = await self.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD})
        assert r.status_code in (200, 201), r.text
        await self.login(username, PASSWORD)
        return username

    async def session(self, username: str) -> str:
        """A new session of the user (the sign-out routes end the one they are called with)."""
        password = "admin-pass-123" if username == "admin" else PASSWORD
        r = await self.http.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


@pytest_asyncio.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[Cast]:
    c = Cast(stack)
    for name, role, unit in (("org", ORG, None), ("eva", EVA, None), ("com", COM, None), ("com2", COM, None),
                             ("aud", AUD, None), ("u1", UNIT, "U1"), ("u2", UNIT, "U2"),
                             ("R1", REP, None), ("R2", REP, None), ("R3", REP, None)):
        await c.user(name, role, unit)
    await small_cycle(c, "published", key=READ_CYCLE)
    # A rectification item of each unit, each with a progress report citing a file of its unit:
    # the item and file routes are called with the caller's own unit's (U1) and the other's (U2).
    c.items, c.files = {}, {}
    for unit, user in (("U1", "u1"), ("U2", "u2")):
        r = await c.as_("org").post(f"/cycles/{READ_CYCLE}/rectifications", json={"unit": unit, "description": f"{unit} 整改台账"})
        assert r.status_code in (200, 201), r.text
        c.items[unit] = r.json()["items"][0]["id"]
        r = await c.http.post("/attachments", files={"file": (f"{unit}.txt", f"evidence of {unit}".encode())},
                              headers=c.as_(user).headers)
        assert r.status_code == 201, r.text
        c.files[unit] = r.json()["sha256"]
        r = await c.as_(user).post(f"/cycles/{READ_CYCLE}/rectifications/{c.items[unit]}/progress",
                                   json={"text": "已整改一半", "attachments": [r.json()]})
        assert r.status_code == 200, r.text
    try:
        yield c
    finally:
        await c.close()


# ---------------------------------------------------------------- one call


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    page: bool
    caller: str  # a role or ANON
    unit: str  # whose {unit}, {item} or {sha256} the path names: the unit user's own (U1) or another's (U2)

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.caller} (unit {self.unit})"


def target(path: str, method: str, unit: str, username: str, page: bool, client: Cast) -> str:
    """The path with values: reads, page forms and item routes on the published cycle (an item and
    a file of ``unit``), the API's other writes on a cycle that does not exist."""
    cycle = READ_CYCLE if method == "GET" or page or "{item}" in path else VOID_CYCLE
    values = {"key": cycle, "cycle": cycle, "item_cycle": cycle, "unit": unit, "stage": "scoring", "cohort": "grassroots_branch",
              "username": "mx-intruder" if method != "GET" else username, "item": client.items[unit], "proposal": NOBODY,
              "adjustment": NOBODY, "sha256": client.files[unit], "code": "MXNOCODE", "fmt": "pdf", "what": "results",
              "action": "remind", "step": "self_review"}
    return path.format(**values)


def api_body(method: str, path: str, caller: str) -> dict[str, Any]:
    """A well-formed body, so that what answers a refused caller is the role check."""
    if path in (f"{V}/auth/login",):
        return {"json": {"username": PEOPLE.get(caller, "org"), "password": "admin-pass-123" if caller == ADM else PASSWORD}}
    if path == f"{V}/auth/token":
        return {"data": {"username": PEOPLE.get(caller, "org"), "password": "admin-pass-123" if caller == ADM else PASSWORD}}
    if path in (f"{V}/me/totp/confirm", f"{V}/me/totp/disable"):
        return {"json": {"code": "000000"}}
    if path == f"{V}/ballot-codes/{{code}}":
        return {"json": {"scores": {"U1": "90", "U2": "80"}}}
    body = WRITES.get((method, path), (None, None))[1]
    if (method, path) == ("POST", f"{V}/cycles"):
        body = {**body, "key": "mx-new"}
    return {} if body is None else {"json": body}


def refused(call: Call, r: httpx.Response) -> bool:
    if r.status_code in (401, 403):
        return True
    return call.page and r.status_code in (302, 303, 307) and r.headers.get("location", "").startswith("/login")


async def send(http: httpx.AsyncClient, call: Call, token: str | None, username: str, client: Cast) -> httpx.Response:
    url = target(call.path, call.method, call.unit, username, call.page, client)
    if not call.page:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        kw = api_body(call.method, call.path, call.caller) if call.method != "GET" else {}
        return await http.request(call.method, url, headers=headers, **kw)
    cookies = {} if token is None else {TOKEN_COOKIE: token}
    data = {"csrf": csrf_for(token)} if token and call.method == "POST" else {}
    if call.path in ("/login", "/login/otp") and call.method == "POST":
        data = {"username": PEOPLE.get(call.caller, "org"), "password": "admin-pass-123" if call.caller == ADM else PASSWORD}
    http.cookies.clear()
    http.cookies.update(cookies)
    return await http.request(call.method, url, data=data or None)


def gist(r: httpx.Response) -> str:
    """What an answer says, in a line: a JSON error's message, a page's title, a redirect's target."""
    if r.is_redirect:
        return "→ " + r.headers.get("location", "")
    title = re.search(r"<title>(.*?)</title>", r.text, re.S)
    return (title.group(1).strip() if title else r.text)[:160].replace("\n", " ")


def calls(routes: list[tuple[str, str, bool]]) -> list[Call]:
    out = []
    for method, path, page in routes:
        for caller in ROLES + (ANON,):
            out.append(Call(method, path, page, caller, "U1"))
            if caller == UNIT and any(p in path for p in SCOPED_BY):
                out.append(Call(method, path, page, caller, "U2"))
    return out


def expected(call: Call) -> bool:
    """True if the matrix says the call is let through."""
    rule = MATRIX[(call.method, call.path)]
    if call.caller not in rule.roles:
        return False
    return not (rule.unit_scoped and call.caller == UNIT and call.unit != "U1")


# ================================================================ the tests


def test_every_route_has_one_entry(stack):
    missing, stale = unclassified(app_routes(stack.server.config.app), MATRIX)
    assert not missing, f"routes with no entry in MATRIX (who may call them?): {sorted(missing)}"
    assert not stale, f"MATRIX entries for routes the app no longer has: {sorted(stale)}"


def test_a_new_route_without_an_entry_is_caught():
    """The check above, on an app that gains one API route and one page route nobody classified."""
    app = FastAPI()
    v1 = APIRouter(prefix="/api/v1")
    v1.add_api_route("/health", lambda: {}, methods=["GET"])
    v1.add_api_route("/cycles/{key}/secret-export", lambda key: {}, methods=["GET"])
    app.include_router(v1)
    pages = APIRouter(route_class=PageRoute)
    pages.add_api_route("/login", lambda: {}, methods=["GET"])
    pages.add_api_route("/org/cycles/{key}/wipe", lambda key: {}, methods=["POST"])
    app.include_router(pages)
    missing, _ = unclassified(app_routes(app), MATRIX)
    assert missing == {("GET", "/api/v1/cycles/{key}/secret-export"), ("POST", "/org/cycles/{key}/wipe")}
    assert ("POST", "/org/cycles/{key}/wipe", True) in app_routes(app)  # a page route is told apart from the API


async def test_every_route_answers_every_role_as_the_matrix_says(client, stack):
    routes = app_routes(stack.server.config.app)
    assert not unclassified(routes, MATRIX)[0]
    tokens = {role: client.tokens[user] for role, user in PEOPLE.items()}
    tokens[ANON] = None
    gate = asyncio.Semaphore(CONCURRENCY)
    wrong: list[str] = []
    broken: list[str] = []

    async def check(http: httpx.AsyncClient, call: Call, token: str | None) -> None:
        async with gate:
            r = await send(http, call, token, PEOPLE.get(call.caller, "org"), client)
        if r.status_code >= 500:
            broken.append(f"{call}: {r.status_code} {r.text[:200]}")
        elif refused(call, r) == expected(call):
            wrong.append(f"{call}: {'refused' if refused(call, r) else 'let through'} ({r.status_code}), "
                         f"the matrix says {'allowed' if expected(call) else 'refused'}: {gist(r)}")

    everything = calls(routes)
    ending = [c for c in everything if MATRIX[(c.method, c.path)].kind == "ends"]
    rest = [c for c in everything if c not in ending]
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
        # one client per page call: a page answer may set cookies, which must not leak into the next call
        async def one(call: Call, token: str | None) -> None:
            if call.page:
                async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as own:
                    await check(own, call, token)
            else:
                await check(api, call, token)

        await asyncio.gather(*(one(c, tokens[c.caller]) for c in rest))
        # the sign-out routes last, each on a fresh session of its caller
        # the sign-out routes last, each on a fresh session of its caller: let through means the
        # session is over afterwards (the page's answer is the redirect to /login either way)
        for call in ending:
            if call.caller == ANON:
                await one(call, None)
                continue
            token = await client.session(PEOPLE[call.caller])
            async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as own:
                r = await send(own, call, token, PEOPLE[call.caller], client)
            if r.status_code >= 500:
                broken.append(f"{call}: {r.status_code} {r.text[:200]}")
            me = await api.get(f"{V}/me", headers={"Authorization": f"Bearer {token}"})
            if me.status_code != 401:
                wrong.append(f"{call}: the session still works after it ({r.status_code} {gist(r)})")
    assert not broken, "5xx answers:\n" + "\n".join(broken)
    assert not wrong, f"{len(wrong)} of {len(everything)} calls disagree with the matrix:\n" + "\n".join(sorted(wrong))
