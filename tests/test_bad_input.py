"""Bad input through the real HTTP API: each case is refused with a 4xx, the product's error
``code`` (and ``field`` where it names one), and nothing is stored — the event log's head
(``log_position``) does not move.

This is the thin end-to-end layer: what only HTTP can show (status codes, the JSON error body,
request parsing, the Idempotency-Key header, the routers' own checks) and one case per error
kind for each door a command goes in by — straight to the domain (setup, self-review, scoring,
ballots) or through a workflow update. Every other refusal the domain or a validator states is
tested on the application itself, in ``tests/application/test_refusals.py`` and
``tests/application/test_duties.py``.

One stack and one cast of users serve the whole module (per store: SQLite and PostgreSQL), and a
few small cycles, each driven once to the stage a group of cases needs, are shared: a refused
request stores nothing, so the cases cannot disturb each other. Cases that change a cycle on
purpose (the tie walk) run on a cycle of their own.
"""

from __future__ import annotations

import uuid
from typing import Any, AsyncIterator, Iterator

import psycopg
import pytest
import pytest_asyncio

from kaohe.runtime import Stack, free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import _PG_REASON, PG_URL, Client, log_position, temporal_address
from tests.helpers import MEETING, TINY_SCHEME, approve, cast, confirm, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"
VALID_SELF_REVIEW = {"1.1.1": "5", "1.1.2": "3"}  # TINY_SCHEME: 1.1.1 max 6, 1.1.2 max 4
NO_FIELD = object()  # the product names no field for this refusal: the body must have none


# ---------------------------------------------------------------- one stack per module and store


def _create_pg_database() -> str:
    name = f"kaohe_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def module_database(backend: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database for the module (None for SQLite)."""
    if backend == "sqlite":
        yield None
        return
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    name = _create_pg_database()
    yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    _drop_pg_database(name)


async def _start(tmp_dir, database_url: str | None, temporal_env) -> Stack:
    settings = Settings(
        data_dir=tmp_dir / "data",
        task_queue=f"kaohe-test-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        temporal_address=temporal_address(temporal_env),
        admin_password="admin-pass-123",
    )
    return await start_stack(settings, embedded_temporal=False, api_port=free_port())


@pytest_asyncio.fixture(scope="module")
async def stack(module_database, backend, tmp_path_factory, temporal_env) -> AsyncIterator[Stack]:
    running = await _start(tmp_path_factory.mktemp(f"bad-input-{backend}"), module_database, temporal_env)
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[Client]:
    """Signed in as everyone of ``tests.helpers.cast`` (org, eva, com, com-u1, aud, u1, u2, R1..R3)."""
    c = Client(stack)
    await cast(c)
    try:
        yield c
    finally:
        await c.close()


async def refused(stack: Stack, request, status: int, code: str, field: Any = NO_FIELD) -> dict:
    """Send ``request`` (an un-awaited coroutine) and check it is refused and stores nothing."""
    before = log_position(stack)
    r = await request
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if field is NO_FIELD:
        assert "field" not in body, body
    else:
        assert body.get("field") == field, body
    assert log_position(stack) == before, f"a refused request stored events: {body}"
    return body


# ---------------------------------------------------------------- shared cycles


@pytest_asyncio.fixture(scope="module")
async def setup_cycle(client) -> str:
    """Cycle ``bi-setup``: units U1, U2 registered, not opened."""
    return await small_cycle(client, "setup", key="bi-setup")


@pytest_asyncio.fixture(scope="module")
async def self_review_cycle(client) -> str:
    """Cycle ``bi-sr``: open, self-review open, nobody has submitted; no other stage opened."""
    return await small_cycle(client, "self_review", key="bi-sr")


