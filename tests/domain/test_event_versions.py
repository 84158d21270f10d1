"""Every event's shape is versioned, old shapes decode, and every topic ever stored resolves.

The log lives for years and the code changes under it (ARCHITECTURE, "Events"): each event class
declares its ``class_version``; each change of shape has an upcaster, tested here on a state as
the old code stored it (taken from the committed log ``tests/data/eventlog/v1`` where the event
occurs there); and every ``domain.model:`` topic the log was written with resolves to today's
class of that name, although the aggregates have moved to ``domain.aggregates``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.aggregates import Account, Adjustment, BallotSheet, Cycle, DebriefRoster, DebriefSession, RectificationItem, UnitAssessment
from domain.aggregates.topics import EVENTS as OLD_EVENTS, old_topics
from domain.application import Assessments
from domain.rules import Actor, Role
from domain.stages import Stage

AGGREGATES = (Cycle, UnitAssessment, DebriefSession, DebriefRoster, BallotSheet, Adjustment, RectificationItem, Account)
#: The aggregates that existed while the log was written under ``domain.model`` (``DebriefRoster`` is newer).
OLD_AGGREGATES = tuple(OLD_EVENTS)
BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
LOG = Path(__file__).resolve().parents[1] / "data" / "eventlog" / "v1" / "events.jsonl"
ROWS = [json.loads(line) for line in LOG.read_text("utf-8").splitlines()]
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}  # whatever the environment says

#: Each event's fields at its current ``class_version``. Changing an event's fields means a new
#: version (and an upcaster, tested below), then a new line here.
SHAPES: dict[str, tuple[int, tuple[str, ...]]] = {
    "Cycle.CycleCreated": (1, ("key", "year", "name", "policy", "schemes", "categories", "deadlines", "actor", "role", "command_id")),
    "Cycle.UnitRegistered": (1, ("unit", "name", "org_type", "actor", "role", "command_id")),
    "Cycle.CycleOpened": (1, ("actor", "role", "command_id")),
    "Cycle.StageOpened": (1, ("stage", "actor", "role", "command_id")),
    "Cycle.StageClosed": (1, ("stage", "actor", "role", "command_id", "reason")),
    "Cycle.DeadlineSet": (1, ("stage", "deadline", "previous", "actor", "role", "command_id")),
    "Cycle.StageDeadlineMissed": (1, ("stage", "deadline", "actor", "role", "command_id")),
    "Cycle.AdjustmentFiled": (1, ("adjustment", "unit", "actor", "role", "command_id")),
    "Cycle.EvaluatorsAssigned": (1, ("unit", "evaluators", "previous", "actor", "role", "command_id")),
    "Cycle.RectificationFiled": (1, ("item", "unit", "actor", "role", "command_id")),
    "Cycle.DecisionProposed": (
        1, ("proposal", "subject", "details", "concerns", "reason", "meeting_date", "minute_number", "actor", "role", "command_id"),
    ),
    "Cycle.DecisionConfirmed": (1, ("proposal", "actor", "role", "command_id")),
    "Cycle.DecisionObjected": (1, ("proposal", "reason", "actor", "role", "command_id")),
    "Cycle.TieResolved": (1, ("cohort", "units", "reason", "actor", "role", "command_id")),
    "Cycle.GradeOverridden": (1, ("unit", "grade", "previous", "reason", "actor", "role", "command_id")),
    "Cycle.AllocationRejected": (1, ("reason", "actor", "role", "command_id")),
    "Cycle.AllocationApproved": (1, ("reason", "actor", "role", "command_id")),
    "Cycle.ResultsPublished": (1, ("results", "actor", "role", "command_id")),
    "Cycle.ReportSuggestionsSet": (1, ("text", "previous", "actor", "role", "command_id")),
    "Cycle.ResultsUsePolicySet": (1, ("policy", "previous", "actor", "role", "command_id")),
    "Cycle.BusinessGradesImported": (1, ("grades", "file_sha256", "actor", "role", "command_id")),
    "Cycle.CycleClosed": (1, ("reason", "actor", "role", "command_id")),
    "UnitAssessment.UnitAssessmentStarted": (2, ("cycle", "unit", "name", "cohort", "actor", "role", "command_id")),
    "UnitAssessment.SelfReviewDraftSaved": (1, ("scores", "evidence", "actor", "role", "command_id")),
    "UnitAssessment.SelfReviewSubmitted": (1, ("scores", "evidence", "actor", "role", "command_id")),
    "UnitAssessment.SelfReviewNotSubmitted": (1, ("reason", "actor", "role", "command_id")),
    "UnitAssessment.ScoringSubmitted": (1, ("scores", "na_reasons", "comments", "actor", "role", "command_id")),
    "UnitAssessment.FeedbackDrafted": (1, ("draft", "actor", "role", "command_id")),
    "UnitAssessment.FeedbackIssued": (1, ("text", "actor", "role", "command_id")),
    "UnitAssessment.FeedbackAcknowledged": (1, ("actor", "role", "command_id")),
    "UnitAssessment.UnitReminded": (1, ("stage", "note", "actor", "role", "command_id")),
    "DebriefSession.DebriefSessionOpened": (
        2, ("cycle", "cohort", "secretaries", "categories", "actor", "role", "command_id", "opened_after"),
    ),
    "DebriefSession.BallotCast": (1, ("representative", "category", "scores", "actor", "role", "command_id")),
    "DebriefSession.BallotBoxClosed": (1, ("actor", "role", "command_id")),
    "DebriefSession.DebriefSessionClosed": (3, ("actor", "role", "command_id", "sheets", "rostered", "reason")),
    "DebriefRoster.RosterRegistered": (1, ("cycle", "cohort", "entries", "actor", "role", "command_id")),
    "DebriefRoster.RosterChanged": (1, ("entries", "actor", "role", "command_id")),
    "BallotSheet.BallotSheetCast": (1, ("cycle", "cohort", "representative", "category", "scores", "actor", "role", "command_id")),
    "BallotSheet.BallotSheetVoided": (1, ("reason", "actor", "role", "command_id")),
    "Adjustment.AdjustmentProposed": (
        1, ("cycle", "unit", "kind", "points", "levels", "reason", "evidence", "actor", "role", "command_id"),
    ),
    "Adjustment.AdjustmentApproved": (1, ("reason", "actor", "role", "command_id")),
    "Adjustment.AdjustmentRejected": (1, ("reason", "actor", "role", "command_id")),
    "Adjustment.DecisionProposed": (1, ("proposal", "decision", "reason", "meeting_date", "minute_number", "actor", "role", "command_id")),
    "Adjustment.DecisionConfirmed": (1, ("proposal", "actor", "role", "command_id")),
    "Adjustment.DecisionObjected": (1, ("proposal", "reason", "actor", "role", "command_id")),
    "RectificationItem.RectificationItemCreated": (
        1, ("cycle", "unit", "point", "description", "deadline", "source", "index", "actor", "role", "command_id"),
    ),
    "RectificationItem.RectificationProgressReported": (1, ("text", "attachments", "actor", "role", "command_id")),
    "RectificationItem.RectificationSubmitted": (1, ("text", "attachments", "actor", "role", "command_id")),
    "RectificationItem.RectificationSentBack": (1, ("reason", "actor", "role", "command_id")),
    "RectificationItem.RectificationClosed": (1, ("reason", "actor", "role", "command_id")),
    "RectificationItem.RectificationReminded": (1, ("days_left", "actor", "role", "command_id")),
    "RectificationItem.RectificationOverdue": (1, ("deadline", "actor", "role", "command_id")),
    "RectificationItem.RectificationCarriedOver": (1, ("to_cycle", "actor", "role", "command_id")),
    "Account.AccountCreated": (
        1, ("username", "account_role", "unit", "display_name", "active", "existing", "reason", "actor", "role", "command_id"),
    ),
    "Account.AccessChanged": (
        1, ("account_role", "unit", "previous_role", "previous_unit", "reason", "actor", "role", "command_id"),
    ),
    "Account.PasswordReset": (1, ("reason", "actor", "role", "command_id")),
    "Account.AccountDeactivated": (1, ("reason", "actor", "role", "command_id")),
    "Account.AccountReactivated": (1, ("reason", "actor", "role", "command_id")),
}


def event_classes() -> dict[str, type]:
    """Every event class of every aggregate, by ``Aggregate.Event`` name."""
    out = {}
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if name in ("Event", "Created") or not isinstance(value, type) or not issubclass(value, CanMutateAggregate):
                continue
            out[f"{aggregate.__name__}.{name}"] = value
    return out


def declared_version(cls: type) -> tuple[int, type] | None:
    """The ``class_version`` and the class that declares it (None if nothing does)."""
    for klass in cls.__mro__:
        if "class_version" in vars(klass):
            return vars(klass)["class_version"], klass
    return None


def upcasters() -> set[str]:
    return {
        f"{name}.{attr}"
        for name, cls in event_classes().items()
        for attr in dir(cls)
        if attr.startswith("upcast_v")
    }


# ------------------------------------------------------------------ versions and shapes


def test_every_event_of_every_aggregate_is_listed():
    assert set(event_classes()) == set(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_event_declares_its_class_version_in_its_aggregate(name: str):
    cls = event_classes()[name]
    declared = declared_version(cls)
    assert declared is not None, f"{name} has no class_version"
    version, where = declared
    assert where.__module__.startswith("domain.aggregates.") and where.__qualname__ == name
    assert version == SHAPES[name][0]
    for step in range(1, version):
        assert callable(getattr(cls, f"upcast_v{step}_v{step + 1}")), f"{name}: no upcaster from v{step}"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_event_has_the_fields_its_version_names(name: str):
    fields = tuple(f.name for f in dataclasses.fields(event_classes()[name]) if f.name not in BASE_FIELDS)
    assert fields == SHAPES[name][1]


def test_every_stored_state_has_exactly_its_class_fields():
    """What the old code stored is the shape today's classes have (after upcasting)."""
    for name in {r["topic"].split(":")[1] for r in ROWS}:
        assert name in SHAPES
        for r in [r for r in ROWS if r["topic"].endswith(":" + name)][:3]:
            decoded = decode(r, json.loads(r["state"]))  # upcast to today's version
            assert set(vars(decoded)) - BASE_FIELDS - {"class_version"} == set(SHAPES[name][1]), name


