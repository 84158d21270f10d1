"""Feedback and rectification to closure (SPEC §3 stages 7–8), through the real API, workflows
and event store: drafts from the lowest-scoring points, issue and acknowledge, an item per
problem, progress and evidence, send back, verify and close, overdue escalation, carry-over."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from domain.audit import read_log
from tests.conftest import log_position
from tests.helpers import TINY_SCHEME, cast, small_cycle

pytestmark = pytest.mark.temporal


def events(stack, name: str) -> list:
    return [i.event for i in read_log(stack.app) if i.name == name]


async def kinds(client, user: str) -> list[tuple[str, str | None]]:
    return sorted((t["kind"], t.get("unit")) for t in (await client.as_(user).get("/tasks")).json())


async def test_feedback_and_rectification_to_closure(client, stack):
    await cast(client)
    key = await small_cycle(client, "published", policy={"rectification_share": "0.9"})
    org, u1, u2 = client.as_("org"), client.as_("u1"), client.as_("u2")

    # Drafts from the points below 90% of their max (the cycle's rectification_share), worked by
    # hand from small_cycle's scores:
    # U1: 1.1.1 6/6 (full marks: no problem), 1.1.2 3.5/4 = 87.5%  → one problem, 1.1.2
    # U2: 1.1.1 5/6 = 83.3%, 1.1.2 3/4 = 75.0%                     → 1.1.2 first, then 1.1.1
    d2 = (await org.get(f"/cycles/{key}/units/U2/feedback")).json()
    assert d2["status"] == "none"
    assert [(p["code"], p["share"]) for p in d2["draft"]["problems"]] == [("1.1.2", "75.0%"), ("1.1.1", "83.3%")]
    assert d2["draft"]["grade"]["code"] == "good"
    # A unit sees no draft, only issued feedback; and never another unit's.
    assert (await u2.get(f"/cycles/{key}/units/U2/feedback")).status_code == 404
    assert (await u1.get(f"/cycles/{key}/units/U2/feedback")).status_code == 403
    # Acknowledging feedback that was not issued is refused and stores nothing.
    before = log_position(stack)
    r = await u2.post(f"/cycles/{key}/units/U2/feedback/acknowledge")
    assert r.status_code == 409 and r.json()["code"] == "feedback_not_issued"
    assert log_position(stack) == before

    # The organizer edits U2's draft and issues both; each problem becomes an item.
    r = await org.put(f"/cycles/{key}/units/U2/feedback/draft", json={"text": "经党委研究，反馈如下：请加强党员教育管理。"})
    assert r.status_code == 200, r.text
    assert (await org.post(f"/cycles/{key}/units/U2/feedback", json={"text": ""})).status_code == 200
    assert (await org.post(f"/cycles/{key}/units/U1/feedback", json={"text": ""})).status_code == 200
    assert len(events(stack, "FeedbackIssued")) == 2
    fb = (await u2.get(f"/cycles/{key}/units/U2/feedback")).json()
    assert fb["status"] == "issued" and fb["text"] == "经党委研究，反馈如下：请加强党员教育管理。"
    items = (await org.get(f"/cycles/{key}/rectifications")).json()
    assert sorted((i["unit"], i["point"], i["status"]) for i in items) == [
        ("U1", "1.1.2", "open"), ("U2", "1.1.1", "open"), ("U2", "1.1.2", "open")]
    due = datetime.fromisoformat(items[0]["deadline"])
    assert timedelta(days=89) < due - datetime.now(timezone.utc) <= timedelta(days=90)  # policy default: 90 days
    # Inboxes: the unit acknowledges and reports; a unit sees only its own items.
    assert await kinds(client, "u2") == [("acknowledge_feedback", "U2"), ("report_rectification", "U2"), ("report_rectification", "U2")]
    assert [i["unit"] for i in (await u1.get(f"/cycles/{key}/rectifications")).json()] == ["U1"]
    assert (await u2.post(f"/cycles/{key}/units/U2/feedback/acknowledge")).status_code == 200
    assert events(stack, "FeedbackAcknowledged")[0].actor == "u2"

    u2_items = {i["point"]: i["id"] for i in items if i["unit"] == "U2"}
    u1_item = next(i["id"] for i in items if i["unit"] == "U1")
    # Bad input: another unit's item; closing an item never submitted; an attachment too big or of a refused type.
    before = log_position(stack)
    r = await u1.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/progress", json={"text": "越权"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await org.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/verify", json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["code"] == "item_not_submitted"
    big = b"%PDF-1.4\n" + b"0" * (stack.settings.attachment_max_bytes)
    r = await u2.post("/attachments", files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "file_too_large" and r.json()["field"] == "file"
    r = await u2.post("/attachments", files={"file": ("run.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert r.status_code == 422 and r.json()["code"] == "refused_type"
    r = await u2.post("/attachments", files={"file": ("fake.pdf", b"not a pdf", "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "refused_type"
    assert log_position(stack) == before

    # Evidence is stored by content hash; the hash goes into the event.
    import hashlib

    pdf = b"%PDF-1.4\n% evidence of rectification\n"
    r = await u2.post("/attachments", files={"file": ("证明材料.pdf", pdf, "application/pdf")})
    assert r.status_code == 201, r.text
    evidence = r.json()
    assert evidence["sha256"] == hashlib.sha256(pdf).hexdigest() and evidence["size"] == len(pdf)
    r = await u2.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/progress", json={"text": "已制定整改方案", "attachments": [evidence]})
    assert r.status_code == 200, r.text
    r = await u2.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/submit", json={"text": "已完成整改", "attachments": [evidence]})
    assert r.status_code == 200, r.text
    assert events(stack, "RectificationSubmitted")[0].attachments[0]["sha256"] == evidence["sha256"]
    assert (await u2.get(f"/attachments/{evidence['sha256']}")).content == pdf
    assert (await u1.get(f"/attachments/{evidence['sha256']}")).status_code == 403
    assert ("verify_rectification", "U2") in await kinds(client, "org")

    # Sent back with a reason, resubmitted, verified and closed (销号).
    r = await org.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/verify", json={"decision": "reject", "reason": "佐证材料不足"})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert events(stack, "RectificationSentBack")[0].reason == "佐证材料不足"
    r = await org.post(f"/cycles/{key}/rectifications/{u2_items['1.1.2']}/verify", json={"decision": "reject"})
    assert r.status_code == 409 and r.json()["code"] == "item_not_submitted"
    await u2.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/submit", json={"text": "补充材料后完成"})
    r = await org.post(f"/cycles/{key}/rectifications/{u2_items['1.1.1']}/verify", json={"decision": "approve", "reason": "核验通过"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    for point in ("1.1.2",):
        await u2.post(f"/cycles/{key}/rectifications/{u2_items[point]}/submit", json={"text": "完成"})
        r = await org.post(f"/cycles/{key}/rectifications/{u2_items[point]}/verify", json={"decision": "approve"})
        assert r.json()["status"] == "closed"
    statuses = {i["id"]: i["status"] for i in (await org.get(f"/cycles/{key}/rectifications")).json()}
    assert statuses == {u2_items["1.1.1"]: "closed", u2_items["1.1.2"]: "closed", u1_item: "open"}
    assert await kinds(client, "u2") == []

    # A deadline in the past is refused; an item due in a few seconds goes overdue and is escalated.
    past = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    r = await org.post(f"/cycles/{key}/rectifications", json={"unit": "U1", "description": "补齐台账", "deadline": past})
    assert r.status_code == 422 and r.json()["code"] == "deadline_in_past"
    soon = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
    r = await org.post(f"/cycles/{key}/rectifications", json={"unit": "U1", "description": "补齐组织生活台账", "point": "1.1.1", "deadline": soon})
    assert r.status_code == 201, r.text
    late = r.json()["items"][0]["id"]
    for _ in range(100):
        if any(str(e.originator_id) == late for e in events(stack, "RectificationOverdue")):
            break
        await asyncio.sleep(0.2)
    overdue = [e for e in events(stack, "RectificationOverdue") if str(e.originator_id) == late]
    assert len(overdue) == 1 and overdue[0].actor == "system"
    for _ in range(50):
        if ("rectification_overdue", "U1") in await kinds(client, "org"):
            break
        await asyncio.sleep(0.1)
    assert ("rectification_overdue", "U1") in await kinds(client, "org")
    mine = {i["id"]: i for i in (await u1.get(f"/cycles/{key}/rectifications")).json()}
    assert mine[late]["overdue"] is True


async def test_items_come_from_points_below_the_policy_share_and_say_what_was_found(client, stack):
    """Issue 11 §6: not the five lowest points, however high, worded "得分 9.5/10": the points
    below the policy's share of their max (default 80%), each saying what was found."""
    await cast(client)
    key = await small_cycle(client, "published", key="share80")
    org = client.as_("org")
    # Default share 0.80. U1: 1.1.1 6/6 full, 1.1.2 3.5/4 = 87.5% → no problem, no item.
    # U2: 1.1.1 5/6 = 83.3% (above 80%: none); 1.1.2 3/4 = 75.0% → the one problem.
    d1 = (await org.get(f"/cycles/{key}/units/U1/feedback")).json()["draft"]
    assert d1["problems"] == [] and "未发现得分率低于80%的评价要点" in d1["text"]
    d2 = (await org.get(f"/cycles/{key}/units/U2/feedback")).json()["draft"]
    assert [(p["code"], p["share"], p["required"]) for p in d2["problems"]] == [("1.1.2", "75.0%", "80%")]
    assert "得分3分（满分4分），得分率75.0%，低于80%的要求。" in d2["text"]
    for unit in ("U1", "U2"):
        assert (await org.post(f"/cycles/{key}/units/{unit}/feedback", json={"text": ""})).status_code == 200
    items = (await org.get(f"/cycles/{key}/rectifications")).json()
    assert [(i["unit"], i["point"], i["description"]) for i in items] == [
        ("U2", "1.1.2", "1.1.2 「要点二」得分 3.00/4（75.0%），低于 80% 的要求")]
    # A share outside 0..1 is refused naming the field, and stores nothing.
    r = await org.post("/cycles", json={"key": "bad-share", "year": 2026, "name": "x", "schemes": {"grassroots_branch": TINY_SCHEME},
                                        "policy": {"rectification_share": "1.2"}})
    assert r.status_code == 422 and r.json()["field"] == "policy.rectification_share", r.text


