"""A form whose body is larger than its page takes, in a real browser: the HTML 413 page in
the page's language, nothing stored (issue 12, gap 3; api/limits.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Client
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORD = "org-limits-pass-2026"


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_a_units_file_past_the_limit_answers_the_413_page(client: Client, stack, browser, tmp_path):  # noqa: F811
    await client.user("org", "organizer")
    r = await client.as_("admin").put("/users/org", json={"role": "organizer", "password": PASSWORD})
    assert r.status_code == 200, r.text
    await client.login("org", PASSWORD)
    r = await client.as_("org").post("/cycles", json={"key": "lim", "year": 2026, "name": "上限", "schemes": {"grassroots_branch": "default"}})
    assert r.status_code == 201, r.text
    big = tmp_path / "units.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * (12 * 1024 * 1024))  # 12 MiB: past the 5 MiB a sheet may be
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.goto("/org/cycles/lim/units")
        await page.set_input_files("#unit-file", str(big))
        async with page.expect_response(lambda resp: resp.url.endswith("/units/upload")) as answer:
            await page.click("[data-testid=upload-form] button[type=submit]")
        assert (await answer.value).status == 413
        await page.wait_for_selector("[data-testid=error]")
        text = await page.inner_text("[data-testid=error]")
        assert "413" in text and "提交的内容过大" in text and "未被接收" in text
        assert "too large" not in text  # Chinese page, Chinese only
    finally:
        await context.close()
    r = await client.as_("org").get("/cycles/lim/units")
    assert r.status_code == 200 and r.json() == [], r.text
