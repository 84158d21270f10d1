"""A page form that meets an outage is sent again with the same key and goes through once the
system is back (issue 8, item 5): Debian's Chromium on a stack whose own Temporal dev server is
stopped while the organizer opens the cycle, and started again."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest

from domain.audit import read_log
from kaohe.runtime import free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORD = "org-retry-pass-2026"


async def test_opening_the_cycle_during_an_outage_is_retried_by_the_page_until_it_goes_through(browser, tmp_path):  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", task_queue=f"kaohe-test-{uuid.uuid4().hex[:8]}", admin_password="admin-pass-123")
    stack = await start_stack(settings, embedded_temporal=True, api_port=free_port(), temporal_port=free_port(), ui_port=free_port())
    client = Client(stack)
    context = None
    try:
        await cast(client)
        r = await client.as_("admin").put("/users/org", json={"role": "organizer", "password": PASSWORD, "display_name": "李组织"})
        assert r.status_code == 200, r.text
        await client.login("org", PASSWORD)  # a new password revokes the old tokens
        key = await small_cycle(client, "setup", key="web-retry")
        context, page = await new_page(browser, stack)
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}")

        stack.devserver.stop()  # Temporal goes away
        async with page.expect_response(lambda resp: resp.request.method == "POST", timeout=90_000) as first:
            await page.click("[data-testid=open-cycle] button")
        assert (await first.value).status == 503
        assert int((await first.value).headers["retry-after"]) >= 1
        await page.wait_for_selector("[data-retry-state=waiting]")
        assert "系统繁忙，正在重试" in await page.inner_text("[data-retry-status]")
        assert not [e for e in read_log(stack.app) if e.name == "CycleOpened"]

        await stack.devserver.start()  # back: the page's next attempt goes through
        started = time.monotonic()
        await page.wait_for_url(re.compile(rf"/org/cycles/{key}\?done=1"), timeout=90_000)
        print(f"the page went through {time.monotonic() - started:.1f} s after Temporal was back")
        assert await page.inner_text("[data-testid=cycle-status]") == "进行中"
        await asyncio.sleep(0.5)
        assert len([e for e in read_log(stack.app) if e.name == "CycleOpened"]) == 1
    finally:
        if context is not None:
            await context.close()
        await client.close()
        await stack.stop()
