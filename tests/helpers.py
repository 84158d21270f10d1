"""Building blocks for API tests: a tiny scheme and a small cycle driven to a chosen stage."""

from __future__ import annotations

from typing import Any

from tests.conftest import Client

TINY_SCHEME = {
    "key": "tiny",
    "name": "测试指标",
    "total": 10,
    "indicators": [
        {
            "code": "1",
            "name": "一级",
            "max": 10,
            "children": [
                {"code": "1.1", "name": "二级", "max": 10, "points": [
                    {"code": "1.1.1", "name": "要点一", "max": 6},
                    {"code": "1.1.2", "name": "要点二", "max": 4},
                ]}
            ],
        }
    ],
}

STAGES_IN_ORDER = ["setup", "self_review", "scoring", "debrief", "adjustments", "allocation", "published"]


async def enrolled_admin_token(api_url: str, username: str = "admin", password: str = "admin-pass-123") -> str:
    """A full token of the admin in production, where the password step opens only TOTP enrolment
    (issue 12): enrol with a fresh secret, as an authenticator app would, and take the session."""
    import httpx
    import pyotp

    async with httpx.AsyncClient(base_url=api_url + "/api/v1", timeout=60) as http:
        r = await http.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        if r.json()["step"] == "full":
            return r.json()["access_token"]
        limited = {"Authorization": f"Bearer {r.json()['access_token']}"}
        secret = (await http.post("/me/totp", headers=limited)).json()["secret"]
        done = await http.post("/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=limited)
        assert done.status_code == 200, done.text
        return done.json()["session"]["access_token"]


async def cast(client: Client) -> None:
    """The people of a small cycle: one per role, units U1 and U2, representatives R1..R3."""
    await client.user("org", "organizer")
    await client.user("eva", "evaluator")
    await client.user("com", "committee")
    await client.user("com2", "committee")  # the second confirmation the default quorum 2 needs
    await client.user("com-u1", "committee", unit="U1")
    await client.user("aud", "auditor")
    await client.user("u1", "unit", unit="U1")
    await client.user("u2", "unit", unit="U2")
    for r in ("R1", "R2", "R3"):
        await client.user(r, "representative")


async def small_cycle(client: Client, until: str, key: str = "c1", scores: dict[str, dict[str, Any]] | None = None,
                      policy: dict[str, Any] | None = None) -> str:
    """Create cycle ``key`` with units U1, U2 (grassroots_branch, tiny scheme) and drive it
    until the given stage is open (or ``published``)."""
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": key, "year": 2026, "name": "测试周期", "schemes": {"grassroots_branch": TINY_SCHEME},
                                        **({"policy": policy} if policy else {})})
    assert r.status_code == 201, r.text
    r = await org.post(f"/cycles/{key}/units", json={"units": [
        {"key": "U1", "name": "第一支部", "org_type": "grassroots_branch"},
        {"key": "U2", "name": "第二支部", "org_type": "grassroots_branch"},
    ]})
    assert r.status_code == 201, r.text
    if until == "setup":
        return key
    assert (await org.post(f"/cycles/{key}/open")).status_code == 200
    if until == "self_review":
        return key
    for unit, user in (("U1", "u1"), ("U2", "u2")):
        r = await client.as_(user).post(f"/cycles/{key}/units/{unit}/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
        assert r.status_code == 200, r.text
    assert (await org.post(f"/cycles/{key}/stages/scoring/open")).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/self_review/close")).status_code == 200
    if until == "scoring":
        return key
    scores = scores or {"U1": {"1.1.1": "6", "1.1.2": "3.5"}, "U2": {"1.1.1": "5", "1.1.2": "3"}}
    for unit, s in scores.items():
        r = await client.as_("eva").post(f"/cycles/{key}/units/{unit}/scoring", json={"scores": s})
        assert r.status_code == 200, r.text
    assert (await org.post(f"/cycles/{key}/stages/scoring/close")).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/debrief/open")).status_code == 200
    await set_roster(client, key, ["R1", "R2", "R3"])
    if until == "debrief":
        return key
    for rep, (a, b) in {"R1": ("95", "85"), "R2": ("93", "83"), "R3": ("91", "81")}.items():
        r = await client.as_(rep).post(f"/cycles/{key}/debrief/grassroots_branch/ballots", json={"scores": {"U1": a, "U2": b}})
        assert r.status_code == 200, r.text
    assert (await org.post(f"/cycles/{key}/stages/debrief/close")).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/adjustments/open")).status_code == 200
    if until == "adjustments":
        return key
    assert (await org.post(f"/cycles/{key}/stages/adjustments/close")).status_code == 200
    if until == "allocation":
        return key
    if (policy or {}).get("committee_quorum") == 1:
        r = await client.as_("com").post(f"/cycles/{key}/allocation/approve", json={"reason": "同意", **MEETING})
        assert r.status_code == 200 and r.json()["effective"], r.text
    else:
        await approve(client, key)
    return key


#: The committee meeting the tests' decisions are taken at.
MEETING = {"meeting_date": "2026-03-20", "minute_number": "党委会〔2026〕3号"}


async def confirm(client: Client, key: str, proposed: dict, *members: str) -> dict:
    """``members`` (default: com2) confirm the proposal ``proposed`` answered with."""
    out = proposed
    for m in members or ("com2",):
        r = await client.as_(m).post(f"/cycles/{key}/proposals/{proposed['proposal']}/confirm")
        assert r.status_code == 200, r.text
        out = r.json()
    assert out["effective"], out
    return out


async def approve(client: Client, key: str) -> dict:
    """The allocation approved by the committee: com proposes at ``MEETING``, com2 confirms."""
    r = await client.as_("com").post(f"/cycles/{key}/allocation/approve", json={"reason": "同意", **MEETING})
    assert r.status_code == 200, r.text
    return await confirm(client, key, r.json())


async def decide(client: Client, key: str, adjustment: str, decision: str = "approve", reason: str = "属实") -> dict:
    """An adjustment decided by the committee: com proposes at ``MEETING``, com2 confirms."""
    r = await client.as_("com").post(f"/cycles/{key}/adjustments/{adjustment}/decision",
                                     json={"decision": decision, "reason": reason, **MEETING})
    assert r.status_code == 200, r.text
    return await confirm(client, key, r.json())


async def set_roster(client: Client, key: str, reps: Any, cohort: str = "grassroots_branch") -> Any:
    """The organizer registers the session's roster (SPEC §1: only rostered representatives
    cast): ``reps`` is a list (the cycle's one category) or a mapping representative → category."""
    entries = [{"representative": r, "category": c} for r, c in reps.items()] if isinstance(reps, dict) \
        else [{"representative": r} for r in reps]
    r = await client.as_("org").put(f"/cycles/{key}/debrief/{cohort}/roster", json=entries)
    assert r.status_code == 200, r.text
    return r.json()
