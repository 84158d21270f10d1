"""Bad input through the real HTTP API: each case is refused with a 4xx, the product's error
``code`` (and ``field`` where it names one), and nothing is stored — the event log's head
(``log_position``) does not move.

One stack and one cast of users serve the whole module (per store: SQLite and PostgreSQL), and a
few small cycles, each driven once to the stage a group of cases needs, are shared: a refused
request stores nothing, so the cases cannot disturb each other. Cases that change a cycle on
purpose (the tie walk) run on a cycle of their own.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, AsyncIterator, Iterator

import psycopg
import pytest
import pytest_asyncio

from kaohe.runtime import Stack, free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import _PG_REASON, PG_URL, Client, log_position, temporal_address
from tests.helpers import TINY_SCHEME, cast, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"
PAST = "2020-01-01T00:00:00+08:00"
FUTURE = "2099-01-01T00:00:00+08:00"
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
async def scoring_cycle(client) -> str:
    """Cycle ``bi-sc``: self-review submitted and closed, scoring open, no unit scored yet."""
    return await small_cycle(client, "scoring", key="bi-sc")


@pytest_asyncio.fixture(scope="module")
async def debrief_cycle(client) -> str:
    """Cycle ``bi-db``: debrief open; R1 has cast its one sheet."""
    key = await small_cycle(client, "debrief", key="bi-db")
    r = await client.as_("R1").post(f"/cycles/{key}/debrief/{COHORT}/ballots", json={"scores": {"U1": "90", "U2": "80"}})
    assert r.status_code == 200, r.text
    return key


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
async def downgraded_allocation(client) -> str:
    """Cycle ``bi-pen`` in the allocation stage; U1 has an approved one-level downgrade.

    Scores as in ``small_cycle``: U1 F = 94.40, U2 F = 80.90 (worked in test_cycle_api.py).
    n = 2 → q = floor(0.5 × 2) = 1. U1 is downgraded: its base grade is by thresholds alone,
    94.40 ≥ 90 → excellent (no quota place), and one level down → good. U2: 80.90 < 90, not
    eligible; 80.90 ≥ 80 → good. So nobody is excellent and there is no tie.
    """
    key = await small_cycle(client, "adjustments", key="bi-pen")
    r = await client.as_("org").post(
        f"/cycles/{key}/adjustments", json={"unit": "U1", "kind": "downgrade", "levels": 1, "reason": "巡视指出问题"}
    )
    assert r.status_code == 201, r.text
    r = await client.as_("com").post(f"/cycles/{key}/adjustments/{r.json()['adjustment']}/decision", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    assert (await client.as_("org").post(f"/cycles/{key}/stages/adjustments/close")).status_code == 200
    alloc = (await client.as_("com").get(f"/cycles/{key}/allocation")).json()
    grades = {u["unit"]: (u["base_grade"], u["grade"], u["final_score"]) for u in alloc["cohorts"][COHORT]["units"]}
    assert grades == {"U1": ("excellent", "good", "94.40"), "U2": ("good", "good", "80.90")}
    return key


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


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"excellent_share": "1.5"}, "policy.excellent_share"),  # not within 0..1
        ({"excellent_share": "-0.1"}, "policy.excellent_share"),
        ({"thresholds": {"excellent": "80", "good": "80"}}, "policy.thresholds"),  # 80 > 80 is false: not strictly falling
        ({"bonus_cap": "-1"}, "policy.bonus_cap"),  # bonus_cap ≥ 0
        ({"trim_min_ballots": 2}, "policy.trim_min_ballots"),  # trim_min_ballots ≥ 3
        ({"colour": "red"}, "policy.colour"),  # no such policy field
    ],
    ids=["share-above-1", "share-below-0", "thresholds-not-falling", "negative-cap", "trim-below-3", "unknown-field"],
)
async def test_an_invalid_policy_is_refused(client, stack, policy, field):
    body = cycle_body(policy=policy)
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "invalid_policy", field)
    await assert_no_cycle(client, body["key"])


async def test_category_weights_that_do_not_sum_to_one_are_refused(client, stack):
    # 0.5 + 0.4 = 0.9 ≠ 1
    body = cycle_body(categories={"leaders": "0.5", "staff": "0.4"})
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "weights_do_not_sum_to_one", "categories")


def _scheme(mutate) -> dict:
    tree = copy.deepcopy(TINY_SCHEME)
    mutate(tree)
    return tree


def _set(path: list, value: Any):
    def mutate(tree: dict) -> None:
        node = tree
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


L2 = ["indicators", 0, "children", 0]  # indicator 1.1
PTS = L2 + ["points"]
F = f"schemes.{COHORT}"


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        # 1.1.1 max 6 → 5: points of 1.1 sum to 5 + 4 = 9 ≠ its max 10
        (_set(PTS + [0, "max"], 5), "maxima_mismatch", f"{F}.indicators[0].children[0].max"),
        # 1.1 max 10 → 9 and 1.1.1 6 → 5 (points 5 + 4 = 9 fit 1.1), but level-1 "1" has max 10 ≠ 9
        (lambda t: (_set(L2 + ["max"], 9)(t), _set(PTS + [0, "max"], 5)(t)), "maxima_mismatch", f"{F}.indicators[0].max"),
        # total 10 → 12: level-1 maxima sum to 10 ≠ 12
        (_set(["total"], 12), "maxima_mismatch", f"{F}.total"),
        # the second point reuses code 1.1.1
        (_set(PTS + [1, "code"], "1.1.1"), "duplicate_code", f"{F}.indicators[0].children[0].points[1].code"),
        # a point reuses the level-1 indicator's code "1"
        (_set(PTS + [1, "code"], "1"), "duplicate_code", f"{F}.indicators[0].children[0].points[1].code"),
        # every max must be positive
        (_set(PTS + [1, "max"], 0), "invalid_scheme", f"{F}.indicators[0].children[0].points[1].max"),
    ],
    ids=["points-vs-level2", "level2-vs-level1", "level1-vs-total", "duplicate-point", "point-reuses-indicator-code", "zero-max"],
)
async def test_an_invalid_scheme_is_refused(client, stack, mutate, code, field):
    body = cycle_body(schemes={COHORT: _scheme(mutate)})
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, code, field)
    await assert_no_cycle(client, body["key"])


async def test_an_unknown_org_type_is_refused(client, stack):
    body = cycle_body(schemes={"party_group": "default"})
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, "unknown_org_type", "schemes.party_group")


@pytest.mark.parametrize(
    ("deadline", "code"),
    [(PAST, "deadline_in_past"), ("2099-01-01T00:00:00", "invalid_deadline"), ("next friday", "invalid_deadline")],
    ids=["in-the-past", "no-time-zone", "not-a-time"],
)
async def test_a_bad_deadline_at_creation_is_refused(client, stack, deadline, code):
    body = cycle_body(deadlines={"self_review": deadline})
    await refused(stack, client.as_("org").post("/cycles", json=body), 422, code, "deadlines.self_review")
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


async def test_a_unit_of_an_org_type_without_scheme_is_refused(client, stack, setup_cycle):
    # The cycle has a scheme for grassroots_branch only.
    units = {"units": [{"key": "U9", "name": "机关", "org_type": "organ_committee"}]}
    await refused(
        stack, client.as_("org").post(f"/cycles/{setup_cycle}/units", json=units), 422, "no_scheme_for_org_type", "units[0].org_type"
    )


async def test_a_unit_with_an_unknown_org_type_is_refused(client, stack, setup_cycle):
    units = {"units": [{"key": "U9", "name": "?", "org_type": "party_group"}]}
    await refused(stack, client.as_("org").post(f"/cycles/{setup_cycle}/units", json=units), 422, "unknown_org_type", "units[0].org_type")


async def test_registering_units_after_opening_is_refused(client, stack, self_review_cycle):
    units = {"units": [{"key": "U9", "name": "迟到", "org_type": COHORT}]}
    await refused(
        stack, client.as_("org").post(f"/cycles/{self_review_cycle}/units", json=units), 409, "cycle_not_in_setup", "cycle"
    )


async def _users(client) -> set[str]:
    return {u["username"] for u in (await client.as_("admin").get("/users")).json()}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"role": "king", "password": "long-enough-1"}, "unknown_role", "role"),
        ({"role": "unit", "password": "long-enough-1"}, "unit_required", "unit"),  # a unit user needs a unit
        ({"role": "unit", "unit": "   ", "password": "long-enough-1"}, "invalid_unit", "unit"),
        ({"role": "evaluator", "password": "short"}, "weak_password", "password"),  # < 8 characters
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
    [
        ({"1.1.1": "6.5", "1.1.2": "3"}, "score_out_of_range", "scores.1.1.1"),  # 6.5 > max 6
        ({"1.1.1": 7, "1.1.2": 3}, "score_out_of_range", "scores.1.1.1"),  # JSON numbers too
        ({"1.1.1": "5", "1.1.2": "-0.01"}, "score_out_of_range", "scores.1.1.2"),  # below 0
        ({"1.1.1": "5", "1.1.2": "3", "9.9.9": "1"}, "unknown_point", "scores.9.9.9"),
        ({"1.1.1": "5"}, "missing_points", "scores.1.1.2"),  # a self-review covers every point
        ({"1.1.1": None, "1.1.2": "3"}, "score_required", "scores.1.1.1"),  # null is for evaluators only
        ({"1.1.1": "five", "1.1.2": "3"}, "not_a_number", "scores.1.1.1"),
        ({"1.1.1": True, "1.1.2": "3"}, "not_a_number", "scores.1.1.1"),
    ],
    ids=["above-max", "above-max-number", "below-zero", "unknown-point", "missing-point", "null", "text", "boolean"],
)
async def test_a_bad_self_review_is_refused_naming_the_point(client, stack, self_review_cycle, scores, code, field):
    # The refusal comes from the unit workflow's update validator (domain.rules.parse_point_scores)
    # and keeps the domain's field.
    await refused(stack, self_review(client, self_review_cycle, scores=scores), 422, code, field)
    unit = (await client.as_("u1").get(f"/cycles/{self_review_cycle}/units/U1")).json()
    assert unit["self_review"] == "pending" and unit["self_scores"] is None


async def test_a_bad_self_review_draft_is_refused(client, stack, self_review_cycle):
    r = client.as_("u1").put(f"/cycles/{self_review_cycle}/units/U1/self-review/draft", json={"scores": {"1.1.2": "4.5"}})
    await refused(stack, r, 422, "score_out_of_range", "scores.1.1.2")  # 4.5 > max 4


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


async def test_opening_adjustments_while_earlier_stages_run_is_refused(client, stack, self_review_cycle):
    r = client.as_("org").post(f"/cycles/{self_review_cycle}/stages/adjustments/open")
    await refused(stack, r, 409, "earlier_stage_open", "stage")


async def test_closing_a_stage_that_is_not_open_is_refused(client, stack, self_review_cycle):
    await refused(stack, client.as_("org").post(f"/cycles/{self_review_cycle}/stages/scoring/close"), 409, "stage_not_open", "stage")


async def test_an_unknown_stage_is_refused(client, stack, self_review_cycle):
    await refused(stack, client.as_("org").post(f"/cycles/{self_review_cycle}/stages/tea_break/open"), 404, "unknown_stage", "stage")


async def test_approving_the_allocation_before_its_stage_is_refused(client, stack, self_review_cycle):
    r = client.as_("com").post(f"/cycles/{self_review_cycle}/allocation/approve", json={"reason": "同意"})
    await refused(stack, r, 409, "stage_not_open", "stage")


async def test_issuing_feedback_before_the_feedback_stage_is_refused(client, stack, self_review_cycle):
    r = client.as_("org").post(f"/cycles/{self_review_cycle}/units/U1/feedback", json={"text": "反馈"})
    await refused(stack, r, 409, "stage_not_open", "stage")


async def test_acknowledging_feedback_never_issued_is_refused(client, stack, self_review_cycle):
    r = client.as_("u1").post(f"/cycles/{self_review_cycle}/units/U1/feedback/acknowledge")
    await refused(stack, r, 409, "feedback_not_issued", "unit")


@pytest.mark.parametrize(
    "deadline, code", [(PAST, "deadline_in_past"), ("2099-01-01T00:00:00", "invalid_deadline")], ids=["in-the-past", "no-time-zone"]
)
async def test_setting_a_bad_deadline_is_refused(client, stack, self_review_cycle, deadline, code):
    # The cycle workflow's validator applies the same rule as cycle creation (domain.rules.parse_deadline).
    r = client.as_("org").put(f"/cycles/{self_review_cycle}/deadlines/self_review", json={"deadline": deadline})
    await refused(stack, r, 422, code, "deadline")
    assert (await client.as_("org").get(f"/cycles/{self_review_cycle}")).json()["deadlines"] == {}


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


# ================================================================ scoring stage


def scoring(client, cycle: str, body: dict, unit: str = "U1"):
    return client.as_("eva").post(f"/cycles/{cycle}/units/{unit}/scoring", json=body)


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    [
        ({"1.1.1": "6.01", "1.1.2": "3"}, "score_out_of_range", "scores.1.1.1"),  # 6.01 > max 6
        ({"1.1.1": "5", "1.1.2": "-1"}, "score_out_of_range", "scores.1.1.2"),  # below 0
        ({"1.1.1": "5", "1.1.2": "3", "1.1.3": "1"}, "unknown_point", "scores.1.1.3"),
        ({"1.1.1": "5"}, "missing_points", "scores.1.1.2"),  # a unit's scoring covers every point
        ({"1.1.2": "3"}, "missing_points", "scores.1.1.1"),
    ],
    ids=["above-max", "below-zero", "unknown-point", "misses-1.1.2", "misses-1.1.1"],
)
async def test_bad_scoring_is_refused_naming_the_point(client, stack, scoring_cycle, scores, code, field):
    await refused(stack, scoring(client, scoring_cycle, {"scores": scores}), 422, code, field)
    assert (await client.as_("eva").get(f"/cycles/{scoring_cycle}/units/U1")).json()["scored"] is False


async def test_a_not_applicable_point_without_reason_is_refused(client, stack, scoring_cycle):
    # Passes the workflow validator (null is allowed when scoring) and is refused by the use case.
    body = {"scores": {"1.1.1": None, "1.1.2": "3"}}
    await refused(stack, scoring(client, scoring_cycle, body), 422, "na_reason_required", "na_reasons.1.1.1")


async def test_a_comment_on_an_unknown_point_is_refused(client, stack, scoring_cycle):
    body = {"scores": {"1.1.1": "5", "1.1.2": "3"}, "comments": {"7.7.7": "好"}}
    await refused(stack, scoring(client, scoring_cycle, body), 422, "unknown_point", "comments.7.7.7")


async def test_a_self_review_after_its_stage_closed_is_refused(client, stack, scoring_cycle):
    await refused(stack, self_review(client, scoring_cycle, scores=VALID_SELF_REVIEW), 409, "stage_not_open", "stage")


# ================================================================ debrief stage


def ballot(client, cycle: str, rep: str, scores: Any, **extra: Any):
    return client.as_(rep).post(f"/cycles/{cycle}/debrief/{COHORT}/ballots", json={"scores": scores, **extra})


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    [
        ({"U1": "100.01", "U2": "80"}, "score_out_of_range", "scores.U1"),  # above 100
        ({"U1": "90", "U2": -1}, "score_out_of_range", "scores.U2"),  # below 0
        ({"U1": "90", "U9": "80"}, "unknown_unit", "scores.U9"),  # not a secretary of this session
        ({}, "invalid_scores", "scores"),  # a sheet scores at least one secretary
        ({"U1": "ninety"}, "not_a_number", "scores.U1"),
    ],
    ids=["above-100", "below-0", "unknown-unit", "empty", "text"],
)
async def test_a_bad_ballot_is_refused(client, stack, debrief_cycle, scores, code, field):
    await refused(stack, ballot(client, debrief_cycle, "R2", scores), 422, code, field)


async def test_a_ballot_in_an_unknown_category_is_refused(client, stack, debrief_cycle):
    # The cycle has the one default category "representatives".
    r = ballot(client, debrief_cycle, "R2", {"U1": "90"}, category="leaders")
    await refused(stack, r, 422, "unknown_category", "category")


async def test_a_second_ballot_sheet_by_the_same_representative_is_refused(client, stack, debrief_cycle):
    # R1 cast its sheet when the fixture opened the session; one sheet per representative per session.
    await refused(stack, ballot(client, debrief_cycle, "R1", {"U1": "70", "U2": "70"}), 409, "ballot_already_cast", "representative")
    progress = (await client.as_("org").get(f"/cycles/{debrief_cycle}")).json()["progress"]["debrief"]
    assert progress == {COHORT: {"open": True, "ballots": 1}}


# ================================================================ adjustments stage


async def test_a_committee_member_attached_to_the_unit_cannot_decide_its_adjustment(client, stack, pending_adjustment):
    key, adj = pending_adjustment
    r = client.as_("com-u1").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve"})
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
        decide = client.as_("org2").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve"})
        await refused(stack, decide, 403, "proposer_cannot_decide")
    finally:
        await client.as_("admin").put("/users/org2", json={"role": "organizer"})


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"decision": "maybe"}, "invalid_decision", "decision"),
        ({"decision": "reject", "reason": "  "}, "reason_required", "reason"),  # a rejection needs a reason
    ],
    ids=["unknown-decision", "reject-without-reason"],
)
async def test_a_bad_decision_is_refused(client, stack, pending_adjustment, body, code, field):
    key, adj = pending_adjustment
    await refused(stack, client.as_("com").post(f"/cycles/{key}/adjustments/{adj}/decision", json=body), 422, code, field)


async def test_deciding_an_unknown_adjustment_is_refused(client, stack, pending_adjustment):
    key, _ = pending_adjustment
    r = client.as_("com").post(f"/cycles/{key}/adjustments/{uuid.uuid4()}/decision", json={"decision": "approve"})
    await refused(stack, r, 404, "adjustment_not_found", "adjustment")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"unit": "U1", "kind": "bonus", "points": "0", "reason": "x"}, "invalid_points", "points"),  # must be > 0
        ({"unit": "U1", "kind": "bonus", "points": "-2", "reason": "x"}, "invalid_points", "points"),
        ({"unit": "U1", "kind": "bonus", "reason": "x"}, "not_a_number", "points"),
        ({"unit": "U1", "kind": "downgrade", "levels": 4, "reason": "x"}, "invalid_levels", "levels"),  # 1..3
        ({"unit": "U1", "kind": "downgrade", "levels": 0, "reason": "x"}, "invalid_levels", "levels"),
        ({"unit": "U1", "kind": "veto", "reason": "   "}, "reason_required", "reason"),
        ({"unit": "U1", "kind": "medal", "reason": "x"}, "unknown_kind", "kind"),
        ({"unit": "U9", "kind": "bonus", "points": "1", "reason": "x"}, "unknown_unit", "unit"),
    ],
    ids=["zero-points", "negative-points", "no-points", "levels-4", "levels-0", "blank-reason", "unknown-kind", "unknown-unit"],
)
async def test_a_bad_adjustment_is_refused(client, stack, pending_adjustment, body, code, field):
    key, _ = pending_adjustment
    await refused(stack, client.as_("org").post(f"/cycles/{key}/adjustments", json=body), 422, code, field)


async def test_closing_adjustments_with_one_undecided_is_refused(client, stack, pending_adjustment):
    key, _ = pending_adjustment
    await refused(stack, client.as_("org").post(f"/cycles/{key}/stages/adjustments/close"), 409, "adjustments_pending", "stage")


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

    # 1. Approving while the tie is open.
    await refused(stack, com.post(f"/cycles/{key}/allocation/approve", json={"reason": "同意"}), 409, "allocation_not_approvable", "allocation")
    # 2. The wrong number of units for the one remaining place.
    for units in (["U1", "U2"], []):
        tie = {"cohort": COHORT, "units": units, "reason": "党委会研究"}
        await refused(stack, com.post(f"/cycles/{key}/allocation/ties", json=tie), 422, "wrong_tie_count", "ties")
    # 3. A unit that is not among the tied ones.
    tie = {"cohort": COHORT, "units": ["U3"], "reason": "党委会研究"}
    await refused(stack, com.post(f"/cycles/{key}/allocation/ties", json=tie), 422, "not_in_tie", "ties")
    # 4. A cohort that does not exist.
    tie = {"cohort": "organ_committee", "units": ["U1"], "reason": "党委会研究"}
    await refused(stack, com.post(f"/cycles/{key}/allocation/ties", json=tie), 422, "unknown_cohort", "ties")

    # The right count is taken: U1 takes the place.
    before = log_position(stack)
    r = await com.post(f"/cycles/{key}/allocation/ties", json={"cohort": COHORT, "units": ["U1"], "reason": "党委会研究"})
    assert r.status_code == 200, r.text
    assert r.json()["problems"] == []
    assert log_position(stack) > before

    # 5. Override beyond the quota: U1 holds the one place (q = 1); U2 (F 97.00 ≥ 90, beyond
    #    the quota → good) cannot be made excellent as well: 2 excellent > q = 1.
    ov = {"unit": "U2", "grade": "excellent", "reason": "党委会研究"}
    await refused(stack, com.post(f"/cycles/{key}/allocation/overrides", json=ov), 409, "override_beyond_quota", "grade")

    r = await com.post(f"/cycles/{key}/allocation/approve", json={"reason": "同意"})
    assert r.status_code == 200, r.text
    units = (await com.get(f"/cycles/{key}/results")).json()["units"]
    # Equal on (F, D, W) → both rank 1; U1 excellent by the committee's choice, U2 good.
    assert {u: (v["final_score"], v["rank"], v["grade"]) for u, v in units.items()} == {
        "U1": ("97.00", 1, "excellent"),
        "U2": ("97.00", 1, "good"),
    }


async def test_an_override_to_excellent_for_a_downgraded_unit_is_refused(client, stack, downgraded_allocation):
    # U1 has an approved downgrade (its grade is good); nobody is excellent, so the quota (1)
    # is not what stops it: a downgraded unit is never excellent (SPEC §5.7).
    ov = {"unit": "U1", "grade": "excellent", "reason": "党委会研究"}
    r = client.as_("com").post(f"/cycles/{downgraded_allocation}/allocation/overrides", json=ov)
    await refused(stack, r, 409, "override_excellent_penalised", "grade")


async def test_resolving_a_tie_where_there_is_none_is_refused(client, stack, downgraded_allocation):
    tie = {"cohort": COHORT, "units": ["U1"], "reason": "党委会研究"}
    r = client.as_("com").post(f"/cycles/{downgraded_allocation}/allocation/ties", json=tie)
    await refused(stack, r, 409, "no_tie_to_resolve", "ties")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"unit": "U2", "grade": "outstanding", "reason": "x"}, "unknown_grade", "grade"),
        ({"unit": "U2", "grade": "average", "reason": " "}, "reason_required", "reason"),
        ({"unit": "U9", "grade": "average", "reason": "x"}, "unknown_unit", "unit"),
    ],
    ids=["unknown-grade", "blank-reason", "unknown-unit"],
)
async def test_a_bad_override_is_refused(client, stack, downgraded_allocation, body, code, field):
    r = client.as_("com").post(f"/cycles/{downgraded_allocation}/allocation/overrides", json=body)
    await refused(stack, r, 422, code, field)


async def test_rejecting_the_allocation_without_reason_is_refused(client, stack, downgraded_allocation):
    r = client.as_("com").post(f"/cycles/{downgraded_allocation}/allocation/reject", json={"reason": ""})
    await refused(stack, r, 422, "reason_required", "reason")


async def test_a_ballot_after_the_debrief_closed_is_refused(client, stack, downgraded_allocation):
    # The sheet goes straight to the domain (not to the finished session workflow), which names
    # the refusal: the session is closed.
    r = ballot(client, downgraded_allocation, "R1", {"U1": "90"})
    await refused(stack, r, 409, "session_closed", "session")


# ================================================================ input the read models cannot hold


@pytest_asyncio.fixture
async def isolated(backend, tmp_path, temporal_env) -> AsyncIterator[Client]:
    """A stack of its own, for a case that may leave the read models stuck."""
    name = None
    url = None
    if backend == "postgres":
        if _PG_REASON:
            pytest.skip(_PG_REASON)
        name = _create_pg_database()
        url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    running = await _start(tmp_path, url, temporal_env)
    c = Client(running)
    try:
        await c.user("org", "organizer")
        yield c
    finally:
        await c.close()
        await running.stop()
        if name:
            _drop_pg_database(name)


@pytest.mark.parametrize("what", ["cycle", "unit"])
async def test_an_over_long_name_is_refused(isolated, what):
    # 201 characters > the 200 the read model holds; the product names no code for this yet, so
    # the test asks only for a 422 naming the field, and that nothing was stored.
    stack, org = isolated.stack, isolated.as_("org")
    if what == "cycle":
        body = cycle_body(name="名" * 201)
        request, field = org.post("/cycles", json=body), "name"
    else:
        body = cycle_body()
        assert (await org.post("/cycles", json=body)).status_code == 201
        units = {"units": [{"key": "U1", "name": "名" * 201, "org_type": COHORT}]}
        request, field = org.post(f"/cycles/{body['key']}/units", json=units), "units[0].name"
    before = log_position(stack)
    r = await request
    assert log_position(stack) == before, f"the over-long {what} name was stored as an event"
    assert r.status_code == 422 and r.json().get("field") == field, r.text
