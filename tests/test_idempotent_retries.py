"""A retry with the same ``Idempotency-Key`` gets the first attempt's answer, on every write route
(issue 8, item 5): the real API, worker, Temporal dev server and event store, over HTTP.

The route table is read from the running app, so a new write route without a case here fails."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.conftest import Client, log_position
from tests.helpers import MEETING, TINY_SCHEME, cast, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
#: Sign-in and sign-out are the session itself, not commands: a second sign-in mints a new token
#: on purpose, and after sign-out the token that would identify the retry is gone.
SESSION_ROUTES = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/logout"),
                  # one's own second factor: secrets and recovery codes are shown once, never kept for a retry
                  ("POST", "/api/v1/me/totp"), ("POST", "/api/v1/me/totp/confirm"), ("POST", "/api/v1/me/totp/disable")}


def write_routes(stack) -> set[tuple[str, str]]:
    app = stack.server.config.app
    routes: Any = app.routes
    try:  # FastAPI ≥ 0.16x keeps included routers lazily; flatten them
        from fastapi.routing import iter_route_contexts

        routes = iter_route_contexts(app.routes)
    except ImportError:  # pragma: no cover - older FastAPI lists APIRoutes directly
        pass
    out = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.path.startswith("/api/v1"):
            out |= {(m, route.path) for m in (route.methods or ()) if m in WRITES}
    assert out, "no write routes found"
    return out - SESSION_ROUTES - BY_CODE - READS_BY_POST


#: The phone ballot by one-time code carries no token (the code is the credential), so there is
#: no user to scope an Idempotency-Key to: the code itself is single-use, and a repeat is told
#: the code was spent — its sheet stored once (tests/test_meeting.py).
BY_CODE = {("POST", "/api/v1/ballot-codes/{code}")}
#: A read that takes a body (the what-if replay: a policy in, grades out) writes nothing to retry.
READS_BY_POST = {("POST", "/api/v1/audit/cycles/{key}/whatif")}


class Twice:
    """Sends a request, then the same request again with the same key, and checks the repeat."""

    def __init__(self, client: Client, stack) -> None:
        self.client = client
        self.stack = stack
        self.covered: set[tuple[str, str]] = set()

    async def __call__(self, who: str, method: str, route: str, json: Any = None, files: Any = None, **params: str) -> Any:
        path = route.format(**params)
        headers = {"Authorization": f"Bearer {self.client.tokens[who]}", "Idempotency-Key": f"twice-{uuid.uuid4().hex}"}
        url = path.removeprefix("/api/v1")
        first = await self.client.http.request(method, url, json=json, files=files, headers=headers)
        assert first.status_code in (200, 201, 204), f"{method} {path}: {first.status_code} {first.text}"
        before = log_position(self.stack)
        again = await self.client.http.request(method, url, json=json, files=files, headers=headers)
        assert (again.status_code, again.content) == (first.status_code, first.content), f"{method} {path}: {again.text}"
        assert again.headers.get("idempotent-replayed") == "true"
        assert log_position(self.stack) == before, f"{method} {path}: the repeat stored events"
        self.covered.add((method, route))
        return first.json() if first.content and first.headers.get("content-type", "").startswith("application/json") else None


async def test_every_write_route_answers_a_retry_with_the_first_answer(client, stack):
    await cast(client)
    twice = Twice(client, stack)
    org = client.as_("org")
    key = "idem"
    future = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    c = "/api/v1/cycles/{key}"
    u = "/api/v1/cycles/{cycle}/units/{unit}"

    # setup
    await twice("admin", "PUT", "/api/v1/users/{username}", {"role": "auditor", "password": "a-new-pass-1"}, username="newbie")
    await twice("org", "POST", "/api/v1/cycles", {"key": key, "year": 2026, "name": "重试测试", "schemes": {COHORT: TINY_SCHEME}})
    await twice("org", "POST", c + "/units", {"units": [
        {"key": "U1", "name": "第一支部", "org_type": COHORT}, {"key": "U2", "name": "第二支部", "org_type": COHORT},
    ]}, key=key)
    opened = await twice("org", "POST", c + "/open", key=key)  # the retry used to be told 409 "already open"
    assert opened is not None

    # self-review
    await twice("org", "PUT", c + "/deadlines/{stage}", {"deadline": future}, key=key, stage="self_review")
    same = {"1.1.1": "6", "1.1.2": "4"}
    await twice("u1", "PUT", u + "/self-review/draft", {"scores": {"1.1.1": "5"}}, cycle=key, unit="U1")
    await twice("u1", "POST", u + "/self-review", {"scores": same}, cycle=key, unit="U1")
    assert (await client.as_("u2").post(f"/cycles/{key}/units/U2/self-review", json={"scores": same})).status_code == 200
    await twice("org", "POST", c + "/stages/{stage}/open", key=key, stage="scoring")
    await twice("org", "POST", c + "/stages/{stage}/close", {"reason": "自评截止"}, key=key, stage="self_review")

    # scoring: both units the same, so that they tie at the quota boundary
    await twice("org", "PUT", u + "/evaluators", {"evaluators": ["eva"]}, cycle=key, unit="U1")
    await twice("eva", "POST", u + "/scoring", {"scores": same}, cycle=key, unit="U1")
    assert (await client.as_("eva").post(f"/cycles/{key}/units/U2/scoring", json={"scores": same})).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/scoring/close")).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/debrief/open")).status_code == 200

    # debrief
    ballots = "/api/v1/cycles/{cycle}/debrief/{cohort}"
    await twice("org", "PUT", ballots + "/roster", [{"representative": r} for r in ("R1", "R2", "R3")], cycle=key, cohort=COHORT)
    # the same codes again, not new ones (a retry must not revoke the slips it printed)
    codes = await twice("org", "POST", ballots + "/codes", cycle=key, cohort=COHORT)
    assert [c["representative"] for c in codes["codes"]] == ["R1", "R2", "R3"]
    await twice("org", "POST", ballots + "/codes.pdf", cycle=key, cohort=COHORT)
    await twice("R1", "POST", ballots + "/ballots", {"scores": {"U1": "90", "U2": "90"}}, cycle=key, cohort=COHORT)
    for rep in ("R2", "R3"):
        r = await client.as_(rep).post(f"/cycles/{key}/debrief/{COHORT}/ballots", json={"scores": {"U1": "90", "U2": "90"}})
        assert r.status_code == 200, r.text
    await twice("org", "POST", ballots + "/close", cycle=key, cohort=COHORT)
    assert (await org.post(f"/cycles/{key}/stages/debrief/close")).status_code == 200, "debrief close"
    assert (await org.post(f"/cycles/{key}/stages/adjustments/open")).status_code == 200

    # The committee decides as a body (default committee_quorum 2): com proposes at MEETING,
    # com2 confirms — each step retried.
    proposals = "/api/v1/cycles/{cycle}/proposals/{proposal}"

    async def decided(proposed: dict) -> None:
        confirmed = await twice("com2", "POST", proposals + "/confirm", cycle=key, proposal=proposed["proposal"])
        assert confirmed["effective"], confirmed

    # adjustments: a bonus, proposed for approval and objected to, then rejected (so the tie stays)
    adj = "/api/v1/cycles/{cycle}/adjustments"
    made = await twice("org", "POST", adj, {"unit": "U1", "kind": "bonus", "points": "1", "reason": "获评先进"}, cycle=key)
    first = await twice("com", "POST", adj + "/{adjustment}/decision", {"decision": "approve", "reason": "属实", **MEETING},
                        cycle=key, adjustment=made["adjustment"])
    await twice("com2", "POST", proposals + "/objection", {"reason": "证据不足"}, cycle=key, proposal=first["proposal"])
    await decided(await twice("com", "POST", adj + "/{adjustment}/decision", {"decision": "reject", "reason": "不同意", **MEETING},
                              cycle=key, adjustment=made["adjustment"]))
    assert (await org.post(f"/cycles/{key}/stages/adjustments/close")).status_code == 200

    # allocation: sent back once, then the tie, an override, approval
    await decided(await twice("com", "POST", c + "/allocation/reject", {"reason": "请复核", **MEETING}, key=key))
    assert (await org.post(f"/cycles/{key}/stages/adjustments/close")).status_code == 200
    await decided(await twice("com", "POST", c + "/allocation/ties", {"cohort": COHORT, "units": ["U1"], "reason": "党委会研究", **MEETING}, key=key))
    await decided(await twice("com", "POST", c + "/allocation/overrides", {"unit": "U2", "grade": "average", "reason": "党委会研究", **MEETING}, key=key))
    await decided(await twice("com", "POST", c + "/allocation/approve", {"reason": "同意", **MEETING}, key=key))

    # feedback and rectification
    await twice("org", "PUT", u + "/feedback/draft", {"text": "请加强党员教育管理。"}, cycle=key, unit="U2")
    issued = await twice("org", "POST", u + "/feedback", {"text": ""}, cycle=key, unit="U2")
    assert issued is not None
    await twice("u2", "POST", u + "/feedback/acknowledge", cycle=key, unit="U2")
    pdf = b"%PDF-1.4\n% evidence\n"
    evidence = await twice("u2", "POST", "/api/v1/attachments", files={"file": ("证明.pdf", pdf, "application/pdf")})
    assert evidence["sha256"] == hashlib.sha256(pdf).hexdigest()
    r = "/api/v1/cycles/{cycle}/rectifications"
    created = await twice("org", "POST", r, {"unit": "U2", "description": "补齐台账", "deadline": future}, cycle=key)
    item = created["items"][0]["id"]
    await twice("u2", "POST", r + "/{item}/progress", {"text": "已制定方案", "attachments": [evidence]}, cycle=key, item=item)
    await twice("u2", "POST", r + "/{item}/submit", {"text": "已完成"}, cycle=key, item=item)
    await twice("org", "POST", r + "/{item}/verify", {"decision": "approve", "reason": "核验通过"}, cycle=key, item=item)

    # report and use of results
    rep = "/api/v1/cycles/{cycle}"
    await twice("org", "PUT", rep + "/report/suggestions", {"text": "加强标准化建设。"}, cycle=key)
    await twice("org", "PUT", rep + "/results-use", {"recognition_min_grade": "good"}, cycle=key)
    await twice("org", "POST", rep + "/business-grades", {"rows": [{"unit": "U1", "grade": "A"}]}, cycle=key)
    csv = "unit,grade\nU1,B\nU2,B\n".encode()
    await twice("org", "POST", rep + "/business-grades/file", files={"file": ("业绩.csv", csv, "text/csv")}, cycle=key)

    await twice("org", "POST", c + "/close", {"reason": "考核结束"}, key=key)

    missing = write_routes(stack) - twice.covered
    assert not missing, f"write routes without a retry case: {sorted(missing)}"


async def test_a_key_reused_for_another_request_is_refused_naming_the_header(client, stack):
    await cast(client)
    key = await small_cycle(client, "setup", key="idem-reuse")
    org = client.as_("org")
    headers = {"Idempotency-Key": "reused"}
    first = await org.post(f"/cycles/{key}/open", headers=headers)
    assert first.status_code == 200, first.text
    before = log_position(stack)
    other = await org.post(f"/cycles/{key}/stages/scoring/open", headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotency_key_reused" and other.json()["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in other.json()["message"]
    assert log_position(stack) == before
    # Another user's key of the same name is theirs: keys are scoped to the user.
    r = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}}, headers=headers)
    assert r.status_code == 200, r.text
    # A request that failed is not stored: its retry runs again (and fails again, here).
    bad = await org.post("/cycles/nope/open", headers={"Idempotency-Key": "fails"})
    assert bad.status_code == 404
    assert (await org.post("/cycles/nope/open", headers={"Idempotency-Key": "fails"})).headers.get("idempotent-replayed") is None


async def test_concurrent_repeats_of_one_request_get_one_answer_and_one_set_of_events(client, stack):
    await cast(client)
    key = await small_cycle(client, "setup", key="idem-race")
    headers = {"Authorization": f"Bearer {client.tokens['org']}", "Idempotency-Key": "race"}
    before = log_position(stack)
    answers = await asyncio.gather(*(client.http.post(f"/cycles/{key}/open", headers=headers) for _ in range(4)))
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    opened = log_position(stack)
    assert opened > before
    # One more after the fact: the same answer, nothing stored.
    late = await client.http.post(f"/cycles/{key}/open", headers=headers)
    assert late.content == answers[0].content and log_position(stack) == opened