# ------------------------------------------------------------------ upcasters on states as old code stored them


def first_state(topic: str) -> dict:
    return json.loads(next(r["state"] for r in ROWS if r["topic"] == topic))


def row_of(topic: str) -> dict:
    return next(r for r in ROWS if r["topic"] == topic)


def decode(row: dict, state: dict) -> object:
    return Assessments(env=IN_MEMORY).mapper.to_domain_event(
        StoredEvent(
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=json.dumps(state, ensure_ascii=False).encode("utf-8"),
        )
    )


def v1(state: dict, *dropped: str) -> dict:
    """A stored state as the v1 class wrote it: no ``class_version`` and without the v2 fields."""
    return {k: v for k, v in state.items() if k not in ("class_version", *dropped)}


TESTED_UPCASTERS = {
    "DebriefSession.DebriefSessionOpened.upcast_v1_v2",
    "DebriefSession.DebriefSessionClosed.upcast_v1_v2",
    "DebriefSession.DebriefSessionClosed.upcast_v2_v3",
    "UnitAssessment.UnitAssessmentStarted.upcast_v1_v2",
}


def test_every_upcaster_is_tested_here():
    assert upcasters() == TESTED_UPCASTERS


def test_a_v1_session_opening_searches_its_sheets_from_the_start_of_the_log():
    topic = "domain.model:DebriefSession.DebriefSessionOpened"
    stored = first_state(topic)
    assert stored["class_version"] == 2 and stored["opened_after"] > 0  # written as v2
    e = decode(row_of(topic), v1(stored, "opened_after"))
    assert e.opened_after == 0
    assert (e.cycle, e.cohort, e.secretaries) == (stored["cycle"], stored["cohort"], stored["secretaries"])
    assert decode(row_of(topic), stored).opened_after == stored["opened_after"]


