"""A whole small cycle through the pages only, in Debian's Chromium, checked against the API.

The users are made up front through the API (the admin's job, not a page's); every action of
the cycle after that is done in the browser, each role signed in in its own browser context:
the organizer creates the cycle (the tiny scheme uploaded as JSON) and registers U1, U2; the
units self-review; the evaluator scores; three representatives vote; the committee approves as
a body (the default quorum 2): one member proposes at a meeting, a second confirms from the
inbox. The grades on /results/{cycle} then equal the API's and the hand-worked values.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from tests.conftest import Client
from tests.helpers import TINY_SCHEME, cast
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORD = "cycle-web-pass-2026"
KEY = "web-cycle"
PEOPLE = {"org": ("organizer", None), "eva": ("evaluator", None), "com": ("committee", None), "com2": ("committee", None),
          "u1": ("unit", "U1"), "u2": ("unit", "U2"),
          "R1": ("representative", None), "R2": ("representative", None), "R3": ("representative", None)}


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def with_passwords(client: Client) -> None:
    """The cast (helpers.cast) with a known password each, so the browser can sign them in."""
    await cast(client)
    for username, (role, unit) in PEOPLE.items():
        r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD})
        assert r.status_code == 200, r.text
        await client.login(username, PASSWORD)


class As:
    """One role in its own browser context."""

    def __init__(self, browser, stack, username: str) -> None:
        self.browser, self.stack, self.username = browser, stack, username

    async def __aenter__(self):
        self.context, page = await new_page(self.browser, self.stack)
        await sign_in(page, self.username, PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        return page

    async def __aexit__(self, *exc) -> None:
        await self.context.close()


async def console(page, *buttons: str) -> None:
    """On the organizer's console, press each stage button in turn (open-scoring, close-self_review...)."""
    for button in buttons:
        await page.goto(f"/org/cycles/{KEY}")
        await page.click(f"[data-testid={button}]")
        if button.startswith("close-"):  # closing a stage is final: confirmed on its second look
            await page.click("[data-testid=confirm-yes]")
        await page.wait_for_url(re.compile(r"done=1"))


