"""The evaluators assigned to a unit as the read models hold them (``proj_assignments``): an
assignment replaces the unit's rows; an empty one leaves none (every evaluator again)."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from projections.models import AssignmentRow
from projections.runner import ProjectionRunner
from tests.walk import ORG, cid, small_cycle

KNOWN = {"eva": None, "evb": None, "evc": None}


def test_an_assignment_replaces_the_units_rows(app):
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    runner = ProjectionRunner(app, engine)
    small_cycle(app, "scoring")

    def held():
        runner.catch_up()
        with runner.sessions() as db:
            return sorted((r.unit, r.evaluator) for r in db.scalars(select(AssignmentRow).where(AssignmentRow.cycle == "c1")))

    # three in one batch of the runner: rows replaced within one session
    app.assign_evaluators("c1", "U1", ["eva", "evb"], KNOWN, ORG, cid())
    app.assign_evaluators("c1", "U1", ["evb", "evc"], KNOWN, ORG, cid())
    app.assign_evaluators("c1", "U2", ["eva"], KNOWN, ORG, cid())
    assert held() == [("U1", "evb"), ("U1", "evc"), ("U2", "eva")]
    app.assign_evaluators("c1", "U1", [], KNOWN, ORG, cid())
    assert held() == [("U2", "eva")]
    assert runner.rebuild() > 0 and held() == [("U2", "eva")]
    engine.dispose()
