"""Long tables elsewhere, in a real browser on the real stack: the results ranking sorts by any
column (in the browser: at most a few hundred rows), and the audit timeline is paged on the
server with a search beside its type filter, everything in the URL."""

from __future__ import annotations

import re

import pytest

from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, browser  # noqa: F401 - the browser fixture
from tests.test_web_oversight import signed_in, with_password

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def order(page) -> list[str]:
    return await page.eval_on_selector_all("[data-testid=results] tbody tr", "rs => rs.map(r => r.dataset.unit)")


async def test_the_results_ranking_sorts_by_a_column_either_way(client, stack, browser):  # noqa: F811
    await cast(client)
    key = await small_cycle(client, "published")
    await with_password(client, "com")
    context, page = await signed_in(browser, stack, "com")
    try:
        await page.goto(f"/results/{key}")
        assert await order(page) == ["U1", "U2"]  # by rank: U1 has F 94.40, U2 81.50
        final = page.locator("[data-testid=results] thead th:nth-child(4)")  # F
        await final.click()
        assert await order(page) == ["U2", "U1"]  # lowest final score first
        assert await final.get_attribute("aria-sort") == "ascending"
        await final.click()
        assert await order(page) == ["U1", "U2"]
        assert await final.get_attribute("aria-sort") == "descending"
        await page.locator("[data-testid=results] thead th:nth-child(6)").click()  # W
        assert await order(page) == ["U2", "U1"]  # W: U2 80.00 < U1 95.00
        # and searched as typed: the rows that do not match are hidden
        await page.fill("[data-testid=results-search]", "第二")
        assert await page.is_hidden("[data-testid=results] tr[data-unit=U1]")
        assert await page.is_visible("[data-testid=results] tr[data-unit=U2]")
    finally:
        await context.close()


async def test_the_audit_timeline_is_paged_with_a_search_and_a_type_filter_in_the_url(client, stack, browser):  # noqa: F811
    await cast(client)
    key = await small_cycle(client, "published")
    await with_password(client, "aud")
    everything = (await client.as_("aud").get(f"/audit/cycles/{key}/timeline")).json()
    assert len(everything) > 20  # two pages of 20
    context, page = await signed_in(browser, stack, "aud")
    try:
        await page.goto(f"/audit/{key}")
        rows = page.locator("[data-testid=timeline] tbody tr")
        assert await rows.count() == min(50, len(everything))
        await page.select_option("[data-testid=filters] select[name=per]", "20")
        await page.click("[data-testid=filters] button[type=submit]")
        await page.wait_for_url(re.compile(r"per=20"))
        assert await rows.count() == 20
        assert await page.inner_text("[data-testid=timeline-count]") == f"第 1–20 条，共 {len(everything)} 条"
        first_page = [int(x) for x in await page.eval_on_selector_all("[data-testid=timeline] tbody tr td:first-child", "tds => tds.map(t => t.textContent)")]
        assert first_page == [e["position"] for e in everything[:20]]
        await page.click("[data-testid=timeline-next]")
        await page.wait_for_url(re.compile(r"page=2"))
        second = [int(x) for x in await page.eval_on_selector_all("[data-testid=timeline] tbody tr td:first-child", "tds => tds.map(t => t.textContent)")]
        assert second == [e["position"] for e in everything[20:40]]
        await page.go_back()
        await page.wait_for_url(re.compile(r"per=20$"))
        assert await rows.count() == 20

        # A type and a search: the self-review of U2 only; both stay in the URL.
        await page.select_option("[data-testid=filters] select[name=type]", "SelfReviewSubmitted")
        await page.fill("[data-testid=timeline-search]", "U2")
        await page.click("[data-testid=filters] button[type=submit]")
        await page.wait_for_url(re.compile(r"type=SelfReviewSubmitted.*q=U2|q=U2.*type=SelfReviewSubmitted"))
        assert await rows.count() == 1
        assert await page.get_attribute("[data-testid=timeline] tbody tr", "data-event") == "SelfReviewSubmitted"
        assert "U2" in await rows.first.inner_text()
    finally:
        await context.close()
