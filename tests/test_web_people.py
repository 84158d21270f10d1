"""The pages of the unit, the evaluator and the representative, in Debian's Chromium.

The stage is set through the JSON API (tests/helpers.py); the role under test then works only
through its pages, and what they stored is checked through the API again.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, new_page, screenshot, sign_in

PASSWORD = "people-web-pass-2026"
COHORT = "grassroots_branch"

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

from tests.test_web import backend, browser  # noqa: E402,F401  (fixtures: one store, one browser per module)


async def with_password(client: Client, username: str, role: str, unit: str | None = None, name: str | None = None) -> None:
    body = {"role": role, "unit": unit, "password": PASSWORD, "display_name": name}
    r = await client.as_("admin").put(f"/users/{username}", json=body)
    assert r.status_code == 200, r.text
    await client.login(username, PASSWORD)


async def open_task(page, kind: str) -> None:
    await page.click(f"[data-testid=inbox] tbody tr[data-kind={kind}] .task-title a")


async def test_a_unit_fills_its_self_review_keeps_a_draft_and_submits(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "self_review")
    # A second cycle on the default scheme: 43 points for the same unit.
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": "d1", "year": 2026, "name": "2026年度党建工作考核", "schemes": {COHORT: "default"}})
    assert r.status_code == 201, r.text
    r = await org.post("/cycles/d1/units", json={"units": [{"key": "U1", "name": "第一支部", "org_type": COHORT}]})
    assert r.status_code == 201, r.text
    assert (await org.post("/cycles/d1/open")).status_code == 200
    await with_password(client, "u1", "unit", "U1", "王晓红")

    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.click(f"[data-testid=inbox] tbody tr[data-kind=submit_self_review]:has-text('测试周期') .task-title a")
        await page.wait_for_url(re.compile(rf"/self-review/{key}/U1$"))
        assert await page.locator(".pp-point").count() == 2
        assert "/ 6" in await page.inner_text("[data-point='1.1.1']")

        # A score above the point's max: the API's message beside that point, everything typed kept.
        await page.fill("[name='score.1.1.1']", "7")
        await page.fill("[name='score.1.1.2']", "3")
        await page.fill("[name='evidence.1.1.2']", "支部委员会会议记录12份")
        async with page.expect_navigation() as nav:
            await page.click("#pp-self-review button[type=submit]")
        assert (await nav.value).status == 422
        error = page.locator("[data-error-for='1.1.1']")
        assert await error.is_visible()
        assert "要点 1.1.1 得分 7 超出范围 0–6" in await error.inner_text()
        assert await page.locator("[data-error-for='1.1.2']").is_hidden()
        assert await page.input_value("[name='score.1.1.1']") == "7"
        assert await page.input_value("[name='score.1.1.2']") == "3"
        assert await page.input_value("[name='evidence.1.1.2']") == "支部委员会会议记录12份"

        # Corrected: the draft is saved as the user types and survives a reload.
        await page.fill("[name='score.1.1.1']", "5.5")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('已保存草稿')")
        assert await page.inner_text("[data-total]") == "8.5"
        await page.goto(f"/self-review/{key}/U1")
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='score.1.1.2']") == "3"
        assert await page.input_value("[name='evidence.1.1.2']") == "支部委员会会议记录12份"
        draft = (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()["draft"]
        assert draft["scores"] == {"1.1.1": "5.5", "1.1.2": "3"} and draft["evidence"] == {"1.1.2": "支部委员会会议记录12份"}

        await page.click("#pp-self-review button[type=submit]")
        await page.click("[data-testid=confirm-yes]")  # the second look before a final action
        await page.wait_for_selector("[data-testid=submitted]")
        view = (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()
        assert view["self_review"] == "submitted"
        assert view["self_scores"] == {"1.1.1": "5.5", "1.1.2": "3"}
        assert view["self_evidence"] == {"1.1.2": "支部委员会会议记录12份"}

        # The default scheme: 43 points under their indicators, each with its max.
        await page.goto("/cycles/d1/units/U1")  # (the foundation's unit page still works)
        await page.goto("/self-review/d1/U1")
        assert await page.locator(".pp-point").count() == 43
        assert await page.locator(".pp-l1").count() == 8 and await page.locator(".pp-l2").count() == 21
        await page.fill("[name='score.1.1.1']", "1")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('已保存草稿')")
        await screenshot(page, "self-review.png", tmp_path)

        # Another unit's pages: the 403 page.
        for path in (f"/self-review/{key}/U2", f"/my/{key}/U2"):
            other = await page.goto(path)
            assert other.status == 403, path
            assert "无权访问" in await page.inner_text("[data-testid=error]")
    finally:
        await context.close()


async def test_an_evaluator_scores_a_unit_with_one_point_not_applicable(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "scoring")
    await with_password(client, "eva", "evaluator", None, "李考核")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "eva", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.click("[data-testid=inbox] tbody tr[data-kind=submit_scoring]:has-text('第一支部') .task-title a")
        await page.wait_for_url(re.compile(rf"/scoring/{key}/U1$"))
        assert await page.inner_text("[data-testid='self-1.1.1']") == "5"  # the unit's self-score beside the point
        await page.fill("[name='score.1.1.1']", "5.5")
        await page.fill("[name='score.1.1.2']", "3")
        assert await page.inner_text("[data-testid=running-total]") == "8.5"
        await page.check("[name='na.1.1.2']")
        assert await page.inner_text("[data-testid=running-total]") == "5.5"
        await page.fill("[name='comment.1.1.1']", "记录完整")

        # N/A without a reason: the API's message beside 1.1.2; the sheet as typed.
        async with page.expect_navigation() as nav:
            await page.click("#pp-scoring button[type=submit]")
        assert (await nav.value).status == 422
        assert "须说明理由" in await page.inner_text("[data-error-for='1.1.2']")
        assert await page.is_checked("[name='na.1.1.2']")
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='comment.1.1.1']") == "记录完整"
        assert await page.inner_text("[data-testid=running-total]") == "5.5"

        await page.fill("[name='na_reason.1.1.2']", "本支部无下属组织")
        await page.click("#pp-scoring button[type=submit]")
        await page.wait_for_selector("[data-testid=submitted]")
        view = (await client.as_("eva").get(f"/cycles/{key}/units/U1")).json()
        assert view["scored"] and view["scores"] == {"1.1.1": "5.5", "1.1.2": None}
        assert view["na_reasons"] == {"1.1.2": "本支部无下属组织"} and view["comments"] == {"1.1.1": "记录完整"}
    finally:
        await context.close()


async def test_a_representative_casts_a_ballot_on_a_phone(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "debrief")
    await with_password(client, "R1", "representative", None, "张代表")
    context, page = await new_page(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "R1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await open_task(page, "cast_ballot")
        await page.wait_for_url(re.compile(rf"/ballot/{key}/{COHORT}$"))
        assert await page.locator(".pp-secretary").count() == 2
        await page.fill("[name='score.U1']", "92")
        await page.fill("[name='score.U2']", "88")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await screenshot(page, "ballot-phone.png", tmp_path)
        await page.fill("[name='score.U1']", "101")
        async with page.expect_navigation() as nav:
            await page.click("[data-testid=ballot] button[type=submit]")
        assert (await nav.value).status == 422
        assert "须在 0–100 之间" in await page.inner_text(".pp-secretary:has([name='score.U1'])")
        assert await page.input_value("[name='score.U2']") == "88"
        await page.fill("[name='score.U1']", "95")

        await page.click("[data-testid=ballot] button[type=submit]")
        await page.click("[data-testid=confirm-yes]")  # the second look before a final action
        await page.wait_for_selector("[data-testid=ballot-done]")
        assert "已提交，谢谢" in await page.inner_text("[data-testid=ballot-done]")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        sessions = (await client.as_("R1").get(f"/cycles/{key}/debrief")).json()
        assert sessions[0]["cast_by_me"] is True
        assert (await client.as_("org").get(f"/cycles/{key}/debrief")).json()[0]["ballots"] == 1

        # A second visit: the sheet was cast already, no form.
        await page.goto(f"/ballot/{key}/{COHORT}")
        assert "已提交过" in await page.inner_text("[data-testid=ballot-done]")
        assert await page.locator("[data-testid=ballot]").count() == 0
    finally:
        await context.close()


async def test_a_unit_reads_its_results_acknowledges_feedback_and_reports_on_an_item(client, stack, browser, tmp_path):
    await cast(client)
    # A rectification share of 0.9, so U1's 1.1.2 (3.5/4 = 87.5%) is an item to report on.
    key = await small_cycle(client, "published", policy={"rectification_share": "0.9"})
    org = client.as_("org")
    assert (await org.post(f"/cycles/{key}/units/U1/feedback", json={"text": "请加强党员教育管理。"})).status_code == 200
    await with_password(client, "u1", "unit", "U1", "王晓红")
    grade = (await client.as_("u1").get(f"/cycles/{key}/results")).json()["units"]["U1"]
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await open_task(page, "acknowledge_feedback")
        await page.wait_for_url(re.compile(rf"/my/{key}/U1$"))
        result = await page.inner_text("[data-testid=result]")
        assert {"excellent": "优秀", "good": "良好", "average": "一般", "poor": "较差"}[grade["grade"]] in result
        assert grade["final_score"] in result
        assert "请加强党员教育管理。" in await page.inner_text("[data-testid=feedback]")
        await page.click("[data-testid=acknowledge]")
        await page.wait_for_selector("[data-testid=notice]")
        assert (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()["feedback"] == "acknowledged"

        # Completion without a text: the API's message beside the item.
        item = page.locator("[data-testid=item]").first
        async with page.expect_navigation() as nav:
            await item.locator("button[value=submit]").click()
        assert (await nav.value).status == 422
        assert await page.locator("[data-testid=item-error]").count() == 1

        # A progress report with an evidence file (the API's attachment store).
        item = page.locator("[data-testid=item]").first
        await item.locator("textarea[name=text]").fill("已召开专题组织生活会")
        await item.locator("input[type=file]").set_input_files(files=[{"name": "记录.txt", "mimeType": "text/plain", "buffer": "会议记录".encode()}])
        await item.locator("button[value=progress]").click()
        await page.wait_for_selector("[data-testid=notice]")
        items = (await client.as_("u1").get(f"/cycles/{key}/rectifications")).json()
        assert items[0]["status"] == "in_progress"
        report = items[0]["reports"][-1]
        assert report["text"] == "已召开专题组织生活会" and report["attachments"][0]["name"] == "记录.txt"
        assert "记录.txt" in await page.inner_text("[data-testid=item]")
        download = await page.request.get(f"/my/files/{report['attachments'][0]['sha256']}")
        assert download.status == 200 and (await download.body()) == "会议记录".encode()

        item = page.locator("[data-testid=item]").first
        await item.locator("textarea[name=text]").fill("整改完成")
        await item.locator("button[value=submit]").click()
        await page.wait_for_selector("[data-testid=notice]")
        assert "待核验" in await page.inner_text("[data-testid=item]")
    finally:
        await context.close()