@pytest_asyncio.fixture(scope="module")
async def pending_adjustment(client) -> tuple[str, str]:
    """Cycle ``bi-adj`` in the adjustments stage with one pending downgrade of U1, proposed by org."""
    key = await small_cycle(client, "adjustments", key="bi-adj")
    r = await client.as_("org").post(
        f"/cycles/{key}/adjustments", json={"unit": "U1", "kind": "downgrade", "levels": 1, "reason": "巡视指出问题"}
    )
    assert r.status_code == 201, r.text
    return key, r.json()["adjustment"]


@pytest_asyncio.fixture(scope="module")
async def tie_cycle(client) -> str:
    """Cycle ``bi-tie`` in the allocation stage with U1 and U2 tied at the quota boundary.

    Both units: scores 6 + 4 → W = round2(100 × 10 / 10) = 100.00; three ballots of 90 each
    (3 < trim_min_ballots 5: no trim) → D = 90.00; C = round2(0.7 × 100 + 0.3 × 90) = 70 + 27
    = 97.00; no bonus → F = 97.00. Equal on (F, D, W) = (97.00, 90.00, 100.00), both ≥ 90 and
    not downgraded → both eligible. n = 2 → q = floor(0.5 × 2) = 1 place for two equal units:
    a tie over 1 place, which the committee must resolve before approving.
    """
    key = "bi-tie"
    same = {"1.1.1": "6", "1.1.2": "4"}
    await small_cycle(client, "debrief", key=key, scores={"U1": same, "U2": same})
    for rep in ("R1", "R2", "R3"):
        r = await client.as_(rep).post(f"/cycles/{key}/debrief/{COHORT}/ballots", json={"scores": {"U1": "90", "U2": "90"}})
        assert r.status_code == 200, r.text
    org = client.as_("org")
    for step in ("stages/debrief/close", "stages/adjustments/open", "stages/adjustments/close"):
        r = await org.post(f"/cycles/{key}/{step}")
        assert r.status_code == 200, r.text
    return key


# ================================================================ cycle creation (setup)


def cycle_body(**changes: Any) -> dict:
    body = {"key": f"bad-{uuid.uuid4().hex[:8]}", "year": 2026, "name": "坏输入", "schemes": {COHORT: TINY_SCHEME}}
    body.update(changes)
    return body


async def assert_no_cycle(client, key: str) -> None:
    r = await client.as_("org").get(f"/cycles/{key}")
    assert r.status_code == 404 and r.json()["code"] == "cycle_not_found", r.text


async def test_weights_that_do_not_sum_to_one_are_refused(client, stack):
    # 0.6 + 0.3 = 0.9 ≠ 1 (SPEC §4: the two weights must sum to 1).
    body = cycle_body(policy={"work_weight": "0.6", "debrief_weight": "0.3"})
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "weights_do_not_sum_to_one", "policy.work_weight")
    await assert_no_cycle(client, body["key"])


async def test_a_malformed_json_body_is_refused(client, stack):
    headers = {**client.as_("org").headers, "Content-Type": "application/json"}
    await refused(stack, client.http.post("/cycles", content=b'{"key": "broken", "year": 20', headers=headers), 400, "invalid_json")
    await assert_no_cycle(client, "broken")


@pytest.mark.parametrize("missing", ["key", "schemes"])
async def test_a_missing_required_field_is_named(client, stack, missing):
    body = cycle_body()
    del body[missing]
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "invalid_request", missing)


async def test_an_unknown_body_field_is_named(client, stack):
    body = cycle_body(colour="red")
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "invalid_request", "colour")
    await assert_no_cycle(client, body["key"])


async def test_a_wrongly_typed_field_is_named(client, stack):
    body = cycle_body(year="two thousand")
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "invalid_request", "year")


# ================================================================ units and users


async def test_registering_a_unit_twice_is_refused(client, stack, setup_cycle):
    units = {"units": [{"key": "U1", "name": "重复", "org_type": COHORT}]}
    await refused(stack, client.as_("org").post(f"/cycles/{setup_cycle}/units", json=units), 409, "unit_exists", "units[0].key")


