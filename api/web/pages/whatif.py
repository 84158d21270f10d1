"""``/audit/{cycle}/whatif``: the cycle's grades recomputed from its events under another policy
(say the debrief weight raised from 0.3 to 0.4), every unit whose rank or grade would change and
why. A GET form (it writes nothing): the fields open prefilled with the cycle's recorded policy."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.forms import REFUSED, beside, refusal
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services
from api.web.views import oversight_helpers

router = page_router()

POLICY_FIELDS = ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots")
THRESHOLDS = ("excellent", "good", "average")
#: The form's inputs, named as the error's field names them (``policy.work_weight``).
INPUTS = [f"policy.{f}" for f in POLICY_FIELDS] + [f"policy.thresholds.{g}" for g in THRESHOLDS] + ["policy.thresholds", "policy"]


def recorded_values(policy: dict[str, Any]) -> dict[str, str]:
    values = {f"policy.{f}": str(policy.get(f, "")) for f in POLICY_FIELDS}
    values.update({f"policy.thresholds.{g}": str((policy.get("thresholds") or {}).get(g, "")) for g in THRESHOLDS})
    return values


def change_of(values: dict[str, str]) -> dict[str, Any]:
    """The partial policy the form asks for: each field filled in, thresholds as one object."""
    change: dict[str, Any] = {f: values[f"policy.{f}"] for f in POLICY_FIELDS if values.get(f"policy.{f}")}
    thresholds = {g: values[f"policy.thresholds.{g}"] for g in THRESHOLDS if values.get(f"policy.thresholds.{g}")}
    if thresholds:
        change["thresholds"] = thresholds
    return change


@router.get("/audit/{cycle}/whatif")
async def audit_whatif(request: Request, cycle: str, user: PageUser) -> Response:
    backend.may_open(user, "audit.read")
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    names = await backend.unit_names(svc, cycle)
    asked = {k: v.strip() for k, v in request.query_params.items() if k in INPUTS and isinstance(v, str)}
    result, errors, status = None, {}, 200
    if asked:  # the fields left empty keep the cycle's value
        try:
            result = await backend.whatif(svc, user, cycle, change_of(asked))
        except REFUSED as err:
            error = refusal(err)
            errors, status = beside(error, INPUTS), error.status
    recorded = result["policy_before"] if result else (await backend.whatif(svc, user, cycle, {}))["policy_before"]
    values = {**recorded_values(recorded), **{k: v for k, v in asked.items() if v}}
    return await render_page(
        request, "oversight_whatif.html", user, status,
        cycle=view, names=names, values=values, errors=errors, result=result,
        policy_fields=POLICY_FIELDS, thresholds=THRESHOLDS, ov_nav="whatif", **oversight_helpers(request),
    )
