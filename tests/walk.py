"""The middle of the test pyramid: the application (``Assessments``) on the in-memory POPO event
store, driven by its use cases alone — no Temporal, no HTTP.

``small_cycle`` walks the same small cycle as ``tests.helpers.small_cycle`` (units U1, U2 of
one cohort on ``TINY_SCHEME``; the same self-reviews, scorings and ballots) to any stage by
calling the use cases, so a test starts where it needs to in milliseconds. ``refused`` checks a
refusal the way the HTTP tests do: its kind, code, field and message, and that the log did not
move.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest

from domain.application import Assessments
from domain.errors import DomainError
from domain.rules import Actor
from tests.helpers import TINY_SCHEME

COHORT = "grassroots_branch"
FUTURE = "2099-01-01T00:00:00+08:00"
PAST = "2020-01-01T00:00:00+08:00"
NO_FIELD = object()  # the refusal names no field

ORG = Actor("org", "organizer")
EVA = Actor("eva", "evaluator")
COM = Actor("com", "committee")
COM2 = Actor("com2", "committee")
COM_U1 = Actor("com-u1", "committee", "U1")  # a committee member attached to unit U1
AUD = Actor("aud", "auditor")
ADMIN = Actor("admin", "admin")
U1 = Actor("u1", "unit", "U1")
U2 = Actor("u2", "unit", "U2")
R1, R2, R3 = (Actor(r, "representative") for r in ("R1", "R2", "R3"))
ROLES_ACTORS = {
    "organizer": ORG, "evaluator": EVA, "unit": U1, "representative": R1,
    "committee": COM, "auditor": AUD, "admin": ADMIN,
}

SELF_REVIEW = {"1.1.1": "5", "1.1.2": "3"}  # TINY_SCHEME: 1.1.1 max 6, 1.1.2 max 4
SCORES = {"U1": {"1.1.1": "6", "1.1.2": "3.5"}, "U2": {"1.1.1": "5", "1.1.2": "3"}}
BALLOTS = {"R1": {"U1": "95", "U2": "85"}, "R2": {"U1": "93", "U2": "83"}, "R3": {"U1": "91", "U2": "81"}}
STAGES = ["setup", "self_review", "scoring", "debrief", "adjustments", "allocation", "published"]

_ids = itertools.count(1)


def cid(what: str = "cmd") -> str:
    """A fresh idempotency key."""
    return f"test/{what}/{next(_ids)}"


def new_app() -> Assessments:
    """The application on the POPO recorder, with the aggregate cache production runs with
    (``kaohe.settings``: 1000 aggregates, fast-forwarded) so a refused command that touched a
    cached aggregate would show."""
    return Assessments(env={
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    })


def head(app: Assessments) -> int:
    return app.recorder.max_notification_id() or 0


def events(app: Assessments, after: int = 0) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=after + 1, limit=100_000)]


def names(app: Assessments, after: int = 0) -> list[str]:
    return [type(e).__qualname__ for e in events(app, after)]


def unit_actor(unit: str) -> Actor:
    return {"U1": U1, "U2": U2}.get(unit) or Actor(f"user-{unit}", "unit", unit)


def refused(app: Assessments, call: Callable[[], Any], kind: type[DomainError], code: str, field: Any = NO_FIELD) -> DomainError:
    """``call`` is refused with ``kind``/``code`` (and ``field``, or none) and stores nothing."""
    before = head(app)
    with pytest.raises(DomainError) as info:
        call()
    err = info.value
    assert isinstance(err, kind), f"{type(err).__name__} {err.code}: {err.message}"
    assert err.code == code, f"{err.code}: {err.message}"
    assert isinstance(err.message, str) and err.message
    if field is NO_FIELD:
        assert err.field is None, err.field
    else:
        assert err.field == field, f"{err.code}: field {err.field!r}"
    assert head(app) == before, f"the refused command stored events: {names(app, before)}"
    return err


def create(app: Assessments, key: str = "c1", schemes: dict | None = None, policy: Any = None, categories: Any = None,
           units: dict[str, str] | None = None) -> str:
    """Create cycle ``key`` and register ``units`` (key → cohort; default U1, U2)."""
    app.create_cycle(key, 2026, "测试周期", policy, schemes or {COHORT: TINY_SCHEME}, categories, None, ORG, cid("create"))
    units = units or {"U1": COHORT, "U2": COHORT}
    app.register_units(key, [{"key": u, "name": f"{u} 支部", "org_type": c} for u, c in units.items()], ORG, cid("units"))
    return key


def small_cycle(app: Assessments, until: str, key: str = "c1", scores: dict | None = None, ballots: dict | None = None,
                policy: Any = None) -> str:
    """Cycle ``key`` (U1, U2) driven until ``until`` is open (or ``published``), as
    ``tests.helpers.small_cycle`` does over HTTP."""
    assert until in STAGES, until
    create(app, key, policy=policy)
    if until == "setup":
        return key
    app.open_cycle(key, ORG, cid("open"))
    if until == "self_review":
        return key
    for unit in ("U1", "U2"):
        app.submit_self_review(key, unit, SELF_REVIEW, None, unit_actor(unit), cid("self"))
    app.open_stage(key, "scoring", ORG, cid("stage"))
    app.close_stage(key, "self_review", ORG, cid("stage"))
    if until == "scoring":
        return key
    for unit, s in (scores or SCORES).items():
        app.submit_scoring(key, unit, s, None, None, EVA, cid("score"))
    app.close_stage(key, "scoring", ORG, cid("stage"))
    app.open_stage(key, "debrief", ORG, cid("stage"))
    set_roster(app, key, sorted(set(BALLOTS) | set(ballots or ())))
    if until == "debrief":
        return key
    for rep, sheet in (ballots or BALLOTS).items():
        app.cast_ballot(key, COHORT, rep, None, sheet, Actor(rep, "representative"), cid("ballot"))
    app.close_stage(key, "debrief", ORG, cid("stage"))
    app.open_stage(key, "adjustments", ORG, cid("stage"))
    if until == "adjustments":
        return key
    app.close_stage(key, "adjustments", ORG, cid("stage"))
    if until == "allocation":
        return key
    approve(app, key)
    return key


#: The committee meeting the walk's decisions are taken at.
MEETING = {"meeting_date": "2026-03-20", "minute_number": "党委会〔2026〕3号"}


def confirmed(app: Assessments, key: str, proposed: Any, *confirmers: Actor) -> Any:
    """Have ``confirmers`` (default: COM2, the second member the default quorum 2 needs) confirm
    the proposal ``proposed`` answered with; return the last answer."""
    out = proposed
    for member in confirmers or (COM2,):
        out = app.confirm_decision(key, proposed.data["proposal"], member, cid("confirm"))
    return out


def approve(app: Assessments, key: str, reason: str = "同意") -> Any:
    """The allocation approved by the committee: COM proposes at ``MEETING``, COM2 confirms."""
    return confirmed(app, key, app.approve_allocation(key, reason, COM, cid("approve"), **MEETING))


def decide(app: Assessments, key: str, adjustment: str, decision: str = "approve", reason: str = "属实") -> Any:
    """An adjustment decided by the committee: COM proposes at ``MEETING``, COM2 confirms."""
    return confirmed(app, key, app.decide_adjustment(key, adjustment, decision, reason, COM, cid("decide"), **MEETING))


def set_roster(app: Assessments, key: str, reps: Any, cohort: str = COHORT) -> Any:
    """Register the session's roster: ``reps`` is a list of representatives (the cycle's one
    category) or a mapping representative → category."""
    entries = [{"representative": r, "category": c} for r, c in reps.items()] if isinstance(reps, dict) \
        else [{"representative": r} for r in reps]
    return app.set_rosters(key, {cohort: entries}, ORG, cid("roster"))


def propose(app: Assessments, key: str, unit: str, kind: str, actor: Actor = ORG, **kw: Any) -> str:
    out = app.propose_adjustment(key, unit, kind, kw.get("points"), kw.get("levels"), kw.get("reason", "理由"),
                                 kw.get("evidence", ""), actor, cid("propose"))
    return out.data["adjustment"]
