"""The organizer's pages in a real browser (Debian's Chromium via Playwright), on the real stack.

As the organizer, using only pages: create a cycle (default scheme for grassroots branches),
see the API's errors beside the fields with the typed values kept, register units by the form
and by an .xlsx upload, open the cycle, set a deadline, open the scoring stage, and read the
progress per stage. The API then reports the same cycle.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook

from tests.conftest import Client
from tests.test_web import CHROMIUM, browser, new_page, screenshot, sign_in  # noqa: F401 - the browser fixture

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

PASSWORD = "org-web-pass-2026"


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def organizer(client: Client) -> None:
    await client.user("org", "organizer")
    r = await client.as_("admin").put("/users/org", json={"role": "organizer", "password": PASSWORD, "display_name": "李组织"})
    assert r.status_code == 200, r.text
    await client.login("org", PASSWORD)


def units_xlsx(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["单位编号", "单位名称", "类型"])
    ws.append(["U3", "第三支部", "基层党总支/党支部"])
    ws.append([None, None, None])  # blank rows are skipped
    wb.save(path)
    return path


async def field_error(page, name: str) -> str:
    return await page.inner_text(f"[data-field='{name}']")


async def test_organizer_creates_a_cycle_registers_units_and_opens_stages(client, stack, browser, tmp_path):  # noqa: F811
    await organizer(client)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))

        # 1. Create a cycle. A bad year: the API's message beside the year, everything typed kept.
        await page.goto("/org/cycles")
        await page.click("[data-testid=new-cycle]")
        await page.wait_for_url(re.compile(r"/org/cycles/new$"))
        assert await page.input_value("[id='policy.work_weight']") == "0.7"  # defaults shown
        assert await page.input_value("[id='scheme.grassroots_branch']") == "default"
        await page.fill("#key", "w1")
        await page.fill("#year", "abc")
        await page.fill("#name", "网页测试周期")
        await page.fill("[id='policy.work_weight']", "0.6")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field=year]")
        assert "年度须为 2000–2100 的整数" in await field_error(page, "year")
        assert await page.get_attribute("#year", "aria-invalid") == "true"
        assert await page.input_value("#year") == "abc"
        assert await page.input_value("#name") == "网页测试周期"
        assert await page.input_value("#key") == "w1"
        assert await page.input_value("[id='policy.work_weight']") == "0.6"

        # Weights 0.6 / 0.3: the error is on the work weight, the year now typed is kept.
        await page.fill("#year", "2026")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field='policy.work_weight']")
        assert "之和必须为 1" in await field_error(page, "policy.work_weight")
        assert await page.input_value("#year") == "2026"
        assert await page.input_value("[id='policy.debrief_weight']") == "0.3"
        await page.fill("[id='policy.work_weight']", "0.7")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_url(re.compile(r"/org/cycles/w1/units\?created=1$"))

        # 2. Units: two by the form, a duplicate refused beside its key (typed name kept), one by .xlsx.
        for key, name in (("U1", "第一支部"), ("U2", "第二支部")):
            await page.fill("#unit-key", key)
            await page.fill("#unit-name", name)
            await page.select_option("#unit-type", "grassroots_branch")
            await page.click("[data-testid=unit-form] button[type=submit]")
            await page.wait_for_url(re.compile(r"registered=1$"))
        await page.fill("#unit-key", "U1")
        await page.fill("#unit-name", "重复的支部")
        await page.click("[data-testid=unit-form] button[type=submit]")
        await page.wait_for_selector("[data-field=key]")
        assert "单位 U1 已登记" in await field_error(page, "key")
        assert await page.input_value("#unit-name") == "重复的支部"

        # A double submit of one rendered form (same idempotency key) registers nothing twice.
        csrf = await page.input_value("[data-testid=upload-form] input[name=csrf]")
        idem = await page.input_value("[data-testid=upload-form] input[name=idem]")
        token = {c["name"]: c["value"] for c in await context.cookies()}["kaohe_token"]
        xlsx = units_xlsx(tmp_path / "units.xlsx")
        async with httpx.AsyncClient(base_url=stack.api_url, cookies={"kaohe_token": token}) as http:
            for expected in ("registered=1", "registered=0"):
                with xlsx.open("rb") as f:
                    r = await http.post("/org/cycles/w1/units/upload", data={"csrf": csrf, "idem": idem},
                                        files={"file": ("units.xlsx", f, "application/octet-stream")})
                assert r.status_code == 303 and r.headers["location"].endswith(expected), (r.status_code, r.text[:300])
        # The same file again from the page (a new form, a new key): U3 exists, said beside the file, with its row.
        await page.goto("/org/cycles/w1/units")
        await page.set_input_files("#unit-file", str(xlsx))
        await page.click("[data-testid=upload-form] button[type=submit]")
        await page.wait_for_selector("[data-field=file]")
        assert "第 2 行" in await field_error(page, "file") and "U3" in await field_error(page, "file")
        assert await page.inner_text("[data-testid=unit-count]") == "3"
        assert "第三支部" in await page.inner_text("[data-testid=units]")

        # 3. The console: open the cycle, set a deadline, open scoring; progress per stage.
        await page.goto("/org/cycles/w1")
        assert await page.locator("[data-testid=open-scoring]").count() == 0  # not while in setup
        await page.click("[data-testid=open-cycle] button")
        await page.wait_for_url(re.compile(r"/org/cycles/w1\?done=1"))
        assert await page.inner_text("[data-testid=cycle-status]") == "进行中"
        assert "0 / 3" in await page.inner_text("[data-testid=progress-self_review]")
        await page.fill("[data-testid=deadline-self_review] input[name=deadline]", "2030-06-30T17:00")
        await page.click("[data-testid=deadline-self_review] button")
        await page.wait_for_url(re.compile(r"done=1"))
        assert await page.input_value("[data-testid=deadline-self_review] input[name=deadline]") == "2030-06-30T17:00"
        await page.click("[data-testid=open-scoring]")
        await page.wait_for_url(re.compile(r"done=1"))
        assert await page.inner_text("[data-testid=state-scoring]") == "进行中"
        assert await page.locator("[data-testid=open-scoring]").count() == 0
        assert "0 / 3" in await page.inner_text("[data-testid=progress-scoring]")
        await screenshot(page, "organizer-console.png", tmp_path, full_page=True)

        # A bad proposal (no reason): the API's message in the form, the typed points kept.
        await page.select_option("#adj-unit", "U2")
        await page.fill("#adj-points", "2")
        await page.click("[data-testid=adjust-form] button[type=submit]")
        await page.wait_for_selector("[data-testid=adjust-form] .field-error, [data-testid=adjust-form] .form-error")
        assert await page.input_value("#adj-points") == "2"
        assert await page.input_value("#adj-unit") == "U2"

        # English on request.
        await page.goto("/org/cycles/w1?lang=en")
        assert "Cycle console" in await page.inner_text("h1")
    finally:
        await context.close()

    # The API reports what the pages did.
    cycle = (await client.as_("org").get("/cycles/w1")).json()
    assert cycle["status"] == "open" and cycle["year"] == 2026 and cycle["name"] == "网页测试周期"
    assert cycle["stages"]["scoring"] == "open" and cycle["progress"]["units"] == 3
    assert datetime.fromisoformat(cycle["deadlines"]["self_review"]) == datetime.fromisoformat("2030-06-30T17:00:00+08:00")
    units = (await client.as_("org").get("/cycles/w1/units")).json()
    assert [(u["unit"], u["name"]) for u in units] == [("U1", "第一支部"), ("U2", "第二支部"), ("U3", "第三支部")]


async def test_other_roles_get_a_403_page(client, stack, browser):  # noqa: F811
    await client.user("u1", "unit", unit="U1")
    r = await client.as_("admin").put("/users/u1", json={"role": "unit", "unit": "U1", "password": PASSWORD})
    assert r.status_code == 200, r.text
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "u1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        response = await page.goto("/org/cycles/new")
        assert response.status == 403
        assert "组织部" in await page.inner_text("[data-testid=error]")
    finally:
        await context.close()


async def test_organizer_edits_and_issues_feedback_and_verifies_an_item(client, stack, browser):  # noqa: F811
    from tests.helpers import cast, small_cycle

    await cast(client)
    key = await small_cycle(client, "published")
    await organizer(client)
    org = client.as_("org")
    r = await org.post(f"/cycles/{key}/rectifications", json={"unit": "U1", "description": "三会一课记录不全"})
    assert r.status_code == 201, r.text
    item = (await org.get(f"/cycles/{key}/rectifications?unit=U1")).json()[-1]["id"]
    r = await client.as_("u1").post(f"/cycles/{key}/rectifications/{item}/submit", json={"text": "已补齐记录"})
    assert r.status_code == 200, r.text
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        # The inbox's feedback task opens the organizer's feedback page.
        await page.click("[data-testid=inbox] tr[data-kind=issue_feedback] .task-title a >> nth=0")
        await page.wait_for_url(re.compile(rf"/org/cycles/{key}/units/U\d/feedback$"))
        await page.goto(f"/org/cycles/{key}/units/U1/feedback")
        assert (await page.input_value("#fb-text")).strip()  # the draft written at publication
        await page.fill("#fb-text", "   ")
        await page.click("[data-testid=feedback-form] button[value=draft]")
        await page.wait_for_selector("[data-testid=feedback-form] .field-error, [data-testid=feedback-form] .form-error")
        await page.fill("#fb-text", "请进一步规范三会一课记录。")
        await page.click("[data-testid=feedback-form] button[value=draft]")
        await page.wait_for_url(re.compile(r"done=1$"))
        assert await page.input_value("#fb-text") == "请进一步规范三会一课记录。"
        await page.click("[data-testid=feedback-form] button[value=issue]")
        await page.click("[data-testid=confirm-yes]")  # the second look before a final action
        await page.wait_for_url(re.compile(r"done=1$"))
        assert "请进一步规范三会一课记录。" in await page.inner_text("[data-testid=feedback-text]")

        # Verify the submitted item: sending back needs a reason (said beside it), then approve.
        await page.goto(f"/org/cycles/{key}#rectification")
        row = f"#item-{item}"
        await page.select_option(f"{row} select[name=decision]", "reject")
        await page.click(f"{row} button[type=submit]")
        await page.wait_for_selector(f"{row} .field-error, {row} .form-error")
        assert await page.input_value(f"{row} select[name=decision]") == "reject"
        await page.select_option(f"{row} select[name=decision]", "approve")
        await page.fill(f"{row} input[name=reason]", "核验通过")
        await page.click(f"{row} button[type=submit]")
        await page.wait_for_url(re.compile(r"done=1"))
        assert "已销号" in await page.inner_text(row)
    finally:
        await context.close()
    fb = (await org.get(f"/cycles/{key}/units/U1/feedback")).json()
    assert fb["status"] == "issued" and fb["text"] == "请进一步规范三会一课记录。"
    items = {i["id"]: i for i in (await org.get(f"/cycles/{key}/rectifications")).json()}
    assert items[item]["status"] == "closed"


async def test_a_scheme_uploaded_as_excel_creates_the_cycle(client, stack, browser, tmp_path):  # noqa: F811
    """A scheme per org type may come from an .xlsx (one row per evaluation point)."""
    from domain.scheme import SCHEME_COLUMNS

    await organizer(client)
    wb = Workbook()
    ws = wb.active
    ws.append(list(SCHEME_COLUMNS))
    ws.append(["1", "政治建设", 6, "1.1", "理论武装", 6, "1.1.1", "第一议题", 3])
    ws.append([None, None, None, None, None, None, "1.1.2", "中心组学习", 3])
    ws.append(["2", "组织建设", 4, "2.1", "支部建设", 4, "2.1.1", "三会一课", 4])
    path = tmp_path / "机关指标.xlsx"
    wb.save(path)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto("/org/cycles/new")
        await page.fill("#key", "xl")
        await page.fill("#year", "2026")
        await page.fill("#name", "表格指标周期")
        await page.select_option("[id='scheme.grassroots_branch']", "")
        await page.select_option("[id='scheme.organ_committee']", "file")
        await page.set_input_files("input[name='scheme_file.organ_committee']", str(path))
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_url(re.compile(r"/org/cycles/xl/units\?created=1$"))
    finally:
        await context.close()
    scheme = stack.app.cycle("xl").schemes["organ_committee"]
    # 6 + 4 = 10 points in three evaluation points, as the sheet says.
    assert [p["code"] for ind in scheme["indicators"] for c in ind["children"] for p in c["points"]] == ["1.1.1", "1.1.2", "2.1.1"]
