"""Issue 12, gap 2, in a real browser: the admin gives a reason on the account forms, and the
auditor reads every account change, in words, with who, when and why, on the audit pages."""

from __future__ import annotations

import re

import pytest

from tests.test_web import CHROMIUM_ARGS, browser, new_page, sign_in  # noqa: F401 - the browser fixture
from tests.test_web_nav import ADMIN, PASSWORD, signed_in, with_password

pytestmark = [pytest.mark.temporal]


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_the_auditor_reads_the_admins_account_changes_with_their_reasons(client, stack, browser):
    await client.login(*ADMIN)
    await with_password(client, "u1", "unit", "U1", "王晓红")
    await with_password(client, "aud", "auditor")
    admin_ctx, admin = await signed_in(browser, stack, *ADMIN)
    try:
        await admin.goto("/admin/users/u1")
        await admin.fill("#new_password", "typed-by-admin-1")
        await admin.fill("#reset_reason", "本人来电，忘记密码")
        await admin.click("[data-testid=reset-password]")
        assert await admin.inner_text("[data-testid=password]") == "typed-by-admin-1"
        await admin.goto("/admin/users/u1")
        await admin.fill("#active_reason", "调离岗位")
        await admin.click("[data-testid=toggle-active]")
        await admin.wait_for_selector("[data-testid=inactive]")
    finally:
        await admin_ctx.close()

    for lang, words in (("zh", ["创建账号", "重置密码", "停用账号"]), ("en", ["Account created", "Password reset", "Account deactivated"])):
        aud_ctx, aud = await signed_in(browser, stack, "aud", PASSWORD, lang=lang)
        try:
            await aud.click("[data-nav=audit]")
            await aud.click("[data-testid=also-link]")
            await aud.wait_for_url(re.compile(r"/audit/accounts$"))
            rows = aud.locator("[data-testid=account-timeline] tbody tr[data-account=u1]")
            assert await rows.locator("[data-testid=event-name]").all_inner_texts() == words
            assert await rows.locator("[data-testid=reason]").all_inner_texts() == ["—", "本人来电，忘记密码", "调离岗位"]
            assert "typed-by-admin-1" not in await aud.content()
            assert await rows.nth(1).locator(".person").first.get_attribute("title") == "admin"  # who: the admin, by name
            assert await rows.nth(1).locator("a .person").get_attribute("title") == "u1"  # whose account, by name too
        finally:
            await aud_ctx.close()
