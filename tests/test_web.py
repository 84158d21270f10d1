"""The web pages in a real browser: Debian's Chromium driven by Playwright, against the real stack.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``make test`` installs
the Debian package when run as root). Without it, these tests skip and say why.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.conftest import ROOT, Client
from tests.csp_watch import WatchedBrowser
from tests.helpers import cast, small_cycle

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: ``KAOHE_UPDATE_SCREENSHOTS=1`` rewrites the committed screenshots; otherwise they go to a temporary directory.
UPDATE_SCREENSHOTS = os.environ.get("KAOHE_UPDATE_SCREENSHOTS") == "1"
PASSWORD = "u1-web-pass-2026"

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")


@pytest.fixture
def backend() -> str:
    """The pages sit on the same read models on both stores; one store is enough here."""
    return "sqlite"


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator:
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield WatchedBrowser(chromium)  # a refusal by the Content-Security-Policy fails the test (tests/csp_watch.py)
        finally:
            await chromium.close()


async def new_page(browser, stack, width: int = 1280, height: int = 800):
    context = await browser.new_context(base_url=stack.api_url, viewport={"width": width, "height": height}, locale="zh-CN")
    return context, await context.new_page()


async def unit_user_with_password(client: Client) -> None:
    """u1 (unit U1) with a known password and a display name, so the browser can sign in."""
    r = await client.as_("admin").put("/users/u1", json={"role": "unit", "unit": "U1", "password": PASSWORD, "display_name": "王晓红"})
    assert r.status_code == 200, r.text
    await client.login("u1", PASSWORD)  # a new password revokes the old tokens


async def screenshot(page, name: str, tmp_path: Path, full_page: bool = False) -> None:
    folder = SCREENSHOTS if UPDATE_SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / name), full_page=full_page)


async def sign_in(page, username: str, password: str) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("form.form button[type=submit]")


async def test_unit_user_signs_in_sees_the_inbox_and_signs_out(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "self_review")
    await unit_user_with_password(client)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        who = await page.inner_text("[data-testid=who]")
        assert "王晓红" in who and "被考核单位" in who and "第一支部（U1）" in who, who
        rows = page.locator("[data-testid=inbox] tbody tr")
        assert await rows.count() == 1
        row = await rows.first.inner_text()
        assert re.search(r"提交.*自查自评", row) and "测试周期" in row and "U1" in row, row
        assert await page.locator("html").get_attribute("lang") == "zh-CN"

        cookies = {c["name"]: c for c in await context.cookies()}
        assert cookies["kaohe_token"]["httpOnly"] and cookies["kaohe_token"]["sameSite"] == "Lax"
        token = cookies["kaohe_token"]["value"]
        await screenshot(page, "inbox.png", tmp_path)

        # The task opens its page: the self-review form (api/web/pages/self_review.py); the unit's status page.
        await page.click("[data-testid=inbox] tbody tr .task-title a")
        await page.wait_for_url(re.compile(rf"/self-review/{key}/U1$"))
        assert await page.locator("[data-testid=self-review]").count() == 1
        await page.goto(f"/cycles/{key}/units/U1")
        assert "未提交" in await page.inner_text("[data-testid=unit-status]")

        # Sign out: back at the sign-in page, the pages ask to sign in again, the token is revoked.
        await page.click("header button[type=submit]")
        await page.wait_for_url(re.compile(r"/login$"))
        assert "kaohe_token" not in {c["name"] for c in await context.cookies()}
        await page.goto("/tasks")
        assert page.url.endswith("/login")
        async with httpx.AsyncClient(base_url=stack.api_url) as http:
            r = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
    finally:
        await context.close()


async def test_sign_in_page_redirects_keeps_the_username_and_switches_language(client, stack, browser, tmp_path):
    await client.login("admin", "admin-pass-123")
    await client.user("u1", "unit", unit="U1")
    await unit_user_with_password(client)
    context, page = await new_page(browser, stack)
    try:
        # Not signed in: every page leads to the sign-in form, remembering where it was going.
        await page.goto("/")
        assert page.url.endswith("/login")
        await page.goto("/cycles/none-such")
        assert page.url.endswith("/login?next=/cycles/none-such")
        await screenshot(page, "login.png", tmp_path)

        # A wrong password: the message beside the form, the username still typed, no cookie.
        await page.fill("#username", "u1")
        await page.fill("#password", "wrong-password")
        await page.click("form.form button[type=submit]")
        await page.wait_for_selector("#login-error")
        assert "用户名或密码不正确" in await page.inner_text("#login-error")
        assert await page.input_value("#username") == "u1"
        assert "kaohe_token" not in {c["name"] for c in await context.cookies()}

        # The right one: on to where the visitor was going (an unknown cycle: an HTML 404 page).
        await page.fill("#password", PASSWORD)
        async with page.expect_navigation() as nav:
            await page.click("form.form button[type=submit]")
        response = await nav.value
        assert response.status == 404 and "/cycles/none-such" in page.url
        assert "考核周期 none-such 不存在" in await page.inner_text("[data-testid=error]")

        # English on request, kept in a cookie for the next pages.
        await page.goto("/tasks?lang=en")
        assert "My tasks" in await page.inner_text("h1")
        assert "Unit liaison" in await page.inner_text("[data-testid=who]")
        await page.goto("/tasks")
        assert await page.locator("html").get_attribute("lang") == "en"
    finally:
        await context.close()
    # The pages are not part of the JSON API.
    async with httpx.AsyncClient(base_url=stack.api_url) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths), sorted(paths)


async def test_a_unit_user_gets_a_403_page_for_another_unit(client, stack, browser, tmp_path):
    await cast(client)
    key = await small_cycle(client, "self_review")
    await unit_user_with_password(client)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        own = await page.goto(f"/cycles/{key}/units/U1")
        assert own.status == 200
        # The cycle page: status, stages with progress, and only the user's own unit listed.
        cycle = await page.goto(f"/cycles/{key}")
        assert cycle.status == 200
        assert await page.inner_text("[data-testid=cycle-status]") == "进行中"
        assert "0 / 2" in await page.inner_text("[data-testid=stages] tbody tr:first-child")
        assert await page.locator("[data-testid=units] tbody tr").count() == 1
        await screenshot(page, "cycle.png", tmp_path, full_page=True)
        other = await page.goto(f"/cycles/{key}/units/U2")
        assert other.status == 403
        assert "text/html" in other.headers["content-type"]
        text = await page.inner_text("[data-testid=error]")
        assert "无权访问" in text and "您只能查看和操作本单位" in text, text
        assert "王晓红" in await page.inner_text("[data-testid=who]")  # still signed in, still the layout

        # A page POST without the session's CSRF token is refused and signs nobody out.
        token = {c["name"]: c["value"] for c in await context.cookies()}["kaohe_token"]
        async with httpx.AsyncClient(base_url=stack.api_url, cookies={"kaohe_token": token}) as http:
            r = await http.post("/logout", data={"csrf": "forged"})
            assert r.status_code == 403
            assert (await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    finally:
        await context.close()


async def test_the_inbox_fits_a_phone(client, stack, browser, tmp_path):
    await cast(client)
    await small_cycle(client, "self_review")
    await unit_user_with_password(client)
    context, page = await new_page(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        assert await page.locator("[data-testid=inbox] tbody tr").count() == 1
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the inbox is {width} px wide on a 390-px phone"
        await screenshot(page, "inbox-phone.png", tmp_path)
    finally:
        await context.close()
