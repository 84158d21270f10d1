"""Issue 12, gap 7, in a real browser: the unit's report form checks the item's unit and the
number of files before it stores any of them."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM_ARGS, browser, new_page, sign_in  # noqa: F401 - the browser fixture
from tests.test_evidence_access import items_of, stored
from tests.test_web_nav import PASSWORD, signed_in, with_password

pytestmark = [pytest.mark.temporal]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def files(n: int, tag: str) -> list[dict]:
    return [{"name": f"{tag}-{i}.txt", "mimeType": "text/plain", "buffer": f"{tag} 第{i}份".encode()} for i in range(n)]


def digests(batch: list[dict]) -> list[str]:
    return [hashlib.sha256(f["buffer"]).hexdigest() for f in batch]


async def test_the_report_form_stores_nothing_for_another_units_item_or_past_twenty_files(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "published")
    ids = await items_of(client, key)
    await with_password(client, "u2", "unit", "U2")
    context, page = await signed_in(browser, stack, "u2")
    try:
        await page.goto(f"/my/{key}/U2")
        item = page.locator("[data-testid=item]").first
        # 21 files: refused beside the item, none of them stored.
        many = files(21, "many")
        await item.locator("textarea[name=text]").fill("附 21 份材料")
        await item.locator("input[type=file]").set_input_files(files=many)
        async with page.expect_navigation() as nav:
            await item.locator("button[value=progress]").click()
        assert (await nav.value).status == 422
        assert await page.locator("[data-testid=item-error]").count() == 1
        assert not any(stored(stack, d) for d in digests(many))

        # The form pointed at U1's item: the 403 page, and none of the files stored.
        await page.goto(f"/my/{key}/U2")
        form = page.locator("[data-testid=item] form.pp-report").first
        await form.evaluate("(f, id) => f.setAttribute('action', f.getAttribute('action').replace(/[^/]+$/, id))", ids["U1"])
        foreign = files(2, "foreign")
        await form.locator("textarea[name=text]").fill("越权")
        await form.locator("input[type=file]").set_input_files(files=foreign)
        async with page.expect_navigation() as nav:
            await form.locator("button[value=progress]").click()
        assert (await nav.value).status == 403
        assert not any(stored(stack, d) for d in digests(foreign))
        assert [i["reports"] for i in (await client.as_("org").get(f"/cycles/{key}/rectifications")).json() if i["unit"] == "U1"] == [[]]

        # Within the limit, for its own item: stored and cited.
        await page.goto(f"/my/{key}/U2")
        item = page.locator("[data-testid=item]").first
        few = files(3, "few")
        await item.locator("textarea[name=text]").fill("附 3 份材料")
        await item.locator("input[type=file]").set_input_files(files=few)
        await item.locator("button[value=progress]").click()
        await page.wait_for_selector("[data-testid=notice]")
        assert all(stored(stack, d) for d in digests(few))
        assert re.search("few-0.txt", await page.inner_text("[data-testid=item]"))
    finally:
        await context.close()