def test_a_v1_session_close_counts_no_sheets_of_its_own():
    topic = "domain.model:DebriefSession.DebriefSessionClosed"
    stored = first_state(topic)
    assert stored["class_version"] == 2 and stored["sheets"]
    e = decode(row_of(topic), v1(stored, "sheets"))
    assert e.sheets == []
    assert e.command_id == stored["command_id"]
    assert decode(row_of(topic), stored).sheets == stored["sheets"]


def test_a_v2_session_close_had_no_roster_and_no_reason():
    topic = "domain.model:DebriefSession.DebriefSessionClosed"
    stored = first_state(topic)
    assert "rostered" not in stored and "reason" not in stored  # written as v2
    e = decode(row_of(topic), stored)
    assert (e.rostered, e.reason, e.sheets) == (None, None, stored["sheets"])


def test_a_unit_started_before_units_had_names_is_named_by_its_key():
    topic = "domain.model:UnitAssessment.UnitAssessmentStarted"
    stored = first_state(topic)
    assert "class_version" not in stored and stored["name"]  # stored as v1, with a name
    assert decode(row_of(topic), stored).name == stored["name"]  # kept
    e = decode(row_of(topic), v1(stored, "name"))  # the first v1 events had none
    assert e.name == stored["unit"]
    replayed = e.mutate(None)
    assert (replayed.unit, replayed.name) == (stored["unit"], stored["unit"])


# ------------------------------------------------------------------ topics


