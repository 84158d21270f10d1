"""The sign-in pages in a real browser (issue 12, gap 1): the throttle's message after too many
wrong passwords, the second form for a TOTP code, the recovery code, and the enrolment page the
production roles are sent to."""

from __future__ import annotations

import time

import pyotp
import pytest
import pytest_asyncio

from kaohe.runtime import free_port, start_stack
from tests.conftest import temporal_address
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - fixtures

PASSWORD = "signin-web-pass-2026"

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM}"),
]


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_the_login_page_says_how_long_to_wait_after_too_many_wrong_passwords(client, stack, browser):
    await client.user("eva", "evaluator")
    await client.as_("admin").put("/users/eva", json={"role": "evaluator", "password": PASSWORD})
    context, page = await new_page(browser, stack)
    try:
        statuses = []
        for _ in range(8):
            await page.goto("/login")
            await page.fill("#username", "eva")
            await page.fill("#password", "wrong-password-again")
            async with page.expect_navigation() as nav:
                await page.click("form.form button[type=submit]")
            statuses.append((await nav.value).status)
        assert 429 in statuses, statuses
        message = await page.inner_text("[data-testid=login-error]")
        assert "错误次数过多" in message and "秒后再试" in message
        # Even the right password waits: no session cookie while locked.
        await page.fill("#password", PASSWORD)
        await page.click("form.form button[type=submit]")
        await page.wait_for_selector("[data-testid=login-error]")
        assert "kaohe_token" not in {c["name"] for c in await context.cookies()}
    finally:
        await context.close()


async def test_a_user_sets_up_totp_then_signs_in_with_a_code_and_once_with_a_recovery_code(client, stack, browser):
    await client.user("org", "organizer")
    await client.as_("admin").put("/users/org", json={"role": "organizer", "password": PASSWORD})
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url("**/tasks")
        await page.goto("/account/totp")
        assert await page.locator("[data-testid=totp-off]").count() == 1
        await page.click("[data-testid=totp-begin] button")
        assert await page.locator("[data-testid=totp-qr] svg").count() == 1  # the QR code, inline
        secret = (await page.inner_text("[data-testid=totp-secret]")).replace(" ", "")
        await page.fill("#code", pyotp.TOTP(secret).now())
        await page.click("[data-testid=totp-form] button")
        codes = [c.strip() for c in await page.locator("[data-testid=recovery-codes] code").all_inner_texts()]
        assert len(codes) == 10
        await page.click("[data-testid=totp-continue]")
        assert await page.locator("[data-testid=totp-on]").count() == 1

        # Next sign-in: the password, then a second form for the code.
        fresh = await browser.new_context(base_url=stack.api_url, locale="zh-CN")
        page2 = await fresh.new_page()
        await sign_in(page2, "org", PASSWORD)
        await page2.wait_for_selector("[data-testid=code-form]")
        assert "kaohe_token" not in {c["name"] for c in await fresh.cookies()}
        await page2.fill("#code", "000000")
        await page2.click("[data-testid=code-form] button")
        await page2.wait_for_selector("[data-testid=login-error]")
        await page2.fill("#code", pyotp.TOTP(secret).at(int(time.time()) + 30))
        await page2.click("[data-testid=code-form] button")
        await page2.wait_for_url("**/tasks")
        await fresh.close()

        # A recovery code instead of the phone: once.
        for expect_ok in (True, False):
            other = await browser.new_context(base_url=stack.api_url, locale="zh-CN")
            p = await other.new_page()
            await sign_in(p, "org", PASSWORD)
            await p.wait_for_selector("[data-testid=code-form]")
            await p.fill("#code", codes[0])
            await p.click("[data-testid=code-form] button")
            if expect_ok:
                await p.wait_for_url("**/tasks")
            else:
                await p.wait_for_selector("[data-testid=login-error]")
                assert "已用过" in await p.inner_text("[data-testid=login-error]")
            await other.close()
    finally:
        await context.close()


@pytest_asyncio.fixture
async def production_stack(settings, temporal_env):
    s = settings.model_copy(update={
        "temporal_address": temporal_address(temporal_env), "admin_password": "admin-pass-123", "env": "production",
        "command_key": "a-test-command-key-of-more-than-32-characters-0123456789",
    })
    running = await start_stack(s, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


async def test_in_production_the_admin_is_sent_to_enrolment_after_the_password(production_stack, browser):
    context, page = await new_page(browser, production_stack)
    try:
        await sign_in(page, "admin", "admin-pass-123")
        await page.wait_for_url("**/login/totp**")
        assert await page.locator("[data-testid=totp-required]").count() == 1
        await page.goto("/admin/users")  # nothing else opens before enrolment
        assert "/login" in page.url
        await page.goto("/login/totp")
        secret = (await page.inner_text("[data-testid=totp-secret]")).replace(" ", "")
        await page.fill("#code", pyotp.TOTP(secret).now())
        await page.click("[data-testid=totp-form] button")
        assert len(await page.locator("[data-testid=recovery-codes] code").all_inner_texts()) == 10
        await page.click("[data-testid=totp-continue]")
        await page.wait_for_url("**/tasks")
        await page.goto("/admin/users")
        assert "/admin/users" in page.url
    finally:
        await context.close()