async def test_a_whole_cycle_through_the_pages(client, stack, browser, tmp_path):  # noqa: F811
    await with_passwords(client)
    scheme = tmp_path / "tiny.json"
    scheme.write_text(json.dumps(TINY_SCHEME, ensure_ascii=False), encoding="utf-8")

    # 1. Organizer: a cycle with the tiny scheme uploaded for grassroots branches, U1 and U2, opened.
    async with As(browser, stack, "org") as page:
        await page.goto("/org/cycles/new")
        await page.fill("#key", KEY)
        await page.fill("#year", "2026")
        await page.fill("#name", "网页全流程周期")
        await page.select_option("[id='scheme.grassroots_branch']", "file")
        await page.set_input_files("input[name='scheme_file.grassroots_branch']", str(scheme))
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_url(re.compile(rf"/org/cycles/{KEY}/units\?created=1$"))
        for unit, name in (("U1", "第一支部"), ("U2", "第二支部")):
            await page.fill("#unit-key", unit)
            await page.fill("#unit-name", name)
            await page.select_option("#unit-type", "grassroots_branch")
            await page.click("[data-testid=unit-form] button[type=submit]")
            await page.wait_for_url(re.compile(r"registered=1$"))
        await page.goto(f"/org/cycles/{KEY}")
        await page.click("[data-testid=open-cycle] button")
        await page.wait_for_url(re.compile(rf"/org/cycles/{KEY}\?done=1"))

    # 2. Units: each fills and submits its self-review.
    for user, unit, (a, b) in (("u1", "U1", ("6", "3.5")), ("u2", "U2", ("5", "3"))):
        async with As(browser, stack, user) as page:
            await page.goto(f"/self-review/{KEY}/{unit}")
            await page.fill("[name='score.1.1.1']", a)
            await page.fill("[name='score.1.1.2']", b)
            await page.fill("[name='evidence.1.1.1']", "会议记录")
            await page.click("#pp-self-review button[type=submit]")
            await page.click("[data-testid=confirm-yes]")  # the second look before a final action
            await page.wait_for_selector("[data-testid=submitted]")

    # 3. Organizer: scoring opens, self-review closes.
    async with As(browser, stack, "org") as page:
        await console(page, "open-scoring", "close-self_review")

    # 4. Evaluator: U1 6 + 3.5 = 9.5 of 10; U2 5 + 3 = 8 of 10.
    async with As(browser, stack, "eva") as page:
        for unit, (a, b) in (("U1", ("6", "3.5")), ("U2", ("5", "3"))):
            await page.goto(f"/scoring/{KEY}/{unit}")
            await page.fill("[name='score.1.1.1']", a)
            await page.fill("[name='score.1.1.2']", b)
            await page.click("#pp-scoring button[type=submit]")
            await page.wait_for_selector("[data-testid=submitted]")

    # 5. Organizer: scoring closes, the debrief opens, and the meeting's roster is registered
    #    (only rostered representatives cast: SPEC §1).
    async with As(browser, stack, "org") as page:
        await console(page, "close-scoring", "open-debrief")
        await page.goto(f"/org/cycles/{KEY}/debrief/grassroots_branch")
        await page.fill("#mt-roster", "R1\nR2\nR3")
        await page.click("[data-testid=roster-form] button[type=submit]")
        await page.wait_for_selector("[data-testid=roster] >> text=R3")

    # 6. Representatives: one ballot each for the grassroots-branch cohort.
    for rep, (a, b) in (("R1", ("95", "85")), ("R2", ("93", "83")), ("R3", ("91", "81"))):
        async with As(browser, stack, rep) as page:
            await page.goto(f"/ballot/{KEY}/grassroots_branch")
            await page.fill("[name='score.U1']", a)
            await page.fill("[name='score.U2']", b)
            await page.click("[data-testid=ballot] button[type=submit]")
            await page.click("[data-testid=confirm-yes]")  # the second look before a final action
            await page.wait_for_selector("[data-testid=ballot-done]")

    # 7. Organizer: debrief closes, adjustments open and close (none proposed).
    async with As(browser, stack, "org") as page:
        await console(page, "close-debrief", "open-adjustments", "close-adjustments")

    # 8. Committee: com proposes, at the meeting, to approve the allocation; not yet published.
    async with As(browser, stack, "com") as page:
        await page.goto(f"/committee/{KEY}/allocation")
        await page.fill("#decision-meeting-date", "2026-03-20")
        await page.fill("#decision-minute", "党委会〔2026〕3号")
        await page.click("[data-testid=approve]")
        await page.click("[data-testid=confirm-yes]")  # the second look before a final action
        await page.wait_for_url(re.compile(rf"/committee/{KEY}/allocation\?done=proposed$"))
    assert (await client.as_("org").get(f"/cycles/{KEY}/results")).status_code == 409  # not published yet
    #    com2 finds it in the inbox and confirms: the quorum of two is reached, the results published.
    async with As(browser, stack, "com2") as page:
        await page.click("[data-testid=inbox] tr[data-kind=confirm_decision] .task-title a")
        await page.wait_for_url(re.compile(rf"/committee/{KEY}/allocation\?done=#p-"))
        card = page.locator("[data-testid=pending-proposals] article[data-subject=approve_allocation]")
        assert "com (1/2)" in await card.locator("[data-testid=confirmed-by]").inner_text()
        await card.locator("form[action$='/confirm'] button[type=submit]").click()
        await page.wait_for_url(re.compile(rf"/committee/{KEY}/allocation\?done=confirmed$"))

    # 9. The published grades: the page (as the organizer), the API and the hand-worked values agree.
    #   W (work score, out of 100) = evaluator total / scheme total × 100:
    #     U1: (6 + 3.5) / 10 × 100 = 95.00;  U2: (5 + 3) / 10 × 100 = 80.00
    #   D (debrief score) = mean of the three ballots:
    #     U1: (95 + 93 + 91) / 3 = 93.00;    U2: (85 + 83 + 81) / 3 = 83.00
    #   F = 0.7 × W + 0.3 × D (the default policy weights):
    #     U1: 66.50 + 27.90 = 94.40;         U2: 56.00 + 24.90 = 80.90
    #   Excellent quota q = floor(0.5 × 2 units) = 1: the top F (U1) is excellent, U2 is good.
    expected = {"U1": ("95.00", "93.00", "94.40", "excellent", "优秀"), "U2": ("80.00", "83.00", "80.90", "good", "良好")}
    async with As(browser, stack, "org") as page:
        await page.goto(f"/results/{KEY}")
        shown = {}
        for unit in ("U1", "U2"):
            cells = await page.locator(f"[data-testid=results] tr[data-unit={unit}] td").all_inner_texts()
            shown[unit] = cells
    r = await client.as_("org").get(f"/cycles/{KEY}/results")
    assert r.status_code == 200, r.text
    api = r.json()["units"]
    for unit, (w, d, f, grade, grade_zh) in expected.items():
        # columns: cohort, rank, unit, F, D, W, bonus, grade
        cells = shown[unit]
        assert Decimal(cells[3]) == Decimal(f) and Decimal(cells[4]) == Decimal(d) and Decimal(cells[5]) == Decimal(w), (unit, cells)
        assert cells[7].startswith(grade_zh), (unit, cells)
        a = api[unit]
        assert a["grade"] == grade, (unit, a)
        assert Decimal(str(a["final_score"])) == Decimal(f), (unit, a)
        assert Decimal(str(a["debrief_score"])) == Decimal(d), (unit, a)
        assert Decimal(str(a["work_score"])) == Decimal(w), (unit, a)