async def _users(client) -> set[str]:
    return {u["username"] for u in (await client.as_("admin").get("/users")).json()}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"role": "king", "password": "long-enough-1"}, "unknown_role", "role"),
        ({"role": "unit", "password": "long-enough-1"}, "unit_required", "unit"),  # a unit user needs a unit
        ({"role": "unit", "unit": "   ", "password": "long-enough-1"}, "invalid_unit", "unit"),
        ({"role": "evaluator", "password": "short"}, "weak_password", "password"),  # < 12 characters
    ],
    ids=["unknown-role", "unit-missing", "unit-blank", "weak-password"],
)
async def test_a_bad_user_is_refused(client, stack, body, code, field):
    name = f"bad-{uuid.uuid4().hex[:6]}"
    await refused(stack, client.as_("admin").put(f"/users/{name}", json=body), 422, code, field)
    assert name not in await _users(client)


async def test_a_user_with_a_bad_username_is_refused(client, stack):
    await refused(
        stack, client.as_("admin").put("/users/bad%20name!", json={"role": "auditor", "password": "long-enough-1"}),
        422, "invalid_username", "username",
    )


@pytest.mark.parametrize("unit", ["U/1", "U" * 65], ids=["slash", "65-chars"])
async def test_a_user_attached_to_an_impossible_unit_key_is_refused(client, stack, unit):
    # Units are registered per cycle, after their users exist (``kaohe simulate`` creates users first),
    # so a not-yet-registered key cannot be refused; a key no cycle could ever register can.
    name = f"bad-{uuid.uuid4().hex[:6]}"
    await refused(stack, client.as_("admin").put(f"/users/{name}", json={"role": "unit", "unit": unit, "password": "long-enough-1"}),
                  422, "invalid_unit", "unit")


async def test_an_over_long_display_name_is_refused(client, stack):
    name = f"bad-{uuid.uuid4().hex[:6]}"
    body = {"role": "auditor", "password": "long-enough-1", "display_name": "名" * 101}
    r = await client.as_("admin").put(f"/users/{name}", json=body)
    assert r.status_code == 422, r.text


# ================================================================ self-review stage


def self_review(client, cycle: str, unit: str = "U1", user: str = "u1", scores: Any = None):
    return client.as_(user).post(f"/cycles/{cycle}/units/{unit}/self-review", json={"scores": scores})


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    # One case for this door (straight to the domain); every bad score is in tests/application/test_refusals.py.
    [({"1.1.1": "6.5", "1.1.2": "3"}, "score_out_of_range", "scores.1.1.1")],  # 6.5 > max 6
    ids=["above-max"],
)
async def test_a_bad_self_review_is_refused_naming_the_point(client, stack, self_review_cycle, scores, code, field):
    # The refusal comes from the unit workflow's update validator (domain.rules.parse_point_scores)
    # and keeps the domain's field.
    await refused(stack, self_review(client, self_review_cycle, scores=scores), 422, code, field)
    unit = (await client.as_("u1").get(f"/cycles/{self_review_cycle}/units/U1")).json()
    assert unit["self_review"] == "pending" and unit["self_scores"] is None


async def test_a_sheet_with_several_bad_scores_answers_every_one_in_the_body(client, stack, self_review_cycle):
    # The first bad point in code/message/field (as a client reading only those expects), and
    # every bad one in ``errors``, each naming its own field.
    body = await refused(stack, self_review(client, self_review_cycle, scores={"1.1.1": "abc", "1.1.2": "-1"}), 422,
                         "not_a_number", "scores.1.1.1")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("not_a_number", "scores.1.1.1"), ("score_out_of_range", "scores.1.1.2")]
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