async def test_open_items_are_carried_into_the_next_cycle(client, stack):
    await cast(client)
    key = await small_cycle(client, "published", key="y2025", policy={"rectification_share": "0.9"})
    org = client.as_("org")
    assert (await org.post(f"/cycles/{key}/units/U2/feedback", json={"text": ""})).status_code == 200
    items = (await org.get(f"/cycles/{key}/rectifications")).json()
    assert len(items) == 2  # U2's two problems (see the test above)
    # Close one of them; the other stays open.
    u2 = client.as_("u2")
    await u2.post(f"/cycles/{key}/rectifications/{items[0]['id']}/submit", json={"text": "完成"})
    await org.post(f"/cycles/{key}/rectifications/{items[0]['id']}/verify", json={"decision": "approve"})
    # The next cycle opens: U2's open item is carried into it and listed beside its self-review.
    r = await org.post("/cycles", json={"key": "y2026", "year": 2026, "name": "下一年度", "schemes": {"grassroots_branch": TINY_SCHEME}})
    assert r.status_code == 201
    await org.post("/cycles/y2026/units", json={"units": [{"key": "U1", "name": "第一支部", "org_type": "grassroots_branch"},
                                                        {"key": "U2", "name": "第二支部", "org_type": "grassroots_branch"}]})
    r = await org.post("/cycles/y2026/open")
    assert r.status_code == 200 and r.json()["carried_over"] == [items[1]["id"]]
    carried = (await u2.get("/cycles/y2026/units/U2/carried-over")).json()
    assert [(c["id"], c["status"], c["cycle"]) for c in carried] == [(items[1]["id"], items[1]["status"], key)]
    assert (await client.as_("u1").get("/cycles/y2026/units/U1/carried-over")).json() == []
    assert (await client.as_("u1").get("/cycles/y2026/units/U2/carried-over")).status_code == 403
