"""The organizer's console for a large cycle, in a real browser (Debian's Chromium via Playwright)
on the real stack: 300 units at a glance (an overview per step and cohort; a units list that is
searched, filtered, sorted and paged on the server, its state in the URL, exported to Excel as
filtered); 催办 (remind) of one unit and of every unit not done, seen in the unit's inbox until it
acts; bulk issue of feedback and bulk verification behind one confirmation, with progress, each
row's command idempotent.

The 300 units are registered in one request and 90 of them submit their self-review straight
through the domain (``stack.app``): the cycle is not played to its end, so setting up takes a
few seconds.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from starlette.concurrency import run_in_threadpool

from domain.rules import Actor
from tests.conftest import Client, log_position
from tests.helpers import TINY_SCHEME, cast, small_cycle
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - the browser fixture
from tests.test_web_organizer import PASSWORD, organizer

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

COHORTS = ("grassroots_branch", "secondary_committee", "organ_committee")
N = 300
SUBMITTED = 90  # U1..U90 have submitted their self-review


@pytest.fixture
def backend() -> str:
    return "sqlite"


def cohort_of(i: int) -> str:
    return COHORTS[i % 3]


async def large_cycle(client: Client, stack, key: str = "big", submitted: int = SUBMITTED) -> str:
    """300 units in three cohorts, the cycle open, U1..U90's self-reviews submitted, debrief open."""
    org = client.as_("org")
    r = await org.post("/cycles", json={"key": key, "year": 2026, "name": "三百单位周期", "schemes": {c: TINY_SCHEME for c in COHORTS}})
    assert r.status_code == 201, r.text
    units = [{"key": f"U{i}", "name": f"第{i}支部", "org_type": cohort_of(i)} for i in range(1, N + 1)]
    r = await org.post(f"/cycles/{key}/units", json={"units": units})
    assert r.status_code == 201, r.text
    assert (await org.post(f"/cycles/{key}/open")).status_code == 200

    def submit() -> int:
        for i in range(1, submitted + 1):
            stack.app.submit_self_review(key, f"U{i}", {"1.1.1": "5", "1.1.2": "3"}, None, Actor(f"u{i}", "unit", f"U{i}"), f"seed/{key}/{i}")
        return stack.app.recorder.max_notification_id()

    if submitted:
        await stack.runner.until(await run_in_threadpool(submit), 30.0)
    assert (await org.post(f"/cycles/{key}/stages/debrief/open")).status_code == 200
    return key


async def rows_of(page, table: str = "units") -> list[str]:
    return await page.eval_on_selector_all(f"[data-testid={table}] tbody tr", "rows => rows.map(r => r.dataset.unit || r.id)")


async def test_the_console_of_300_units_is_paged_searched_filtered_sorted_and_exported(client, stack, browser, tmp_path):  # noqa: F811
    await organizer(client)
    key = await large_cycle(client, stack)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}")

        # One page of 50 units, not 300 (nor 1,763 rows of 114,000 px).
        assert len(await rows_of(page)) == 50
        assert await page.inner_text("[data-testid=units-count]") == "第 1–50 条，共 300 条"
        assert (await rows_of(page))[:3] == ["U1", "U2", "U3"]  # U2 before U10
        assert await page.evaluate("document.documentElement.scrollHeight") < 12000

        # The overview: per step and cohort, done and not done; 100 units per cohort, 30 of each submitted.
        assert "已完成 90" in await page.inner_text("[data-testid=done-self_review-all]")
        assert "未完成 210" in await page.inner_text("[data-testid=not-done-self_review-all]")
        assert "已完成 30" in await page.inner_text("[data-testid=done-self_review-secondary_committee]")
        # A cell of the overview opens the list of exactly those units.
        await page.click("[data-testid=not-done-self_review-secondary_committee]")
        await page.wait_for_url(re.compile(r"status=self_review%3Anot_done&cohort=secondary_committee"))
        assert await page.inner_text("[data-testid=units-count]") == "第 1–50 条，共 70 条"
        assert (await rows_of(page))[0] == "U91"  # U91 % 3 == 1: the first not submitted of that cohort

        # Search by key or name, state in the URL.
        await page.goto(f"/org/cycles/{key}")
        await page.fill("[data-testid=units-search]", "U123")
        await page.click("[data-testid=units-bar] button[type=submit]")
        await page.wait_for_url(re.compile(r"q=U123"))
        assert await rows_of(page) == ["U123"]
        await page.fill("[data-testid=units-search]", "第7支部")
        await page.click("[data-testid=units-bar] button[type=submit]")
        await page.wait_for_url(re.compile(r"q=%E7%AC%AC7"))
        assert await rows_of(page) == ["U7"]

        # Filter by cohort and progress; sort by a column (twice: descending); page on; back.
        await page.goto(f"/org/cycles/{key}")
        await page.select_option("[data-testid=units-cohort]", "grassroots_branch")
        await page.select_option("[data-testid=units-status]", "self_review:not_done")
        await page.click("[data-testid=units-bar] button[type=submit]")
        await page.wait_for_url(re.compile(r"cohort=grassroots_branch"))
        expected = [f"U{i}" for i in range(1, N + 1) if cohort_of(i) == "grassroots_branch" and i > SUBMITTED]
        assert await page.inner_text("[data-testid=units-count]") == f"第 1–50 条，共 {len(expected)} 条"
        await page.click("[data-testid=units] th[data-sort=unit] a")
        await page.wait_for_url(re.compile(r"sort=-unit"))
        await page.wait_for_selector("[data-testid=units] th[data-sort=unit][aria-sort=descending]")
        assert (await rows_of(page))[:2] == expected[::-1][:2]  # U300, U297
        await page.click("[data-testid=units-next]")
        await page.wait_for_url(re.compile(r"page=2"))
        assert await page.inner_text("[data-testid=units-page]") == "2"
        assert await rows_of(page) == expected[::-1][50:100]
        url = page.url
        await page.go_back()
        await page.wait_for_url(re.compile(r"sort=-unit(?!.*page=2)"))
        assert (await rows_of(page))[0] == expected[-1]
        await page.goto(url)  # a link shows the same page
        assert await rows_of(page) == expected[::-1][50:100]
        await page.goto(url.split("#")[0] + "&lang=en")  # the same list in English
        assert await page.inner_text("[data-testid=units-count]") == f"51–{len(expected)} of {len(expected)}"
        assert await page.inner_text("#overview") == "Progress overview"
        await page.goto(url.split("#")[0] + "&lang=zh")

        # Export: every row the filters keep, in the order shown, all pages, the cells as shown.
        async with page.expect_download() as info:
            await page.click("[data-testid=units-export]")
        download = await info.value
        assert download.suggested_filename == f"units-{key}.xlsx"
        wb = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
        ws = wb.active
        header = [c.value for c in ws[1]]
        assert header[:4] == ["单位编号", "单位名称", "组别", "自查自评"]  # the headers as on the page
        body = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        assert [r[0] for r in body] == expected[::-1]
        assert body[0][1:4] == ["第300支部", "基层党总支/党支部", "未提交"]

    finally:
        await context.close()