async def test_a_self_review_for_another_unit_is_refused(client, stack, self_review_cycle):
    await refused(stack, self_review(client, self_review_cycle, unit="U2", user="u1", scores=VALID_SELF_REVIEW), 403, "forbidden")
    draft = client.as_("u1").put(f"/cycles/{self_review_cycle}/units/U2/self-review/draft", json={"scores": VALID_SELF_REVIEW})
    await refused(stack, draft, 403, "forbidden")
    assert (await client.as_("org").get(f"/cycles/{self_review_cycle}/units/U2")).json()["self_review"] == "pending"


async def test_scoring_before_the_scoring_stage_opens_is_refused(client, stack, self_review_cycle):
    r = client.as_("eva").post(f"/cycles/{self_review_cycle}/units/U1/scoring", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
    await refused(stack, r, 409, "stage_not_open", "stage")


async def test_a_ballot_before_the_debrief_opens_is_refused(client, stack, self_review_cycle):
    # No debrief session exists yet: the step has not been opened.
    r = client.as_("R1").post(f"/cycles/{self_review_cycle}/debrief/{COHORT}/ballots", json={"scores": {"U1": "90"}})
    await refused(stack, r, 404, "not_open", "cohort")  # names the session, says to wait for it


async def test_proposing_an_adjustment_before_the_adjustments_stage_is_refused(client, stack, self_review_cycle):
    body = {"unit": "U1", "kind": "bonus", "points": "1", "reason": "获评先进"}
    await refused(stack, client.as_("org").post(f"/cycles/{self_review_cycle}/adjustments", json=body), 409, "stage_not_open", "stage")


async def test_an_unknown_stage_is_refused(client, stack, self_review_cycle):
    await refused(stack, client.as_("org").post(f"/cycles/{self_review_cycle}/stages/tea_break/open"), 404, "unknown_stage", "stage")


async def test_issuing_feedback_before_the_feedback_stage_is_refused(client, stack, self_review_cycle):
    r = client.as_("org").post(f"/cycles/{self_review_cycle}/units/U1/feedback", json={"text": "反馈"})
    await refused(stack, r, 409, "stage_not_open", "stage")


async def test_an_over_long_idempotency_key_is_refused(client, stack, self_review_cycle):
    # An Idempotency-Key has 1–200 characters; 201 is refused before anything runs.
    r = client.as_("u1").post(
        f"/cycles/{self_review_cycle}/units/U1/self-review", json={"scores": VALID_SELF_REVIEW}, headers={"Idempotency-Key": "k" * 201}
    )
    await refused(stack, r, 400, "invalid_idempotency_key", "Idempotency-Key")
    assert (await client.as_("u1").get(f"/cycles/{self_review_cycle}/units/U1")).json()["self_review"] == "pending"


async def test_a_missing_required_field_in_a_workflow_command_is_named(client, stack, self_review_cycle):
    r = client.as_("org").post(f"/cycles/{self_review_cycle}/adjustments", json={"unit": "U1", "kind": "bonus", "points": "1"})
    await refused(stack, r, 422, "invalid_request", "reason")


# ================================================================ adjustments stage


async def test_a_committee_member_attached_to_the_unit_cannot_decide_its_adjustment(client, stack, pending_adjustment):
    key, adj = pending_adjustment
    # a well-formed proposal at a meeting: what refuses it is the member's attachment alone
    r = client.as_("com-u1").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve", **MEETING})
    await refused(stack, r, 403, "attached_to_unit")


async def test_an_organizer_cannot_decide_an_adjustment(client, stack, pending_adjustment):
    key, adj = pending_adjustment
    r = client.as_("org").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve"})
    await refused(stack, r, 403, "forbidden")
    statuses = [a["status"] for a in (await client.as_("aud").get(f"/cycles/{key}/adjustments")).json() if a["id"] == adj]
    assert statuses == ["pending"]


async def test_the_proposer_cannot_decide_their_own_adjustment(client, stack, pending_adjustment):
    # Only organizers propose and only the committee decides; a proposer who later becomes a
    # committee member is the case the product can express: org2 proposes, the admin makes org2
    # a committee member, and org2's decision on that proposal is refused.
    key, _ = pending_adjustment
    await client.user("org2", "organizer")
    r = await client.as_("org2").post(f"/cycles/{key}/adjustments", json={"unit": "U2", "kind": "bonus", "points": "1", "reason": "获评先进"})
    assert r.status_code == 201, r.text
    adj = r.json()["adjustment"]
    r = await client.as_("admin").put("/users/org2", json={"role": "committee"})
    assert r.status_code == 200 and r.json()["role"] == "committee", r.text
    try:
        decide = client.as_("org2").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve", **MEETING})
        await refused(stack, decide, 403, "proposer_cannot_decide")
    finally:
        await client.as_("admin").put("/users/org2", json={"role": "organizer"})


async def test_deciding_an_unknown_adjustment_is_refused(client, stack, pending_adjustment):
    key, _ = pending_adjustment
    r = client.as_("com").post(f"/cycles/{key}/adjustments/{uuid.uuid4()}/decision", json={"decision": "approve", **MEETING})
    await refused(stack, r, 404, "adjustment_not_found", "adjustment")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    # One case for this door (a cycle workflow update); every bad adjustment is in tests/application/test_refusals.py.
    [({"unit": "U1", "kind": "bonus", "points": "0", "reason": "x"}, "invalid_points", "points")],  # must be > 0
    ids=["zero-points"],
)
async def test_a_bad_adjustment_is_refused(client, stack, pending_adjustment, body, code, field):
    key, _ = pending_adjustment
    await refused(stack, client.as_("org").post(f"/cycles/{key}/adjustments", json=body), 422, code, field)


