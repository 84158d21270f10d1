"""The evaluators' scoring drafts (adapters.scoring_drafts): one working copy per evaluator per
unit, replaced as they type, gone once the unit's scoring is submitted, and not a read model (a
projection rebuild, which drops and recreates every read-model table, leaves them alone)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import create_engine

from adapters.scoring_drafts import ScoringDrafts
from projections.models import ReadModel


def test_a_draft_per_evaluator_per_unit_replaced_as_typed_and_spent_on_submission():
    engine = create_engine("sqlite://")
    drafts = ScoringDrafts(engine)
    assert drafts.get("c1", "U1", "eva") is None
    drafts.save("c1", "U1", "eva", {"scores": {"1.1.1": "5"}, "na_reasons": {}, "comments": {}})
    at = drafts.save("c1", "U1", "eva", {"scores": {"1.1.1": "5.5", "1.1.2": None}, "na_reasons": {"1.1.2": "无"}, "comments": {}})
    drafts.save("c1", "U1", "eva2", {"scores": {"1.1.1": "1"}, "na_reasons": {}, "comments": {}})
    drafts.save("c1", "U2", "eva", {"scores": {"1.1.1": "2"}, "na_reasons": {}, "comments": {}})
    mine = drafts.get("c1", "U1", "eva")
    assert mine["scores"] == {"1.1.1": "5.5", "1.1.2": None} and mine["na_reasons"] == {"1.1.2": "无"}
    assert datetime.fromisoformat(mine["saved_at"]) == at and at.tzinfo is not None
    assert drafts.get("c1", "U1", "eva2")["scores"] == {"1.1.1": "1"}

    # A projection rebuild drops the read models only.
    ReadModel.metadata.drop_all(engine)
    ReadModel.metadata.create_all(engine)
    assert drafts.get("c1", "U1", "eva")["scores"]["1.1.1"] == "5.5"

    drafts.discard("c1", "U1")  # U1's scoring was submitted: every evaluator's draft of it is spent
    assert drafts.get("c1", "U1", "eva") is None and drafts.get("c1", "U1", "eva2") is None
    assert drafts.get("c1", "U2", "eva")["scores"] == {"1.1.1": "2"}