async def test_the_debrief_table_keeps_the_cohort_on_one_line_beside_100_secretaries(client, stack, browser):  # noqa: F811
    await organizer(client)
    key = await large_cycle(client, stack, submitted=0)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        # The debrief table keeps the cohort on one line beside 100 secretaries' names, and a row stays short.
        await page.goto(f"/org/cycles/{key}#debrief")
        lines = await page.eval_on_selector(
            "[data-testid=sessions] tbody tr td", "td => { const r = document.createRange(); r.selectNodeContents(td); "
            "return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }")
        assert lines == 1, lines  # not one character a line
        row = await page.locator("[data-testid=sessions] tbody tr >> nth=0").bounding_box()
        assert row["height"] < 200, row
    finally:
        await context.close()


async def test_remind_one_unit_and_every_unit_not_done_seen_in_the_units_inbox(client, stack, browser):  # noqa: F811
    await cast(client)
    key = await small_cycle(client, "self_review")
    await organizer(client)
    r = await client.as_("admin").put("/users/u1", json={"role": "unit", "unit": "U1", "password": "u1-pass-2026-x", "display_name": "王晓红"})
    assert r.status_code == 200, r.text
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}?q=U1#units")
        before = log_position(stack)
        await page.click("[data-testid=remind-U1-self_review]")
        await page.wait_for_url(re.compile(r"q=U1&done=1#units"))  # back to the same list
        assert log_position(stack) == before + 1
        assert await page.inner_text("[data-testid=units] tr[data-unit=U1] td[data-label=最近催办]") != "—"

        # Every unit not done, at once: one confirmation naming them, then progress to the end.
        await page.goto(f"/org/cycles/{key}")
        await page.click("[data-testid=remind-all-self_review]")
        await page.wait_for_url(re.compile(r"/bulk/remind\?"))
        assert "2 个单位" in await page.inner_text("[data-testid=bulk-what]")
        await page.fill("#bk-note", "请于本周五前提交")
        await page.click("[data-testid=bulk-confirm]")
        await page.wait_for_selector("form[data-done='1']")
        assert await page.inner_text("[data-testid=bulk-count]") == "2"
        assert "完成 2" in await page.inner_text("[data-testid=bulk-summary]")
    finally:
        await context.close()

    from sqlalchemy import select

    from projections.models import ReminderRow  # issue 11's read model

    with stack.runner.sessions() as db:
        counts = {(r.unit, r.stage): (r.count, r.last_by, r.note) for r in db.scalars(select(ReminderRow).where(ReminderRow.cycle == key))}
    assert counts == {("U1", "self_review"): (2, "org", "请于本周五前提交"), ("U2", "self_review"): (1, "org", "请于本周五前提交")}

    # The unit sees "组织部催办：…" in its tasks until it submits.
    await client.login("u1", "u1-pass-2026-x")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", "u1-pass-2026-x")
        await page.wait_for_url(re.compile(r"/tasks$"))
        task = page.locator("[data-testid=inbox] tr[data-kind=remind_self_review]")
        assert await task.count() == 1
        assert "组织部催办：" in await task.inner_text() and "请于本周五前提交" in await task.inner_text()
        await task.locator(".task-title a").click()
        await page.wait_for_url(re.compile(rf"/self-review/{key}/U1$"))
        r = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
        assert r.status_code == 200, r.text
        await page.goto("/tasks")
        assert await page.locator("[data-testid=inbox] tr[data-kind=remind_self_review]").count() == 0
    finally:
        await context.close()


