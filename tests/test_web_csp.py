"""The pages under the strict Content-Security-Policy (issue 12, gap 6) in Debian's Chromium.

Every browser test of the suite watches for refusals (tests/csp_watch.py, checked by
tests/conftest.py); here: the watch itself catches one, the policy is really enforced (an
inline script does not run), and the interactive pages whose script used to be inline or that
lean on their static files still work under it: the self-review's live check and autosave
(static/sheet.js), the evaluator's N/A (static/scoring.js), the ballot's abstention and live
check, the organizer's bonus-cap warning (static/adjust.js), the results chart (ECharts, no
eval; static/results_chart.js) and its sortable, searchable table (static/sort.js)."""

from __future__ import annotations

import asyncio
import re

import pytest

from api.security import PAGE_CSP
from tests import csp_watch
from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, new_page, sign_in

PASSWORD = "csp-web-pass-2026"
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


async def visit(page, path: str):
    """Open a page and check that it came with the page policy."""
    response = await page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert await response.header_value("content-security-policy") == PAGE_CSP, path
    return response


async def test_the_policy_refuses_an_inline_script_and_the_watch_sees_it(client, stack, browser):
    """Today's main sends no policy: the injected script runs and nothing is refused."""
    context, page = await new_page(browser, stack)
    try:
        await visit(page, "/login")
        await page.evaluate("""() => { const s = document.createElement("script");  // as an injected <script> would
            s.textContent = "window.kaoheInjected = 1;"; document.body.appendChild(s); }""")
        await page.evaluate("() => new Promise(r => setTimeout(r, 100))")
        assert await page.evaluate("window.kaoheInjected === undefined")  # refused: it did not run
        assert any("script-src" in v for v in csp_watch.VIOLATIONS), csp_watch.VIOLATIONS
    finally:
        await context.close()
        csp_watch.VIOLATIONS.clear()  # expected here; any other test fails on one (tests/conftest.py)


async def test_the_interactive_pages_work_under_the_policy(client, stack, browser):
    await cast(client)
    for who, role, unit in (("u1", "unit", "U1"), ("eva", "evaluator", None), ("R1", "representative", None),
                            ("org", "organizer", None), ("com", "committee", None)):
        await with_password(client, who, role, unit)
    sr = await small_cycle(client, "self_review", key="csp-sr")
    sc = await small_cycle(client, "scoring", key="csp-sc")
    db = await small_cycle(client, "debrief", key="csp-db")
    adj = await small_cycle(client, "adjustments", key="csp-adj")
    pub = await small_cycle(client, "published", key="csp-pub")

    # The unit's self-review: the running total, the live check and the autosaved draft (static/sheet.js).
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await visit(page, f"/self-review/{sr}/U1")
        await page.fill("[name='score.1.1.1']", "5.5")
        await page.fill("[name='score.1.1.2']", "3")
        await page.wait_for_function("() => document.querySelector('[data-testid=self-review] [data-total]').textContent.trim().startsWith('8.5')")
        await page.wait_for_function("() => document.querySelector('[data-testid=draft-status]').textContent.includes('已保存草稿')")
        await page.fill("[name='score.1.1.1']", "99")  # past the point's maximum: said beside it at once
        await page.locator("[name='score.1.1.1']").blur()
        await page.wait_for_function("() => document.querySelector('[name=\"score.1.1.1\"]').getAttribute('aria-invalid') === 'true'")
    finally:
        await context.close()

    # The evaluator's sheet: ticking N/A shows the reason box and makes the score read-only (static/scoring.js).
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "eva", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await visit(page, f"/scoring/{sc}/U1")
        await page.check("[name='na.1.1.2']")
        assert await page.locator("[name='na_reason.1.1.2']").is_visible()
        assert await page.locator("[name='score.1.1.2']").evaluate("e => e.readOnly")
    finally:
        await context.close()

    # The ballot: a score past 100 is told as it is typed; an abstention, confirmed, goes through.
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "R1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await visit(page, f"/ballot/{db}/{COHORT}")
        await page.fill("[name='score.U1']", "101")
        await page.locator("[name='score.U1']").blur()
        await page.wait_for_function("() => document.querySelector('[name=\"score.U1\"]').getAttribute('aria-invalid') === 'true'")
        await page.fill("[name='score.U1']", "90")
        await page.check("[data-testid=abstain-U2]")
        await page.click("[data-testid=ballot] button[type=submit]")
        await page.locator("[data-testid=confirm-ballot]").wait_for()  # the confirmation page
        assert await page.locator("[data-testid=confirm-items] li").all_inner_texts() == ["第一支部：90 分", "第二支部：弃权"]
        await page.click("[data-testid=confirm-yes]")
        await page.wait_for_selector("[data-testid=ballot-done]")
    finally:
        await context.close()

    # The organizer's console: the bonus-cap warning as it is typed (static/adjust.js).
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await visit(page, f"/org/cycles/{adj}")
        form = page.locator("[data-testid=adjust-form]")
        await form.locator("#adj-unit").select_option("U1")
        await form.locator("#adj-kind").select_option("bonus")
        await form.locator("#adj-points").fill("5")
        await form.locator("[data-testid=cap-live]").wait_for(state="visible")
        assert "只计 3 分" in await form.locator("[data-testid=cap-live]").inner_text()
        assert await page.locator(".bar [class^=pct-]").count() > 0  # the progress bars, drawn without style=""
        for bar in await page.locator(".bar [class^=pct-]").all():  # as long as its class says, of the bar's width
            percent, ratio = await bar.evaluate("e => [parseInt(e.className.slice(4)), e.getBoundingClientRect().width / e.parentNode.getBoundingClientRect().width]")
            assert abs(ratio * 100 - percent) < 1, (percent, ratio)
    finally:
        await context.close()

    # The published results: the chart draws (ECharts, no eval), the table sorts and filters (static/sort.js).
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "com", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await visit(page, f"/results/{pub}")
        await page.wait_for_selector("#ov-chart[data-rendered='1'] canvas")
        box = await page.locator("#ov-chart canvas").first.bounding_box()
        await page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)  # the tooltip, drawn on the canvas
        final = page.locator("[data-testid=results] thead th", has_text="总分 F")
        await final.click()
        assert await final.get_attribute("aria-sort") == "ascending"
        first = await page.locator("[data-testid=results] tbody tr").first.get_attribute("data-unit")
        await final.click()
        assert await final.get_attribute("aria-sort") == "descending"
        assert await page.locator("[data-testid=results] tbody tr").first.get_attribute("data-unit") != first
        await page.fill("[data-testid=results-search]", "第二")
        assert await page.locator("[data-testid=results] tbody tr:visible").count() == 1
        await asyncio.sleep(0.2)  # a late refusal (the tooltip) reaches the watch before the page closes
    finally:
        await context.close()
