"""Final actions take a second look, and a stage closed early reports what really happened
(issue 11, finding 2), in Debian's Chromium against the real stack.

- Closing self-review with 7 of 8 units not submitted first says so, naming the 7; progress then
  counts 1 submitted and 7 not submitted apart, and the 7 read "未提交（阶段已结束）", not
  "逾期未交" (their deadline has not passed).
- A unit that saved only a draft is told it did not submit, and sees its draft read-only.
- Submitting a self-review, a ballot sheet (by account and by code), approving and publishing,
  issuing feedback: each shows what will happen and runs only when confirmed.
- A ballot sheet scores or abstains for every secretary: a blank row is refused, named, on the
  page, on the phone ballot and in the API (422 ``scores.<unit>``); an abstention counts in no mean.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Client
from tests.helpers import TINY_SCHEME, cast, small_cycle
from tests.test_web import CHROMIUM, new_page, screenshot, sign_in

PASSWORD = "confirm-web-pass-2026"
COHORT = "grassroots_branch"
NAMES = ["第一支部", "第二支部", "第三支部", "第四支部", "第五支部", "第六支部", "第七支部", "第八支部"]

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

from tests.test_web import backend, browser  # noqa: E402,F401  (fixtures: one store, one browser per module)


async def with_password(client: Client, username: str, role: str, unit: str | None = None, name: str | None = None) -> None:
    r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD, "display_name": name})
    assert r.status_code == 200, r.text
    await client.login(username, PASSWORD)


async def eight_units(client: Client, key: str = "eight") -> str:
    """A cycle of eight units in self-review, its deadline far ahead: U1 submits, U2 saves a draft only."""
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": key, "year": 2026, "name": "八个支部", "schemes": {COHORT: TINY_SCHEME}})
    assert r.status_code == 201, r.text
    units = [{"key": f"U{i + 1}", "name": n, "org_type": COHORT} for i, n in enumerate(NAMES)]
    assert (await org.post(f"/cycles/{key}/units", json={"units": units})).status_code == 201
    assert (await org.post(f"/cycles/{key}/open")).status_code == 200
    r = await org.put(f"/cycles/{key}/deadlines/self_review", json={"deadline": "2099-12-31T18:00:00+08:00"})
    assert r.status_code == 200, r.text
    r = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
    assert r.status_code == 200, r.text
    r = await client.as_("u2").put(f"/cycles/{key}/units/U2/self-review/draft",
                                   json={"scores": {"1.1.1": "4"}, "evidence": {"1.1.1": "支部会议记录"}})
    assert r.status_code == 200, r.text
    assert (await org.post(f"/cycles/{key}/stages/scoring/open")).status_code == 200
    return key


async def test_closing_self_review_early_says_who_has_not_submitted_and_reports_them_apart(client, stack, browser, tmp_path):
    await cast(client)
    key = await eight_units(client)
    await with_password(client, "org", "organizer", None, "组织部李干事")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}")
        await page.click("[data-testid=close-self_review]")
        # The second look: what will happen, the seven named; nothing closed yet.
        confirm = page.locator("[data-testid=confirm-close]")
        await confirm.wait_for()
        summary = await confirm.inner_text()
        assert "7 个单位未提交，将记为未提交（阶段已结束）" in summary
        assert "1 / 8 个单位已提交自评" in summary
        items = await page.locator("[data-testid=confirm-items] li").all_inner_texts()
        assert items == [f"{n}（U{i + 2}）" for i, n in enumerate(NAMES[1:])]
        assert "第一支部" not in "".join(items)
        assert (await client.as_("org").get(f"/cycles/{key}")).json()["stages"]["self_review"] == "open"
        await screenshot(page, "confirm-close-self-review.png", tmp_path)

        # Going back leaves it open; confirming closes it.
        await page.click("[data-testid=confirm-back]")
        await page.wait_for_url(re.compile(rf"/org/cycles/{key}"))
        assert await page.inner_text("[data-testid=state-self_review]") == "进行中"
        await page.click("[data-testid=close-self_review]")
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=notice]")
        assert (await client.as_("org").get(f"/cycles/{key}")).json()["stages"]["self_review"] == "closed"

        # Progress: 1 submitted, 7 not submitted, never "8 / 8 已完成".
        progress = await page.inner_text("[data-testid=progress-self_review]")
        assert "1 / 8 已提交" in progress and "7 个未提交" in progress, progress
        assert "8 / 8" not in progress and "已完成" not in progress
        assert await page.get_attribute("[data-testid=progress-self_review] [role=progressbar]", "aria-valuenow") == "1"
        # Closed before the deadline: not submitted (stage closed), not overdue.
        rows = page.locator("[data-testid=units] tbody tr")
        assert await rows.count() == 8
        assert "已提交" in await rows.nth(0).inner_text()
        for i in range(1, 8):
            text = await rows.nth(i).inner_text()
            assert "未提交（阶段已结束）" in text and "逾期" not in text, text
        # The cycle page counts them the same way.
        await page.goto(f"/cycles/{key}")
        assert "1 / 8 已提交 · 7 个未提交" in await page.inner_text("[data-testid=stages]")
        assert "逾期未交" not in await page.inner_text("main")
    finally:
        await context.close()


async def test_a_unit_that_saved_only_a_draft_is_told_it_did_not_submit(client, stack, browser, tmp_path):
    await cast(client)
    key = await eight_units(client)
    assert (await client.as_("org").post(f"/cycles/{key}/stages/self_review/close")).status_code == 200  # the API asks nothing
    await with_password(client, "u2", "unit", "U2", "第二支部书记")
    # Told it did not submit (the stage closed before its deadline), its draft shown read-only.
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u2", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/self-review/{key}/U2")
        banner = page.locator("[data-testid=not-submitted]")
        assert "本单位未提交自评" in await banner.inner_text()
        assert "已记为未提交（阶段已结束）" in await banner.inner_text()
        assert "草稿（只读）" in await banner.inner_text()
        assert await page.locator("[data-testid=submitted]").count() == 0
        assert "已提交" not in await page.inner_text("main")
        assert await page.input_value("[name='score.1.1.1']") == "4"
        assert await page.input_value("[name='evidence.1.1.1']") == "支部会议记录"
        assert await page.get_attribute("[name='score.1.1.1']", "readonly") is not None
        await screenshot(page, "self-review-not-submitted.png", tmp_path)
        assert await page.locator("#pp-self-review button[type=submit]").count() == 0
        await page.goto(f"/cycles/{key}/units/U2")
        assert await page.inner_text("[data-testid=self-review-state]") == "未提交（阶段已结束）"
    finally:
        await context.close()


async def test_submitting_a_self_review_asks_first_and_going_back_keeps_what_was_typed(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "self_review")
    await with_password(client, "u1", "unit", "U1", "王晓红")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/self-review/{key}/U1")
        await page.fill("[name='score.1.1.1']", "5.5")
        await page.fill("[name='score.1.1.2']", "3")
        await page.fill("[name='evidence.1.1.2']", "会议记录12份")
        await page.click("#pp-self-review button[type=submit]")
        confirm = page.locator("[data-testid=confirm-self-review]")
        await confirm.wait_for()
        assert "共 2 个评分点，已填 2 个，自评合计 8.5 / 10 分" in await confirm.inner_text()
        assert "提交后不能修改" in await confirm.inner_text()
        assert (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()["self_review"] == "pending"

        await page.click("[data-testid=confirm-back]")
        await page.wait_for_selector("#pp-self-review")
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='evidence.1.1.2']") == "会议记录12份"
        assert (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()["self_review"] == "pending"

        await page.click("#pp-self-review button[type=submit]")
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=submitted]")
        view = (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()
        assert view["self_review"] == "submitted" and view["self_scores"] == {"1.1.1": "5.5", "1.1.2": "3"}
    finally:
        await context.close()


async def test_a_ballot_with_a_blank_row_is_refused_named_and_an_abstention_is_confirmed(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "debrief")  # roster R1, R2, R3; secretaries U1 第一支部, U2 第二支部
    await with_password(client, "R1", "representative", None, "张代表")
    url = f"/cycles/{key}/debrief/{COHORT}"

    # The API: a sheet that leaves U2 out is refused, naming U2; nothing is cast.
    r = await client.as_("R3").post(f"{url}/ballots", json={"scores": {"U1": "90"}})
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("ballot_incomplete", "scores.U2"), r.text
    assert "U2" in r.json()["message"]

    context, page = await new_page(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "R1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/ballot/{key}/{COHORT}")
        await page.fill("[name='score.U1']", "90")
        async with page.expect_navigation() as nav:
            await page.click("[data-testid=ballot] button[type=submit]")
        assert (await nav.value).status == 422
        row = page.locator(".pp-secretary[data-unit=U2]")
        assert "未给第二支部打分，也未勾选弃权" in await row.inner_text()
        assert "评议表不完整：第二支部既未打分也未弃权" in await page.inner_text("[data-testid=form-error]")
        assert await page.input_value("[name='score.U1']") == "90"
        assert (await client.as_("org").get(url)).json()["ballots"] == 0
        await screenshot(page, "ballot-blank-row-phone.png", tmp_path)

        # Abstain for U2: the confirmation lists the sheet row by row.
        await page.check("[data-testid=abstain-U2]")
        await page.click("[data-testid=ballot] button[type=submit]")
        confirm = page.locator("[data-testid=confirm-ballot]")
        await confirm.wait_for()
        assert await page.locator("[data-testid=confirm-items] li").all_inner_texts() == ["第一支部：90 分", "第二支部：弃权"]
        await screenshot(page, "ballot-confirm-phone.png", tmp_path)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        assert (await client.as_("org").get(url)).json()["ballots"] == 0
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=ballot-done]")
        sheet = stack.app.sheet(key, COHORT, "R1")
        assert sheet is not None and sheet.scores == {"U1": "90"}  # the abstention is no score
    finally:
        await context.close()

    # The phone ballot of a code: the same check, then the same confirmation.
    issued = (await client.as_("org").post(f"{url}/codes", json={"representatives": ["R2"]})).json()
    code = issued["codes"][0]["code"]
    context, page = await new_page(browser, stack, width=390, height=844)
    try:
        await page.goto(f"/b/{code}")
        await page.fill("[name='score.U2']", "80")
        async with page.expect_navigation() as nav:
            await page.click("[data-testid=ballot] button[type=submit]")
        assert (await nav.value).status == 422
        assert "未给第一支部打分，也未勾选弃权" in await page.inner_text(".pp-secretary[data-unit=U1]")
        await page.fill("[name='score.U1']", "70")
        await page.click("[data-testid=ballot] button[type=submit]")
        await page.locator("[data-testid=confirm-ballot]").wait_for()
        assert stack.app.sheet(key, COHORT, "R2") is None
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=ballot-done]")
        assert stack.app.sheet(key, COHORT, "R2").scores == {"U1": "70", "U2": "80"}
    finally:
        await context.close()


async def test_approving_and_issuing_feedback_ask_first(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "allocation", policy={"committee_quorum": 1})
    await with_password(client, "com", "committee", None, "党委委员")
    await with_password(client, "org", "organizer", None, "组织部李干事")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "com", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/committee/{key}/allocation")
        await page.fill("#decision-reason", "同意")
        for name, value in (("meeting_date", "2026-03-20"), ("minute_number", "党委会〔2026〕3号")):
            field = page.locator(f"#decision [name={name}]")
            if await field.count():
                await field.fill(value)
        await page.click("[data-testid=approve]")
        confirm = page.locator("[data-testid=confirm-approve]")
        await confirm.wait_for()
        text = await confirm.inner_text()
        assert "将按下列等次发布 2 个单位的考核结果" in text and "发布后" in text
        assert (await client.as_("org").get(f"/cycles/{key}")).json()["status"] != "published"
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_url(re.compile(rf"/results/{key}\?done=approve$"))
        assert (await client.as_("org").get(f"/cycles/{key}")).json()["status"] == "published"
    finally:
        await context.close()

    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}/units/U1/feedback")
        await page.fill("[data-testid=feedback-form] textarea[name=text]", "请加强党员教育管理。")
        await page.click("[data-testid=feedback-form] button[value=issue]")
        confirm = page.locator("[data-testid=confirm-feedback]")
        await confirm.wait_for()
        assert "将向第一支部下发考核反馈" in await confirm.inner_text()
        assert (await client.as_("org").get(f"/cycles/{key}/units/U1")).json()["feedback"] == "none"
        await page.click("[data-testid=confirm-back]")
        assert await page.input_value("[data-testid=feedback-form] textarea[name=text]") == "请加强党员教育管理。"
        await page.click("[data-testid=feedback-form] button[value=issue]")
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=notice]")
        view = (await client.as_("org").get(f"/cycles/{key}/units/U1")).json()
        assert view["feedback"] == "issued" and view["feedback_text"] == "请加强党员教育管理。"
    finally:
        await context.close()