async def test_bulk_issue_of_feedback_and_bulk_verification_once_each(client, stack, browser):  # noqa: F811
    await cast(client)
    key = await small_cycle(client, "published")
    await organizer(client)
    org = client.as_("org")
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        # My tasks, like every long list, can be filtered and searched (kept in the URL).
        kinds = lambda: page.eval_on_selector_all("[data-testid=inbox] tbody tr", "rs => rs.map(r => r.dataset.kind)")  # noqa: E731
        assert await kinds() == ["issue_feedback", "issue_feedback"]
        await page.goto("/tasks?kind=issue_feedback&q=%E7%AC%AC%E4%BA%8C%E6%94%AF%E9%83%A8")  # 第二支部
        assert await kinds() == ["issue_feedback"] and "第二支部" in await page.inner_text("[data-testid=inbox] tbody")
        await page.goto(f"/org/cycles/{key}")
        await page.check("[data-testid=units-all]")
        await page.click("[data-testid=bulk-feedback]")
        await page.wait_for_url(re.compile(r"/bulk/feedback\?"))
        assert "将向 2 个单位下发考核反馈" in await page.inner_text("[data-testid=bulk-what]")
        await page.click("[data-testid=bulk-confirm]")
        await page.wait_for_selector("form[data-done='1']")
        assert "完成 2，跳过 0" in await page.inner_text("[data-testid=bulk-summary]")
        assert not await page.is_visible("[data-testid=bulk-confirm]")  # confirmed once: no second press
        for unit in ("U1", "U2"):
            assert (await org.get(f"/cycles/{key}/units/{unit}/feedback")).json()["status"] == "issued"

        # A row sent again with the batch's key records nothing twice.
        token = {c["name"]: c["value"] for c in await context.cookies()}["kaohe_token"]
        csrf = await page.input_value("[data-testid=bulk-form] input[name=csrf]")
        batch = await page.input_value("[data-testid=bulk-form] input[name=batch]")
        before = log_position(stack)
        async with httpx.AsyncClient(base_url=stack.api_url, cookies={"kaohe_token": token}) as http:
            r = await http.post(f"/org/cycles/{key}/bulk/feedback/one", data={"csrf": csrf, "batch": batch, "target": "U1"})
            assert r.status_code == 200 and r.json()["result"] in ("done", "skipped"), r.text
            # The whole batch sent again the way a browser without JavaScript sends it: nothing twice.
            r = await http.post(f"/org/cycles/{key}/bulk/feedback", data={"csrf": csrf, "batch": batch, "target": ["U1", "U2"]})
        assert r.status_code == 200 and 'data-testid="bulk-outcome"' in r.text, r.text[:500]
        assert log_position(stack) == before

        # Items submitted by both units; all of them verified at once.
        items = (await org.get(f"/cycles/{key}/rectifications")).json()
        assert items
        for item in items:
            user = "u1" if item["unit"] == "U1" else "u2"
            r = await client.as_(user).post(f"/cycles/{key}/rectifications/{item['id']}/submit", json={"text": "已整改完毕"})
            assert r.status_code == 200, r.text
        await page.goto(f"/org/cycles/{key}?istatus=submitted#rectification")
        async with page.expect_download() as info:
            await page.click("[data-testid=items-export]")
        ws = load_workbook(io.BytesIO(Path(await (await info.value).path()).read_bytes())).active
        assert ws.max_row - 1 == len(items) and {c.value for c in ws["E"][1:]} == {"待核验"}
        await page.check("[data-testid=items-all]")
        await page.click("[data-testid=bulk-verify]")
        await page.wait_for_url(re.compile(r"/bulk/verify\?"))
        assert f"将核验通过并销号 {len(items)} 项" in await page.inner_text("[data-testid=bulk-what]")
        await page.click("[data-testid=bulk-confirm]")
        await page.wait_for_selector("form[data-done='1']", timeout=60000)
        assert f"完成 {len(items)}" in await page.inner_text("[data-testid=bulk-summary]")
        await page.click("[data-testid=bulk-finished] a")
        await page.wait_for_url(re.compile(rf"/org/cycles/{key}"))
    finally:
        await context.close()
    assert {i["status"] for i in (await org.get(f"/cycles/{key}/rectifications")).json()} == {"closed"}
