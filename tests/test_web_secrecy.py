"""The secret ballot and the assigned evaluators on the pages, in a real browser (SQLite): the
organizer assigns a unit's evaluators on the units page (an error beside the unit's field,
naming the evaluator and the unit), and reads an explained grade without the representatives'
names; the auditor's page names them and says that only auditors see them."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORD = "secrecy-web-pass-2026"


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def with_password(client: Client, username: str, role: str, unit: str | None = None) -> None:
    r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD})
    assert r.status_code in (200, 201), r.text
    await client.login(username, PASSWORD)


async def test_assign_evaluators_and_read_an_anonymous_explanation(client, stack, browser):  # noqa: F811
    await cast(client)
    await client.user("eva-u1", "evaluator", unit="U1")
    key = await small_cycle(client, "allocation")
    await with_password(client, "org", "organizer")
    await with_password(client, "aud", "auditor")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        # explained as the organizer reads it: scores, no names
        await page.goto(f"/audit/{key}/explain/U1")
        assert await page.get_attribute("[data-testid=ballot-view]", "data-view") == "anonymous"
        ballots = await page.inner_text("[data-testid=ballots]")
        assert "95" in ballots and not any(r in ballots for r in ("R1", "R2", "R3"))
        html = await page.content()
        assert not any(r in html for r in ("R1", "R2", "R3"))
        # the timeline offers the bundle to the auditor only
        await page.goto(f"/audit/{key}")
        assert await page.locator("[data-testid=bundle]").count() == 0
        assert await page.locator("[data-testid=bundle-auditor-only]").count() == 1
        # the units page: scoring is closed in this cycle, so an assignment is refused beside U1's field
        await page.goto(f"/org/cycles/{key}/units")
        await page.fill("#evaluators-U1", "eva-u1")
        await page.click("[data-testid=assign-U1] button")
        error = await page.inner_text("[data-testid=assign-U1] .field-error")
        assert "U1" in error
    finally:
        await context.close()
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "aud", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/audit/{key}/explain/U1")
        assert await page.get_attribute("[data-testid=ballot-view]", "data-view") == "named"
        assert "仅审计可见" in await page.inner_text("[data-testid=ballot-view]")
        assert "R1" in await page.inner_text("[data-testid=ballots]")
        await page.goto(f"/audit/{key}")
        assert await page.locator("[data-testid=bundle]").count() == 1
    finally:
        await context.close()
    # An evaluator of U1 itself: its scoring page does not open (the rule's own words on the 403 page).
    await with_password(client, "eva-u1", "evaluator", unit="U1")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "eva-u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        response = await page.goto(f"/scoring/{key}/U1")
        assert response.status == 403
        assert "不能为本单位评分" in await page.inner_text("body")
    finally:
        await context.close()


async def test_the_organizer_assigns_a_units_evaluators_on_the_units_page(client, stack, browser):  # noqa: F811
    await cast(client)
    await client.user("evb", "evaluator")
    await client.user("eva-u1", "evaluator", unit="U1")
    key = await small_cycle(client, "scoring")
    await with_password(client, "org", "organizer")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}/units")
        await page.fill("#evaluators-U1", "evb，eva-u1")
        await page.click("[data-testid=assign-U1] button")
        error = await page.inner_text("[data-testid=assign-U1] .field-error")
        assert "eva-u1" in error and "U1" in error
        assert await page.input_value("#evaluators-U1") == "evb，eva-u1"  # as typed
        await page.fill("#evaluators-U1", "evb")
        await page.click("[data-testid=assign-U1] button")
        await page.wait_for_url(re.compile(r"assigned=U1"))
        assert await page.input_value("#evaluators-U1") == "evb"
    finally:
        await context.close()
    assert (await client.as_("org").get(f"/cycles/{key}/evaluators")).json() == {"U1": ["evb"]}
