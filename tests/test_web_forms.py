"""Forms that keep work (issue 11, finding 3), in Debian's Chromium: every error of a sheet at once
beside its field, a live check of each score as it is typed (a number, not negative, within the
point's max), a running total of the valid scores only, drafts that keep the
valid values and come back on a reload — the scoring sheet's too — and the draft's time in
Beijing time, as the footer says, whatever the browser's own zone.

The stage is set through the JSON API (tests/helpers.py); what the pages stored is read back
through the API (the self-review draft) or the page itself (the evaluator's private draft).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, screenshot, sign_in
from tests.test_web_people import COHORT, PASSWORD, with_password

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

from tests.test_web import backend, browser  # noqa: E402,F401  (fixtures: one store, one browser per module)

BEIJING = timezone(timedelta(hours=8))


async def page_in(browser, stack, *, javascript: bool = True, width: int = 1280, height: int = 800):
    """A page whose browser clock is in UTC (the zone a server room or a laptop abroad may have)."""
    context = await browser.new_context(base_url=stack.api_url, viewport={"width": width, "height": height}, locale="zh-CN",
                                        timezone_id="UTC", java_script_enabled=javascript)
    return context, await context.new_page()


async def default_scheme_cycle(client) -> None:
    """Cycle d1 on the default scheme (43 points; 1.1.1 and 1.1.2 out of 3, 1.2.1 and 1.2.2 out of 4), self-review open."""
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": "d1", "year": 2026, "name": "2026年度党建工作考核", "schemes": {COHORT: "default"}})
    assert r.status_code == 201, r.text
    r = await org.post("/cycles/d1/units", json={"units": [{"key": "U1", "name": "第一支部", "org_type": COHORT}]})
    assert r.status_code == 201, r.text
    assert (await org.post("/cycles/d1/open")).status_code == 200


def error_of(page, code: str):
    return page.locator(f"[data-point='{code}'] .field-error")


async def test_every_bad_value_of_a_self_review_is_flagged_at_once_and_the_total_counts_only_valid_ones(client, stack, browser, tmp_path):
    await cast(client)
    await default_scheme_cycle(client)
    await with_password(client, "u1", "unit", "U1", "王晓红")
    context, page = await page_in(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto("/self-review/d1/U1")
        # Three bad values and one good one: each bad one is flagged beside itself as it is typed.
        await page.fill("[name='score.1.1.1']", "abc")
        await page.fill("[name='score.1.1.2']", "-1")
        await page.fill("[name='score.1.2.1']", "9")
        await page.fill("[name='score.1.2.2']", "2.5")
        assert await error_of(page, "1.1.1").inner_text() == "请输入数字"
        assert await error_of(page, "1.1.2").inner_text() == "分数不能为负数"
        assert await error_of(page, "1.2.1").inner_text() == "分数须在 0–4 之间"
        assert await error_of(page, "1.2.2").is_hidden()
        # The running total: 2.5 alone (not 9 − 1 + 2.5).
        assert await page.inner_text("[data-total]") == "2.5"
        # A good value typed next: no flag, the total takes it (three places are a score too, SPEC §4).
        await page.fill("[name='score.2.1.1']", "3.255")
        assert await error_of(page, "2.1.1").is_hidden()
        assert await page.inner_text("[data-total]") == "5.755"  # 2.5 + 3.255, exact (not rounded to cents)
        await screenshot(page, "self-review-live-check.png", tmp_path)

        # Submitted anyway: the server names every bad value beside its own field, keeps everything typed.
        async with page.expect_navigation() as nav:
            await page.click("#pp-self-review button[type=submit]")
        assert (await nav.value).status == 422
        assert "1.1.1 的得分不是有效数字" in await error_of(page, "1.1.1").inner_text()
        assert "要点 1.1.2 得分 -1 超出范围 0–3" in await error_of(page, "1.1.2").inner_text()
        assert "要点 1.2.1 得分 9 超出范围 0–4" in await error_of(page, "1.2.1").inner_text()
        assert await error_of(page, "1.2.2").is_hidden() and await error_of(page, "2.1.1").is_hidden()
        assert "尚未打分" in await error_of(page, "8.3.2").inner_text()  # the 38 points left blank, too
        assert await page.locator(".pp-point.pp-invalid").count() == 3 + 38
        assert "41 处需要修改" in await page.inner_text("[data-testid=form-error]")
        assert await page.input_value("[name='score.1.1.1']") == "abc"
        assert await page.input_value("[name='score.1.2.1']") == "9"
        assert await page.inner_text("[data-total]") == "5.755"  # the server's total counts the valid ones only
        view = (await client.as_("u1").get("/cycles/d1/units/U1")).json()
        assert view["self_review"] == "pending"

        # In English, the same checks in English only; the valid values of the refused sheet were kept as the draft.
        await page.goto("/self-review/d1/U1?lang=en")
        assert await page.input_value("[name='score.1.2.2']") == "2.5" and await page.input_value("[name='score.2.1.1']") == "3.255"
        await page.fill("[name='score.1.2.1']", "4.5")
        assert await error_of(page, "1.2.1").inner_text() == "The score must be between 0 and 4"
        await page.fill("[name='score.1.1.1']", "x")
        assert await error_of(page, "1.1.1").inner_text() == "Enter a number"
        async with page.expect_navigation():
            await page.click("#pp-self-review button[type=submit]")
        assert await error_of(page, "1.1.1").inner_text() == "the score of point 1.1.1 is not a number"
        assert "Not submitted: 41 field(s) to correct" in await page.inner_text("[data-testid=form-error]")  # 1.1.1, 1.2.1 and 39 blank
    finally:
        await context.close()


async def test_without_javascript_the_server_still_names_every_bad_value(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "self_review")
    await with_password(client, "u1", "unit", "U1", "王晓红")
    context, page = await page_in(browser, stack, javascript=False)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/self-review/{key}/U1")
        await page.fill("[name='score.1.1.1']", "7")
        await page.fill("[name='score.1.1.2']", "x")
        await page.fill("[name='evidence.1.1.1']", "支部委员会会议记录12份")
        await page.click("#pp-self-review button[type=submit]")
        await page.wait_for_selector("[data-testid=form-error]")
        assert "要点 1.1.1 得分 7 超出范围 0–6" in await error_of(page, "1.1.1").inner_text()
        assert "1.1.2 的得分不是有效数字" in await error_of(page, "1.1.2").inner_text()
        assert await page.inner_text("[data-total]") == "0"
        # No script ever saved a draft: the refused submission kept what was valid of it as one.
        await page.goto(f"/self-review/{key}/U1")
        assert await page.input_value("[name='evidence.1.1.1']") == "支部委员会会议记录12份"
        assert await page.input_value("[name='score.1.1.1']") == ""
    finally:
        await context.close()


async def test_a_self_review_draft_keeps_the_valid_values_says_which_not_and_shows_beijing_time(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "self_review")
    await with_password(client, "u1", "unit", "U1", "王晓红")
    context, page = await page_in(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/self-review/{key}/U1")
        await page.fill("[name='evidence.1.1.2']", "支部委员会会议记录12份")
        await page.fill("[name='score.1.1.1']", "5.5")
        await page.fill("[name='score.1.1.2']", "9")  # above 1.1.2's max 4
        status = page.locator("[data-testid=draft-status]")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('1 项未保存')")
        now = datetime.now(BEIJING)
        shown = await status.inner_text()
        # Beijing time, though the browser's clock is in UTC (8 hours behind).
        assert any((now + timedelta(minutes=d)).strftime("%H:%M") in shown for d in (-1, 0, 1)), shown
        assert "北京时间" in shown
        assert "未存入草稿：要点 1.1.2 得分 9 超出范围 0–4" in await error_of(page, "1.1.2").inner_text()
        draft = (await client.as_("u1").get(f"/cycles/{key}/units/U1")).json()["draft"]
        assert draft["scores"] == {"1.1.1": "5.5"} and draft["evidence"] == {"1.1.2": "支部委员会会议记录12份"}

        # A reload shows the saved draft (the valid values), and when it was saved, in Beijing time.
        await page.reload()
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='score.1.1.2']") == ""
        assert await page.input_value("[name='evidence.1.1.2']") == "支部委员会会议记录12份"
        shown = await status.inner_text()
        assert any((now + timedelta(minutes=d)).strftime("%Y-%m-%d %H:%M") in shown for d in (-1, 0, 1, 2)), shown
        assert await page.inner_text("[data-total]") == "5.5"
    finally:
        await context.close()


async def test_the_draft_time_is_beijing_time_when_the_browser_clock_is_utc(client, stack, browser):
    """The footer says every time is Beijing time: so does "draft saved", whatever the browser's zone."""
    await cast(client)
    key = await small_cycle(client, "self_review")
    await with_password(client, "u1", "unit", "U1", "王晓红")
    context, page = await page_in(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/self-review/{key}/U1")
        await page.fill("[name='score.1.1.1']", "5")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('已保存草稿')")
        now = datetime.now(BEIJING)
        shown = await page.inner_text("[data-testid=draft-status]")
        assert any((now + timedelta(minutes=d)).strftime("%H:%M") in shown for d in (-1, 0, 1)), shown
        utc = now.astimezone(timezone.utc).strftime("%H:%M")
        assert utc not in shown, shown
        assert "北京时间" in await page.inner_text("footer")
    finally:
        await context.close()


async def test_the_scoring_sheet_checks_as_typed_and_keeps_a_private_draft_across_a_reload(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "scoring")
    await with_password(client, "eva", "evaluator", None, "李考核")
    context, page = await page_in(browser, stack)
    try:
        await sign_in(page, "eva", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/scoring/{key}/U1")
        await page.fill("[name='score.1.1.1']", "7")
        assert await error_of(page, "1.1.1").inner_text() == "分数须在 0–6 之间"
        assert await page.inner_text("[data-testid=running-total]") == "0"
        await page.fill("[name='score.1.1.1']", "5.5")
        assert await error_of(page, "1.1.1").is_hidden()
        await page.fill("[name='comment.1.1.1']", "记录完整")
        await page.check("[name='na.1.1.2']")
        await page.fill("[name='na_reason.1.1.2']", "本支部无下属组织")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('已保存草稿')")
        assert await page.inner_text("[data-testid=running-total]") == "5.5"

        # A reload: the sheet as the evaluator left it.
        await page.reload()
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='comment.1.1.1']") == "记录完整"
        assert await page.is_checked("[name='na.1.1.2']")
        assert await page.input_value("[name='na_reason.1.1.2']") == "本支部无下属组织"
        assert await page.inner_text("[data-testid=running-total]") == "5.5"
        assert "北京时间" in await page.inner_text("[data-testid=draft-status]")

        # A bad value is not kept; the good ones are, and the page says which.
        await page.uncheck("[name='na.1.1.2']")
        await page.fill("[name='score.1.1.2']", "-2")
        assert await error_of(page, "1.1.2").inner_text() == "分数不能为负数"
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('1 项未保存')")
        assert "未存入草稿" in await error_of(page, "1.1.2").inner_text()
        await screenshot(page, "scoring-draft.png", tmp_path)
        await page.reload()
        assert await page.input_value("[name='score.1.1.1']") == "5.5"
        assert await page.input_value("[name='score.1.1.2']") == ""
        assert not await page.is_checked("[name='na.1.1.2']")

        # The draft is the evaluator's own: the unit's view shows no scores yet; submitting spends it.
        view = (await client.as_("org").get(f"/cycles/{key}/units/U1")).json()
        assert view["scored"] is False and not view.get("scores")
        await page.fill("[name='score.1.1.2']", "3")
        await page.click("#pp-scoring button[type=submit]")
        await page.wait_for_selector("[data-testid=submitted]")
        view = (await client.as_("eva").get(f"/cycles/{key}/units/U1")).json()
        assert view["scores"] == {"1.1.1": "5.5", "1.1.2": "3"} and view["comments"] == {"1.1.1": "记录完整"}
    finally:
        await context.close()


@pytest.mark.parametrize("typed, message", [("abc", "请输入数字"), ("-5", "分数不能为负数"), ("120", "分数须在 0–100 之间")])
async def test_the_phone_ballot_flags_non_numbers_negatives_and_scores_above_100_as_typed(client, stack, browser, typed, message):
    await cast(client)
    key = await small_cycle(client, "debrief")
    await with_password(client, "R1", "representative", None, "张代表")
    context, page = await page_in(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "R1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/ballot/{key}/{COHORT}")
        await page.fill("[name='score.U1']", typed)
        row = page.locator(".pp-secretary:has([name='score.U1'])")
        assert await row.locator(".field-error").inner_text() == message
        assert await row.get_attribute("class") and "pp-invalid" in (await row.get_attribute("class"))
        await page.fill("[name='score.U1']", "95")
        assert await row.locator(".field-error").is_hidden()

        # The ballot by code (/b/{code}) checks the same way.
        issued = (await client.as_("org").post(f"/cycles/{key}/debrief/{COHORT}/codes", json={"representatives": ["R2"]})).json()
        code = issued["codes"][0]["code"]
        await page.goto(f"/b/{code}")
        await page.fill("[name='score.U2']", typed)
        row = page.locator(".pp-secretary:has([name='score.U2'])")
        assert await row.locator(".field-error").inner_text() == message
    finally:
        await context.close()