# ================================================================ allocation stage


async def test_the_tie_at_the_quota_boundary_must_be_resolved_before_approval(client, stack, tie_cycle):
    key, com = tie_cycle, client.as_("com")
    alloc = (await com.get(f"/cycles/{key}/allocation")).json()
    cohort = alloc["cohorts"][COHORT]
    assert alloc["approvable"] is False
    assert (cohort["n"], cohort["quota"]) == (2, 1)
    assert cohort["tie"] == {"candidates": ["U1", "U2"], "places": 1, "chosen": None}
    assert {u["unit"]: (u["final_score"], u["debrief_score"], u["work_score"], u["rank"], u["grade"]) for u in cohort["units"]} == {
        "U1": ("97.00", "90.00", "100.00", 1, None),
        "U2": ("97.00", "90.00", "100.00", 1, None),
    }

    # Approving while the tie is open (the other wrong choices: tests/application/test_refusals.py).
    approving = com.post(f"/cycles/{key}/allocation/approve", json={"reason": "同意", **MEETING})
    await refused(stack, approving, 409, "allocation_not_approvable", "allocation")

    # The right count is taken: U1 takes the place — proposed by com at the meeting, in effect
    # once com2 confirms (the default committee_quorum 2).
    before = log_position(stack)
    r = await com.post(f"/cycles/{key}/allocation/ties", json={"cohort": COHORT, "units": ["U1"], "reason": "党委会研究", **MEETING})
    assert r.status_code == 200, r.text
    assert r.json()["effective"] is False
    assert log_position(stack) > before
    assert (await com.get(f"/cycles/{key}/allocation")).json()["cohorts"][COHORT]["tie"]["chosen"] is None
    assert (await confirm(client, key, r.json()))["problems"] == []
    assert (await com.get(f"/cycles/{key}/allocation")).json()["cohorts"][COHORT]["tie"]["chosen"] == ["U1"]

    await approve(client, key)
    units = (await com.get(f"/cycles/{key}/results")).json()["units"]
    # Equal on (F, D, W) → both rank 1; U1 excellent by the committee's choice, U2 good.
    assert {u: (v["final_score"], v["rank"], v["grade"]) for u, v in units.items()} == {
        "U1": ("97.00", 1, "excellent"),
        "U2": ("97.00", 1, "good"),
    }


