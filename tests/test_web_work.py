"""Issue 11 §6, "what the work needs", in Debian's Chromium: the evaluator's sheet shows the
unit's evidence text and the scheme's criterion per point; a bonus above the policy's cap is
told, as it is typed and after filing, that only the cap counts (SPEC §5: B = min(Σ, cap));
rectification items say what was found, from the points below the policy's share of their max.

The stage is set through the JSON API (tests/helpers.py); the role under test works through its
pages."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, new_page, screenshot, sign_in

PASSWORD = "work-web-pass-2026"
COHORT = "grassroots_branch"

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

from tests.test_web import backend, browser  # noqa: E402,F401  (fixtures: one store, one browser per module)


async def with_password(client: Client, username: str, role: str, unit: str | None = None) -> None:
    r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD})
    assert r.status_code == 200, r.text
    await client.login(username, PASSWORD)


async def test_the_evaluator_sees_the_units_evidence_and_the_criterion_of_each_point(client, stack, browser, tmp_path):
    await cast(client)
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": "crit", "year": 2026, "name": "2026年度党建工作考核", "schemes": {COHORT: "default"}})
    assert r.status_code == 201, r.text
    r = await org.post("/cycles/crit/units", json={"units": [{"key": "U1", "name": "第一支部", "org_type": COHORT}]})
    assert r.status_code == 201, r.text
    assert (await org.post("/cycles/crit/open")).status_code == 200
    # The unit self-scores every point of the default scheme, with evidence text at two of them.
    from domain.scheme import default_scheme

    scores = {p.code: str(p.max) for p in default_scheme().points}
    evidence = {"4.3.3": "党费收缴台账 12 个月，\n使用明细经支委会审议", "1.1.1": "第一议题学习记录 24 次"}
    r = await client.as_("u1").post("/cycles/crit/units/U1/self-review", json={"scores": scores, "evidence": evidence})
    assert r.status_code == 200, r.text
    assert (await org.post("/cycles/crit/stages/scoring/open")).status_code == 200
    await with_password(client, "eva", "evaluator")

    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "eva", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto("/scoring/crit/U1")
        point = page.locator("[data-point='4.3.3']")
        # The unit's evidence text beside its self-score, as the unit wrote it.
        assert await point.locator("[data-testid='self-4.3.3']").inner_text() == "2"
        shown = point.locator("[data-testid='evidence-4.3.3']")
        assert await shown.is_visible()
        assert "单位佐证说明" in await shown.inner_text()
        assert "党费收缴台账 12 个月，\n使用明细经支委会审议" in await shown.inner_text()
        assert "第一议题学习记录 24 次" in await page.inner_text("[data-testid='evidence-1.1.1']")
        # A point without evidence says so, instead of leaving the evaluator to guess.
        assert "单位未填写佐证说明" in await page.inner_text("[data-testid='evidence-2.1.1']")
        # The scheme's criterion per point, under its name: all 43 of the default scheme.
        assert await page.locator("[data-testid^='criteria-']").count() == 43
        criterion = await point.locator("[data-testid='criteria-4.3.3']").inner_text()
        assert "评分标准" in criterion and "党费按标准足额按时收缴" in criterion
        await screenshot(page, "scoring-criteria-evidence.png", tmp_path, full_page=False)

        # In English: the criterion in English, the labels in English, the unit's words as written.
        await page.goto("/scoring/crit/U1?lang=en")
        criterion = await page.inner_text("[data-testid='criteria-4.3.3']")
        assert "Scoring criterion" in criterion and "Dues are collected in full" in criterion and "党费" not in criterion
        shown = await page.inner_text("[data-testid='evidence-4.3.3']")
        assert "Unit's evidence" in shown and "党费收缴台账" in shown
        assert "The unit gave no evidence text" in await page.inner_text("[data-testid='evidence-2.1.1']")
    finally:
        await context.close()


async def test_a_bonus_above_the_cap_is_told_that_only_the_cap_counts(client, stack, browser, tmp_path):
    # SPEC §5: B = min(Σ approved bonus points, bonus_cap); the policy's cap here is the default 3.
    await cast(client)
    key = await small_cycle(client, "adjustments", key="cap")
    await with_password(client, "org", "organizer")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}")
        form = page.locator("[data-testid=adjust-form]")
        live = form.locator("[data-testid=cap-live]")
        await form.locator("#adj-unit").select_option("U1")
        await form.locator("#adj-kind").select_option("bonus")
        await form.locator("#adj-points").fill("3")
        assert await live.is_hidden()  # at the cap: all of it counts
        await form.locator("#adj-points").fill("5")
        await live.wait_for(state="visible")
        assert await live.inner_text() == "加分上限为 3 分：该单位加分合计将为 5 分（含已批准和待审定的），超出部分不计入，只计 3 分。"
        await form.locator("#adj-kind").select_option("downgrade")
        assert await live.is_hidden()  # a downgrade has no cap
        await form.locator("#adj-kind").select_option("bonus")
        await form.locator("#adj-reason").fill("获评省级先进基层党组织")
        async with page.expect_navigation():
            await form.locator("button[type=submit]").click()
        # Filed: the row says what will count, and so does the committee's card.
        row = page.locator("[data-testid=adjustments] tbody tr", has_text="获评省级先进基层党组织")
        assert "若批准，该单位已批准的加分合计 5 分，超过加分上限 3 分，只计 3 分。" in await row.inner_text()
        # A second bonus of 1 for U1 while 5 is pending: typed, the live sum counts the pending one.
        await page.locator("#adj-unit").select_option("U1")
        await page.locator("#adj-kind").select_option("bonus")
        await page.locator("#adj-points").fill("1")
        await page.locator("[data-testid=cap-live]").wait_for(state="visible")
        assert "合计将为 6 分" in await page.inner_text("[data-testid=cap-live]")
        # U2 has no bonus yet: 2 points stay under the cap, no word.
        await page.locator("#adj-unit").select_option("U2")
        await page.locator("#adj-points").fill("2")
        assert await page.locator("[data-testid=cap-live]").is_hidden()
        await screenshot(page, "bonus-cap-warning.png", tmp_path)
    finally:
        await context.close()

    await with_password(client, "com", "committee")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "com", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/committee/{key}/adjustments")
        card = page.locator("[data-testid=pending-adjustments] article[data-unit=U1]")
        warning = card.locator("[data-testid=cap-warning]")
        assert await warning.inner_text() == "若批准，该单位已批准的加分合计 5 分，超过加分上限 3 分，只计 3 分。"
        await page.goto(f"/committee/{key}/adjustments?lang=en")
        assert await page.locator("[data-testid=pending-adjustments] [data-testid=cap-warning]").inner_text() == (
            "If approved, this unit's approved bonuses total 5 points, above the cap of 3: only 3 will count.")
    finally:
        await context.close()


async def test_rectification_items_say_what_was_found_below_the_share(client, stack, browser, tmp_path):
    # small_cycle's scores, default share 0.80: U1 1.1.1 6/6, 1.1.2 3.5/4 = 87.5% → no item;
    # U2 1.1.1 5/6 = 83.3% → none, 1.1.2 3/4 = 75.0% → the one item, worded as found.
    await cast(client)
    key = await small_cycle(client, "published", key="found")
    org = client.as_("org")
    for unit in ("U1", "U2"):
        assert (await org.post(f"/cycles/{key}/units/{unit}/feedback", json={"text": ""})).status_code == 200
    await with_password(client, "u2", "unit", "U2")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u2", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/my/{key}/U2")
        items = page.locator(".pp-item-desc")
        assert await items.count() == 1
        assert await items.first.inner_text() == "1.1.2 「要点二」得分 3.00/4（75.0%），低于 80% 的要求"
    finally:
        await context.close()
    assert (await client.as_("u1").get(f"/cycles/{key}/rectifications")).json() == []


async def test_the_organizer_sets_the_rectification_share_of_a_new_cycle(client, stack, browser, tmp_path):
    await cast(client)
    await with_password(client, "org", "organizer")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto("/org/cycles/new")
        field = "[id='policy.rectification_share']"
        assert await page.input_value(field) == "0.80"  # the default: 80% of a point's max
        assert "整改线" in await page.inner_text("label[for='policy.rectification_share']")
        await page.fill("#key", "line")
        await page.fill("#name", "整改线测试")
        await page.fill(field, "1.5")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field='policy.rectification_share']")
        assert "整改得分率须在 0 到 1 之间" in await page.inner_text("[data-field='policy.rectification_share']")
        assert await page.input_value(field) == "1.5"
        await page.fill(field, "0.7")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_url(re.compile(r"/org/cycles/line/units\?created=1$"))
    finally:
        await context.close()
    cycle = (await client.as_("org").get("/cycles/line")).json()
    assert cycle["policy"]["rectification_share"] == "0.7"
