"""Who may do what (SPEC §1): sign-in, role and unit scope on every endpoint, separation of
duties. Through the real HTTP API, on both stores; a refused write stores nothing.

One stack and one cast of users serve the module (per store); four small cycles are driven once
each to the stage the checks need and shared, since a refused request changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio
from fastapi.routing import APIRoute

from kaohe.runtime import Stack
from tests.conftest import Client, log_position
from tests.module_stack import backend, module_database, stack  # noqa: F401 (fixtures: one stack per store)
from tests.helpers import MEETING, cast, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
SIGN_IN = {"/api/v1/auth/login", "/api/v1/auth/token", "/api/v1/auth/logout",
           # one's own second factor, every role (tests/test_signin.py)
           "/api/v1/me/totp", "/api/v1/me/totp/confirm", "/api/v1/me/totp/disable"}
OPEN_ROUTES = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/auth/token"}  # need no token
#: The phone ballot by one-time code: the code in the path is the credential, not a token
#: (``tests/test_meeting.py`` checks them: a foreign, spent or expired code is refused).
BY_CODE = {"/api/v1/ballot-codes/{code}"}
#: Reads that take a body, so are POSTs: they write nothing (the what-if replay: a policy in, grades out).
READS_BY_POST = {"/api/v1/audit/cycles/{key}/whatif"}
SCORES = {"1.1.1": "5", "1.1.2": "3"}  # valid for TINY_SCHEME (1.1.1 max 6, 1.1.2 max 4)

#: Every write route of the API: who may call it, and a valid body (so that what answers a
#: caller of the wrong role is the role check, not body validation). A write route missing here
#: fails ``test_every_write_route_is_classified``.
WRITES: dict[tuple[str, str], tuple[set[str], Any]] = {
    ("PUT", "/api/v1/users/{username}"): ({"admin"}, {"role": "organizer", "password": "intruder-pass-1"}),
    ("POST", "/api/v1/cycles"): (
        {"organizer"},
        {"key": "intruder-cycle", "year": 2026, "name": "越权", "schemes": {COHORT: "default"}},
    ),
    ("POST", "/api/v1/cycles/{key}/units"): ({"organizer"}, {"units": [{"key": "U9", "name": "越权", "org_type": COHORT}]}),
    ("POST", "/api/v1/cycles/{key}/open"): ({"organizer"}, None),
    ("POST", "/api/v1/cycles/{key}/stages/{stage}/open"): ({"organizer"}, None),
    ("POST", "/api/v1/cycles/{key}/stages/{stage}/close"): ({"organizer"}, {"reason": "越权"}),
    ("PUT", "/api/v1/cycles/{key}/deadlines/{stage}"): ({"organizer"}, {"deadline": "2099-01-01T00:00:00+08:00"}),
    ("POST", "/api/v1/cycles/{key}/close"): ({"organizer"}, {"reason": "越权"}),
    # The committee's decisions: each a proposal at a meeting (MEETING), confirmed or objected to.
    ("POST", "/api/v1/cycles/{key}/allocation/ties"): ({"committee"}, {"cohort": COHORT, "units": ["U1"], "reason": "越权", **MEETING}),
    ("POST", "/api/v1/cycles/{key}/allocation/overrides"): ({"committee"}, {"unit": "U1", "grade": "good", "reason": "越权", **MEETING}),
    ("POST", "/api/v1/cycles/{key}/allocation/approve"): ({"committee"}, {"reason": "越权", **MEETING}),
    ("POST", "/api/v1/cycles/{key}/allocation/reject"): ({"committee"}, {"reason": "越权", **MEETING}),
    ("POST", "/api/v1/cycles/{cycle}/proposals/{proposal}/confirm"): ({"committee"}, None),
    ("POST", "/api/v1/cycles/{cycle}/proposals/{proposal}/objection"): ({"committee"}, {"reason": "越权"}),
    ("PUT", "/api/v1/cycles/{cycle}/units/{unit}/self-review/draft"): ({"unit"}, {"scores": SCORES}),
    ("POST", "/api/v1/cycles/{cycle}/units/{unit}/self-review"): ({"unit"}, {"scores": SCORES}),
    ("POST", "/api/v1/cycles/{cycle}/units/{unit}/scoring"): ({"evaluator"}, {"scores": SCORES}),
    ("PUT", "/api/v1/cycles/{cycle}/units/{unit}/evaluators"): ({"organizer"}, {"evaluators": ["eva"]}),
    ("POST", "/api/v1/cycles/{cycle}/units/{unit}/feedback"): ({"organizer"}, {"text": "越权"}),
    ("POST", "/api/v1/cycles/{cycle}/units/{unit}/feedback/acknowledge"): ({"unit"}, None),
    ("POST", "/api/v1/cycles/{cycle}/debrief/{cohort}/ballots"): ({"representative"}, {"scores": {"U1": "90", "U2": "80"}}),
    ("POST", "/api/v1/cycles/{cycle}/debrief/{cohort}/close"): ({"organizer"}, None),
    ("PUT", "/api/v1/cycles/{cycle}/debrief/{cohort}/roster"): ({"organizer"}, [{"representative": "R1"}]),
    ("POST", "/api/v1/cycles/{cycle}/debrief/{cohort}/codes"): ({"organizer"}, None),
    ("POST", "/api/v1/cycles/{cycle}/debrief/{cohort}/codes.pdf"): ({"organizer"}, None),
    ("POST", "/api/v1/cycles/{cycle}/adjustments"): ({"organizer"}, {"unit": "U1", "kind": "bonus", "points": "1", "reason": "越权"}),
    ("POST", "/api/v1/cycles/{cycle}/adjustments/{adjustment}/decision"): ({"committee"}, {"decision": "approve", "reason": "", **MEETING}),
    ("POST", "/api/v1/cycles/{cycle}/rectifications"): ({"organizer"}, {"unit": "U1", "description": "越权"}),
    # Item routes: the unit scope is checked against the item's owner (tests/test_rectification.py).
    ("POST", "/api/v1/cycles/{cycle}/rectifications/{item}/progress"): ({"unit"}, {"text": "越权"}),
    ("POST", "/api/v1/cycles/{cycle}/rectifications/{item}/submit"): ({"unit"}, {"text": "越权"}),
    ("POST", "/api/v1/cycles/{cycle}/rectifications/{item}/verify"): ({"organizer"}, {"decision": "approve"}),
    ("POST", "/api/v1/attachments"): ({"unit", "organizer"}, None),
    ("PUT", "/api/v1/cycles/{cycle}/units/{unit}/feedback/draft"): ({"organizer"}, {"text": "越权"}),
    ("PUT", "/api/v1/cycles/{cycle}/report/suggestions"): ({"organizer"}, {"text": "越权"}),
    ("PUT", "/api/v1/cycles/{cycle}/results-use"): ({"organizer"}, {"recognition_min_grade": "good"}),
    ("POST", "/api/v1/cycles/{cycle}/business-grades"): ({"organizer"}, {"rows": [{"unit": "U1", "grade": "A"}]}),
    ("POST", "/api/v1/cycles/{cycle}/business-grades/file"): ({"organizer"}, None),
}

#: One user per role, from ``tests.helpers.cast`` (plus the bootstrap admin).
PEOPLE = {
    "organizer": "org",
    "evaluator": "eva",
    "unit": "u1",
    "representative": "R1",
    "committee": "com",
    "auditor": "aud",
    "admin": "admin",
}


# ---------------------------------------------------------------- one stack per module and store


@pytest_asyncio.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[Client]:
    c = Client(stack)
    await cast(c)
    try:
        yield c
    finally:
        await c.close()


@pytest_asyncio.fixture(scope="module")
async def self_review_cycle(client) -> str:
    """``sec-sr``: self-review open, nobody has submitted."""
    return await small_cycle(client, "self_review", key="sec-sr")


@pytest_asyncio.fixture(scope="module")
async def adjustments_cycle(client) -> dict[str, str]:
    """``sec-adj`` in the adjustments stage: org proposed a bonus for U1 and a downgrade of U2,
    both pending. Returns the cycle key and the adjustment ids by unit."""
    key = await small_cycle(client, "adjustments", key="sec-adj")
    ids = {"cycle": key}
    for unit, body in (
        ("U1", {"unit": "U1", "kind": "bonus", "points": "1", "reason": "获评先进"}),
        ("U2", {"unit": "U2", "kind": "downgrade", "levels": 1, "reason": "巡视指出问题"}),
    ):
        r = await client.as_("org").post(f"/cycles/{key}/adjustments", json=body)
        assert r.status_code == 201, r.text
        ids[unit] = r.json()["adjustment"]
    return ids


@pytest_asyncio.fixture(scope="module")
async def allocation_cycle(client) -> str:
    """``sec-alloc`` in the allocation stage (no adjustments): U1 F = 94.40 excellent, U2 F = 80.90
    good, as worked by hand in test_cycle_api.py."""
    return await small_cycle(client, "allocation", key="sec-alloc")


@pytest_asyncio.fixture(scope="module")
async def published_cycle(client) -> str:
    """``sec-pub``: approved and published, the same scores as ``sec-alloc``."""
    return await small_cycle(client, "published", key="sec-pub")


# ---------------------------------------------------------------- the routes


def api_routes(stack: Stack) -> list[tuple[str, str]]:
    """(method, path) of every APIRoute of the running app under /api/v1."""
    app = stack.server.config.app
    routes: Any = app.routes
    try:  # FastAPI ≥ 0.16x keeps included routers lazily; flatten them
        from fastapi.routing import iter_route_contexts

        routes = iter_route_contexts(app.routes)
    except ImportError:  # pragma: no cover - older FastAPI lists APIRoutes directly
        pass
    out = []
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.path.startswith("/api/v1"):
            for method in sorted(route.methods or ()):
                out.append((method, route.path))
    assert out, "no API routes found"
    return out


def write_routes(stack: Stack) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_routes(stack) if m in WRITE_METHODS and p not in SIGN_IN | BY_CODE | READS_BY_POST]


def fill(path: str, **params: str) -> str:
    """A route's path with real values, relative to the client's /api/v1 base."""
    values = {"stage": "scoring", "cohort": COHORT, "unit": "U1", "username": "intruder",
              "item": "00000000-0000-0000-0000-000000000000", "proposal": "00000000-0000-0000-0000-000000000000", "sha256": "0" * 64, "fmt": "pdf", **params}
    values.setdefault("cycle", values.get("key", ""))
    values.setdefault("key", values["cycle"])
    return path.format(**values).removeprefix("/api/v1")


async def send(client: Client, method: str, path: str, token: str | None, body: Any = None):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.http.request(method, path, json=body, headers=headers)


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    body = r.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"], body
    return body


# ================================================================ sign-in


def test_every_write_route_is_classified(stack):
    assert set(write_routes(stack)) == set(WRITES), "a write route is missing from WRITES (roles and a valid body)"


async def test_every_endpoint_needs_a_valid_token(client, stack, adjustments_cycle):
    # No token and a garbage token: 401 with the JSON error body, on every route but the open ones.
    params = {"cycle": adjustments_cycle["cycle"], "adjustment": adjustments_cycle["U1"]}
    before = log_position(stack)
    checked = 0
    for method, path in api_routes(stack):
        if path in OPEN_ROUTES | BY_CODE:
            continue
        body = WRITES.get((method, path), (None, None))[1]
        for token in (None, "garbage-" + uuid.uuid4().hex):
            r = await send(client, method, fill(path, **params), token, body)
            assert_error(r, 401, "unauthorized")
            assert r.headers.get("www-authenticate") == "Bearer"
            checked += 1
    assert checked >= 2 * 30
    assert log_position(stack) == before


async def test_a_signed_out_token_no_longer_works(client, stack):
    await client.user("leaver", "auditor")
    me = client.as_("leaver")
    assert (await me.get("/me")).json()["username"] == "leaver"
    assert (await me.post("/auth/logout")).status_code == 204
    assert_error(await me.get("/me"), 401, "unauthorized")


async def test_a_wrong_password_is_refused(client, stack):
    r = await client.http.post("/auth/login", json={"username": "aud", "password": "not-the-password"})
    assert_error(r, 401, "unauthorized")


# ================================================================ role on every write route


@pytest.mark.parametrize("role", list(PEOPLE))
async def test_every_write_route_checks_the_role(client, stack, adjustments_cycle, role):
    """Each role calls every write route it may not use → 403, nothing stored.

    The unit user (u1, unit U1) aims every unit route at U2, so for it every write route is
    refused: its own-unit routes by the unit scope, the others by role."""
    user = PEOPLE[role]
    params = {"cycle": adjustments_cycle["cycle"], "adjustment": adjustments_cycle["U1"]}
    if role == "unit":
        params["unit"] = "U2"
    before = log_position(stack)
    refused = []
    for (method, path), (allowed, body) in sorted(WRITES.items()):
        if role in allowed and role != "unit":
            continue
        if role == "unit" and role in allowed and "{unit}" not in path:
            continue  # not unit-scoped by its path (items: by their owner; uploads: the user's own)
        r = await send(client, method, fill(path, **params), client.tokens[user], body)
        assert_error(r, 403, "forbidden")
        refused.append(path)
    assert refused
    assert log_position(stack) == before


async def test_an_auditor_can_write_nothing(client, stack, adjustments_cycle):
    """Every write route of the app (enumerated from the running app), as the auditor → 403."""
    key = adjustments_cycle["cycle"]
    params = {"cycle": key, "adjustment": adjustments_cycle["U1"]}
    before = log_position(stack)
    routes = write_routes(stack)
    assert len(routes) == len(WRITES)
    for method, path in routes:
        body = WRITES[(method, path)][1]
        r = await send(client, method, fill(path, **params), client.tokens["aud"], body)
        assert_error(r, 403, "forbidden")
    assert log_position(stack) == before
    # Nothing of what was attempted exists.
    org = client.as_("org")
    assert "intruder" not in {u["username"] for u in (await org.get("/users")).json()}
    assert (await org.get("/cycles/intruder-cycle")).status_code == 404
    assert [u["unit"] for u in (await org.get(f"/cycles/{key}/units")).json()] == ["U1", "U2"]
    assert {a["status"] for a in (await org.get(f"/cycles/{key}/adjustments")).json()} == {"pending"}


# ================================================================ what an auditor reads


async def test_an_auditor_reads_the_cycle_results_and_allocation(client, stack, published_cycle, allocation_cycle):
    aud, key = client.as_("aud"), published_cycle
    r = await aud.get(f"/cycles/{key}")
    assert r.status_code == 200 and r.json()["status"] == "published", r.text

    r = await aud.get(f"/cycles/{key}/results")
    assert r.status_code == 200, r.text
    results = r.json()
    # U1: W = 100 × 9.5 / 10 = 95.00, D = mean(95, 93, 91) = 93.00, F = 0.7 × 95 + 0.3 × 93 = 94.40
    # U2: W = 80.00, D = mean(85, 83, 81) = 83.00, F = 56 + 24.9 = 80.90; q = floor(0.5 × 2) = 1
    assert {u: (v["final_score"], v["grade"]) for u, v in results["units"].items()} == {
        "U1": ("94.40", "excellent"),
        "U2": ("80.90", "good"),
    }
    assert results["distribution"] == {COHORT: {"excellent": 1, "good": 1, "average": 0, "poor": 0}}
    assert results == (await client.as_("org").get(f"/cycles/{key}/results")).json()

    r = await aud.get(f"/cycles/{allocation_cycle}/allocation")
    assert r.status_code == 200, r.text
    assert r.json()["approvable"] is True
    assert {u["unit"]: u["grade"] for u in r.json()["cohorts"][COHORT]["units"]} == {"U1": "excellent", "U2": "good"}

    units = (await aud.get(f"/cycles/{key}/units")).json()
    assert [(u["unit"], u["scores"]) for u in units] == [
        ("U1", {"1.1.1": "6", "1.1.2": "3.5"}),
        ("U2", {"1.1.1": "5", "1.1.2": "3"}),
    ]
    assert (await aud.get(f"/cycles/{key}/units/U2")).status_code == 200
    assert (await aud.get(f"/cycles/{key}/debrief")).status_code == 200
    assert (await aud.get(f"/cycles/{key}/adjustments")).status_code == 200


async def test_an_auditor_reads_every_cycle_endpoint(client, stack, published_cycle):
    # "reads everything" (SPEC §1): no GET route of a cycle is closed to the auditor.
    for method, path in api_routes(stack):
        if method != "GET" or "{" not in path or path in BY_CODE:
            continue
        r = await send(client, "GET", fill(path, cycle=published_cycle), client.tokens["aud"])
        if "{sha256}" in path:  # no such file: the auditor passes the role check and finds nothing
            assert r.status_code == 404 and r.json()["code"] == "attachment_not_found", r.text
            continue
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"


async def test_an_auditor_can_list_the_users(client, stack):
    r = await client.as_("aud").get("/users")
    assert r.status_code == 200, r.text


# ================================================================ unit scope


async def test_a_unit_user_sees_only_its_own_unit(client, stack, published_cycle):
    key, u1 = published_cycle, client.as_("u1")
    assert_error(await u1.get(f"/cycles/{key}/units/U2"), 403, "forbidden")
    assert_error(await client.as_("u2").get(f"/cycles/{key}/units/U1"), 403, "forbidden")
    own = await u1.get(f"/cycles/{key}/units/U1")
    assert own.status_code == 200 and own.json()["unit"] == "U1"

    assert [u["unit"] for u in (await u1.get(f"/cycles/{key}/units")).json()] == ["U1"]

    results = (await u1.get(f"/cycles/{key}/results")).json()
    assert list(results["units"]) == ["U1"] and "distribution" not in results
    assert results["units"]["U1"]["final_score"] == "94.40"  # worked above

    assert_error(await u1.get(f"/cycles/{key}/debrief"), 403, "forbidden")
    assert_error(await u1.get(f"/cycles/{key}/allocation"), 403, "forbidden")


async def test_a_unit_user_sees_only_its_own_adjustments(client, stack, adjustments_cycle):
    key = adjustments_cycle["cycle"]
    assert [(a["unit"], a["kind"]) for a in (await client.as_("u1").get(f"/cycles/{key}/adjustments")).json()] == [("U1", "bonus")]
    assert [(a["unit"], a["kind"]) for a in (await client.as_("u2").get(f"/cycles/{key}/adjustments")).json()] == [("U2", "downgrade")]


async def test_a_unit_user_cannot_submit_for_another_unit(client, stack, self_review_cycle):
    key, u1 = self_review_cycle, client.as_("u1")
    before = log_position(stack)
    assert_error(await u1.post(f"/cycles/{key}/units/U2/self-review", json={"scores": SCORES}), 403, "forbidden")
    assert_error(await u1.put(f"/cycles/{key}/units/U2/self-review/draft", json={"scores": SCORES}), 403, "forbidden")
    assert_error(await u1.post(f"/cycles/{key}/units/U2/feedback/acknowledge"), 403, "forbidden")
    assert log_position(stack) == before
    assert (await client.as_("org").get(f"/cycles/{key}/units/U2")).json()["self_review"] == "pending"


# ================================================================ other roles


async def test_representatives_cannot_read_units_or_results(client, stack, published_cycle):
    key, rep = published_cycle, client.as_("R1")
    for path in (f"/cycles/{key}/units", f"/cycles/{key}/units/U1", f"/cycles/{key}/results", f"/cycles/{key}/allocation"):
        assert_error(await rep.get(path), 403, "forbidden")
    sessions = (await rep.get(f"/cycles/{key}/debrief")).json()
    assert [s["cohort"] for s in sessions] == [COHORT] and "ballots" not in sessions[0]


async def test_evaluators_cannot_propose_adjustments(client, stack, adjustments_cycle):
    key = adjustments_cycle["cycle"]
    before = log_position(stack)
    body = {"unit": "U1", "kind": "bonus", "points": "1", "reason": "评分时发现亮点"}
    assert_error(await client.as_("eva").post(f"/cycles/{key}/adjustments", json=body), 403, "forbidden")
    assert log_position(stack) == before
    assert len((await client.as_("org").get(f"/cycles/{key}/adjustments")).json()) == 2


async def test_evaluators_cannot_read_results_or_the_allocation(client, stack, published_cycle):
    eva = client.as_("eva")
    assert_error(await eva.get(f"/cycles/{published_cycle}/results"), 403, "forbidden")
    assert_error(await eva.get(f"/cycles/{published_cycle}/allocation"), 403, "forbidden")


async def test_organizers_cannot_decide_the_allocation(client, stack, allocation_cycle):
    key, org = allocation_cycle, client.as_("org")
    before = log_position(stack)
    for path, body in (
        ("allocation/approve", {"reason": "同意"}),
        ("allocation/reject", {"reason": "退回"}),
        ("allocation/ties", {"cohort": COHORT, "units": ["U1"], "reason": "x"}),
        ("allocation/overrides", {"unit": "U2", "grade": "average", "reason": "x"}),
    ):
        assert_error(await org.post(f"/cycles/{key}/{path}", json=body), 403, "forbidden")
    assert log_position(stack) == before
    assert (await org.get(f"/cycles/{key}")).json()["status"] == "open"


