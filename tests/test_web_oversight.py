"""The committee, results and auditor pages in Debian's Chromium, against the real stack.

The cycle is brought to the stage under test through the JSON API (``tests.helpers``); from
there on, only the pages are used, and what they publish is checked against the JSON API.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, browser, new_page, screenshot, sign_in  # noqa: F401 - fixtures and helpers

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORDS = {"com": "com-web-pass-2026", "com-u1": "comu1-web-pass-2026", "aud": "aud-web-pass-2026", "u1": "u1-web-pass-2026"}
ROLES = {"com": ("committee", None), "com-u1": ("committee", "U1"), "aud": ("auditor", None), "u1": ("unit", "U1")}


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def with_password(client: Client, username: str) -> None:
    """A cast member with a known password, so the browser can sign in as them."""
    role, unit = ROLES[username]
    r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORDS[username]})
    assert r.status_code == 200, r.text
    await client.login(username, PASSWORDS[username])


async def signed_in(browser, stack, username: str):  # noqa: F811
    context, page = await new_page(browser, stack)
    await sign_in(page, username, PASSWORDS[username])
    await page.wait_for_url(re.compile(r"/tasks$"))
    return context, page


async def posting_forms(page) -> list[str]:
    """The action of every form on the page that posts (method=post)."""
    return await page.eval_on_selector_all(
        "form", "fs => fs.filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'post').map(f => f.getAttribute('action'))"
    )


async def test_committee_overrides_approves_publishes_and_the_auditor_sees_it(client, stack, browser, tmp_path):  # noqa: F811
    await cast(client)
    # This test is about the page's flow (messages beside the forms, publishing): a quorum of one,
    # so each decision takes effect when proposed. Confirmations by a second member: test_committee_api.
    key = await small_cycle(client, "allocation", policy={"committee_quorum": 1})
    for name in ("com", "aud"):
        await with_password(client, name)

    context, page = await signed_in(browser, stack, "com")
    try:
        # The inbox leads to the allocation.
        await page.click("[data-testid=inbox] tbody tr .task-title a")
        await page.wait_for_url(re.compile(rf"/committee/{key}/allocation$"))
        table = page.locator("[data-testid=allocation-grassroots_branch]")
        rows = table.locator("tbody tr")
        # U1 (quota place 1), the quota line, U2.
        assert await rows.count() == 3
        assert await rows.nth(0).get_attribute("data-unit") == "U1"
        assert await rows.nth(1).get_attribute("data-testid") == "quota-line"
        assert await rows.nth(2).get_attribute("data-unit") == "U2"
        assert "优秀名额线" in await rows.nth(1).inner_text()
        u1 = table.locator("tr[data-unit=U1]")
        assert await u1.locator("[data-col=F]").inner_text() != "—"
        assert await u1.locator("[data-col=D]").inner_text() == "93.00"
        assert await u1.locator("[data-col=W]").inner_text() == "95.00"
        assert "优秀" in await u1.locator("[data-col=grade]").inner_text()
        allocation = (await client.as_("com").get(f"/cycles/{key}/allocation")).json()["cohorts"]["grassroots_branch"]
        api_u1 = next(u for u in allocation["units"] if u["unit"] == "U1")
        assert await u1.locator("[data-col=F]").inner_text() == api_u1["final_score"]

        # U2 to excellent: beyond the quota of 1 — the API's message beside the form, the input kept.
        form = page.locator("#override-U2")
        await form.locator("select[name=grade]").select_option("excellent")
        await form.locator("input[name=reason]").fill("表现突出")
        await form.locator("input[name=meeting_date]").fill("2026-03-20")
        await form.locator("input[name=minute_number]").fill("党委会〔2026〕3号")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("#override-U2-error")
        assert "超过名额" in await page.inner_text("#override-U2-error")
        form = page.locator("#override-U2")
        assert await form.locator("select[name=grade]").input_value() == "excellent"
        assert await form.locator("input[name=reason]").input_value() == "表现突出"

        # U2 to average without a reason: refused, the choice kept.
        await form.locator("select[name=grade]").select_option("average")
        await form.locator("input[name=reason]").fill("")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("#override-U2-error")
        assert "必须说明理由" in await page.inner_text("#override-U2-error")
        form = page.locator("#override-U2")
        assert await form.locator("select[name=grade]").input_value() == "average"
        assert await form.locator("input[name=reason]").get_attribute("aria-invalid") == "true"

        # With a reason: saved and shown.
        await form.locator("input[name=reason]").fill("整改台账不完整")
        await form.locator("button[type=submit]").click()
        await page.wait_for_selector("[data-testid=done]")
        assert "已保存等次调整" in await page.inner_text("[data-testid=done]")  # in effect at once: quorum 1
        u2 = page.locator("[data-testid=allocation-grassroots_branch] tr[data-unit=U2]")
        assert "一般" in await u2.locator("[data-col=grade]").inner_text()
        assert "整改台账不完整" in await u2.locator("[data-col=grade]").inner_text()
        await screenshot(page, "allocation.png", tmp_path, full_page=True)

        # Approve: published, on to the results page with its chart.
        await page.fill("#decision-meeting-date", "2026-03-20")
        await page.fill("#decision-minute", "党委会〔2026〕3号")
        await page.click("[data-testid=approve]")
        await page.click("[data-testid=confirm-yes]")  # the second look before a final action
        await page.wait_for_url(re.compile(rf"/results/{key}\?done=approve$"))
        await page.wait_for_selector("#ov-chart[data-rendered='1'] canvas")
        results = (await client.as_("com").get(f"/cycles/{key}/results")).json()
        assert results["units"]["U2"]["grade"] == "average" and results["units"]["U1"]["grade"] == "excellent"
        for unit in ("U1", "U2"):
            shown = await page.inner_text(f"[data-testid=results] tr[data-unit={unit}] [data-col=grade]")
            assert shown.startswith({"excellent": "优秀", "average": "一般"}[results["units"][unit]["grade"]]), shown
        assert await page.locator("[data-testid=downloads] a").count() == 5
    finally:
        await context.close()

    context, page = await signed_in(browser, stack, "aud")
    try:
        # The timeline, filtered to overrides: old → new, with the reason.
        await page.goto(f"/audit/{key}")
        await page.select_option("select[name=type]", "GradeOverridden")
        await page.click("[data-testid=filters] button[type=submit]")
        await page.wait_for_url(re.compile(r"type=GradeOverridden"))
        rows = page.locator("[data-testid=timeline] tbody tr")
        assert await rows.count() == 1
        row = await rows.first.inner_text()
        assert "良好 → 一般" in await rows.first.locator("[data-testid=old-new]").inner_text()
        assert "整改台账不完整" in row and "com" in row, row
        api = await client.as_("aud").get(f"/audit/cycles/{key}/timeline", params={"type": "GradeOverridden"})
        assert [e["position"] for e in api.json()] == [int(await rows.first.locator("td").first.inner_text())]
        await page.goto(f"/audit/{key}")
        assert await page.locator("[data-testid=timeline] tbody tr").count() > 10
        # A unit's story: its filter shows every event about U2, the override among them.
        await page.select_option("select[name=unit]", "U2")
        await page.click("[data-testid=filters] button[type=submit]")
        await page.wait_for_url(re.compile(r"unit=U2"))
        events = await page.eval_on_selector_all("[data-testid=timeline] tbody tr", "rs => rs.map(r => r.dataset.event)")
        assert "GradeOverridden" in events and "UnitRegistered" in events and "BallotCast" not in events, events
        await screenshot(page, "audit-timeline.png", tmp_path, full_page=True)

        # No button that writes, on any page the auditor opens: only sign-out posts.
        for path in (f"/audit/{key}", f"/audit/{key}/explain/U2", f"/audit/{key}/integrity", f"/results/{key}",
                     f"/committee/{key}/allocation", f"/committee/{key}/adjustments"):
            response = await page.goto(path)
            assert response.status == 200, path
            assert await posting_forms(page) == ["/logout"], path

        # The explanation: the override cited with its position and hash; the grade as published.
        await page.goto(f"/audit/{key}/explain/U2")
        assert await page.inner_text("[data-testid=explained-grade]") == "一般"
        steps = await page.inner_text("[data-testid=steps]")
        assert "调整考核等次" in steps and "GradeOverridden" not in steps  # the event by its name (issue 11)
        # The integrity check and the digest equal the API's.
        await page.goto(f"/audit/{key}/integrity")
        assert "校验通过" in await page.inner_text("[data-testid=verdict]")
        digest = (await client.as_("aud").get("/audit/digest")).json()
        assert await page.inner_text("[data-testid=digest-hash]") == digest["hash"]

        # Downloads through the session cookie: the same documents as the API's.
        r = await page.request.get(f"/results/{key}/download/results.xlsx")
        assert r.status == 200 and "spreadsheetml" in r.headers["content-type"]
        r = await page.request.get(f"/audit/{key}/export")
        assert r.status == 200 and (await r.body())[:2] == b"PK"
    finally:
        await context.close()


async def test_adjustment_decisions_abstention_and_a_unit_user_is_kept_out(client, stack, browser, tmp_path):  # noqa: F811
    await cast(client)
    # About the page (abstention, messages, the decided list): a quorum of one, so the decision
    # takes effect when proposed. A second member's confirmation: test_committee_api.
    key = await small_cycle(client, "adjustments", policy={"committee_quorum": 1})
    for name in ("com", "com-u1", "u1"):
        await with_password(client, name)
    r = await client.as_("org").post(f"/cycles/{key}/adjustments", json={
        "unit": "U1", "kind": "bonus", "points": "1", "reason": "获市级表彰", "evidence": "市委组织部文件〔2026〕3号"})
    assert r.status_code == 201, r.text
    adjustment = r.json()["adjustment"] if "adjustment" in r.json() else None

    # A committee member attached to U1 sees the item, disabled, with the reason.
    context, page = await signed_in(browser, stack, "com-u1")
    try:
        await page.goto(f"/committee/{key}/adjustments")
        card = page.locator("article.ov-adjustment[data-unit=U1]")
        assert "获市级表彰" in await card.inner_text() and "市委组织部文件" in await card.inner_text()
        assert await card.locator("fieldset[disabled]").count() == 1
        assert await card.locator("button[value=approve]").is_disabled()
        assert await card.locator("textarea[name=reason]").is_disabled()
        assert "回避" in await card.locator("[data-testid=blocked]").inner_text()
    finally:
        await context.close()

    context, page = await signed_in(browser, stack, "com")
    try:
        await page.click("[data-testid=inbox] tbody tr .task-title a")
        await page.wait_for_url(re.compile(rf"/committee/{key}/adjustments"))
        card = page.locator("article.ov-adjustment[data-unit=U1]")
        # Reject without a reason: the message beside the form.
        await card.locator("button[value=reject]").click()
        await page.wait_for_selector("article.ov-adjustment [role=alert]")
        assert "驳回必须说明理由" in await page.inner_text("article.ov-adjustment [role=alert]")
        # Approve with a reason.
        await page.fill("article.ov-adjustment textarea[name=reason]", "材料齐全")
        await page.fill("article.ov-adjustment input[name=meeting_date]", "2026-03-20")
        await page.fill("article.ov-adjustment input[name=minute_number]", "党委会〔2026〕3号")
        await page.click("article.ov-adjustment button[value=approve]")
        await page.wait_for_selector("[data-testid=done]")
        # in effect at once (the quorum of one): the notice says it was decided, not that it waits
        assert "已保存审批结果" in await page.inner_text("[data-testid=done]")
        assert await page.locator("article.ov-adjustment").count() == 0
        assert "材料齐全" in await page.inner_text("[data-testid=decided-adjustments]")
        items = (await client.as_("com").get(f"/cycles/{key}/adjustments")).json()
        assert [(a["status"], a["decision_reason"]) for a in items] == [("approved", "材料齐全")]
        assert adjustment is None or items[0]["id"] == adjustment
    finally:
        await context.close()

    # A unit user: 403 pages (not crashes) for the committee, audit and document pages.
    context, page = await signed_in(browser, stack, "u1")
    try:
        for path in (f"/committee/{key}/allocation", f"/committee/{key}/adjustments", f"/audit/{key}",
                     f"/audit/{key}/explain/U2", f"/results/{key}/download/results.xlsx"):
            response = await page.goto(path)
            assert response.status == 403, path
            assert "无权访问" in await page.inner_text("[data-testid=error]"), path
        # Results not yet published: said so, no crash.
        response = await page.goto(f"/results/{key}")
        assert response.status == 200
        assert await page.locator("[data-testid=not-published]").count() == 1
    finally:
        await context.close()


async def test_a_unit_user_sees_only_its_own_result(client, stack, browser, tmp_path):  # noqa: F811
    await cast(client)
    key = await small_cycle(client, "published")
    await with_password(client, "u1")
    context, page = await signed_in(browser, stack, "u1")
    try:
        response = await page.goto(f"/results/{key}")
        assert response.status == 200
        rows = page.locator("[data-testid=results] tbody tr")
        assert await rows.count() == 1 and await rows.first.get_attribute("data-unit") == "U1"
        assert await page.locator("[data-testid=downloads]").count() == 0
        assert await page.locator("[data-testid=chart]").count() == 0
    finally:
        await context.close()