#: Events added after the aggregates moved out of ``domain.model``: never stored under it, so
#: they have no old topic (and need no alias).
NEWER_THAN_THE_MOVE = {
    "Cycle.EvaluatorsAssigned",  # evaluators assigned (secret ballot and assignment)
    # the committee decides as a body
    "Cycle.DecisionProposed", "Cycle.DecisionConfirmed", "Cycle.DecisionObjected",
    "Adjustment.DecisionProposed", "Adjustment.DecisionConfirmed", "Adjustment.DecisionObjected",
    "UnitAssessment.UnitReminded",  # the organizer's reminders (issue 11)
}


def old_event_names() -> list[str]:
    """Events of the aggregates that existed before the move, less those added after it."""
    old = {a.__name__ for a in OLD_AGGREGATES}
    return [n for n in SHAPES if n.split(".")[0] in old and n not in NEWER_THAN_THE_MOVE]


def topics_ever_written() -> set[str]:
    """Topics and originator topics in the committed log, and those every event class of today's
    aggregates was (or would have been) stored under before the aggregates moved."""
    out = {r["topic"] for r in ROWS}
    out |= {json.loads(r["state"])["originator_topic"] for r in ROWS if "originator_topic" in json.loads(r["state"])}
    out |= {f"domain.model:{name}" for name in old_event_names()}
    out |= {f"domain.model:{a.__name__}" for a in OLD_AGGREGATES}
    return out


def test_the_committed_log_names_only_topics_the_aliases_know():
    written = topics_ever_written()
    assert len(written) == len(old_event_names()) + len(OLD_AGGREGATES)
    assert written == set(old_topics())


@pytest.mark.parametrize("topic", sorted(topics_ever_written()))
def test_every_old_topic_resolves_to_todays_class_of_that_name(topic: str):
    cls = resolve_topic(topic)
    assert cls is old_topics()[topic]
    assert cls.__qualname__ == topic.split(":")[1]
    assert cls.__module__.startswith("domain.aggregates.")
    assert get_topic(cls) == f"{cls.__module__}:{cls.__qualname__}"  # new events: the new topic


# ------------------------------------------------------------------ enums store plain strings


def test_an_event_given_enums_stores_and_decodes_plain_strings():
    app = Assessments(env=IN_MEMORY)
    c = Cycle(
        key="k", year=2026, name="n", policy={}, schemes={}, categories={}, deadlines={},
        actor="org", role=Role.ORGANIZER, command_id="c1",
    )
    c.open_stage(stage=Stage.SCORING, actor="org", role=Role.ORGANIZER, command_id="c2")
    stored = [app.mapper.to_stored_event(e) for e in c.collect_events()]
    state = json.loads(stored[1].state)
    assert state["stage"] == "scoring" and state["role"] == "organizer"
    assert b'"stage":"scoring"' in stored[1].state and b'"role":"organizer"' in stored[0].state
    back = app.mapper.to_domain_event(stored[1])
    assert type(back.stage) is str and type(back.role) is str
    assert back.stage == Stage.SCORING


# ------------------------------------------------------------------ a session open across the move


def app_with_log_up_to(position: int) -> Assessments:
    """The committed log up to ``position``, in an in-memory store (positions as they were)."""
    app = Assessments(env=IN_MEMORY)
    app.recorder.insert_events([
        StoredEvent(originator_id=UUID(r["originator_id"]), originator_version=r["originator_version"],
                    topic=r["topic"], state=r["state"].encode("utf-8"))
        for r in ROWS[:position]
    ])
    assert app.recorder.max_notification_id() == position
    return app


def closed_sheets(position: int) -> list:
    return json.loads(next(r["state"] for r in ROWS if r["position"] == position))["sheets"]


def test_a_session_opened_before_the_move_counts_its_sheets_stored_under_the_old_topic():
    """Sheets are found in the log by topic: those cast before an upgrade carry the old one."""
    app = app_with_log_up_to(62)  # session secondary_committee open, its 9 sheets cast, no cut-off yet
    organizer = Actor("org", Role.ORGANIZER)
    done = app.close_session("example-2026", "secondary_committee", organizer, "test/close")
    assert done.data["ballots"] == 9
    assert app.session("example-2026", "secondary_committee").sheets == closed_sheets(64)


def test_a_close_interrupted_before_the_move_finds_its_cut_off_under_the_old_topic():
    app = app_with_log_up_to(63)  # the cut-off (BallotBoxClosed) stored, the count not yet
    organizer = Actor("org", Role.ORGANIZER)
    done = app.close_session("example-2026", "secondary_committee", organizer, "test/close")
    assert done.data["ballots"] == 9
    assert app.session("example-2026", "secondary_committee").sheets == closed_sheets(64)
