"""No dead ends (issue 11, finding 4), in a real browser against the real stack: evidence links
that open for whoever may read them, a nav for every role by the role table, a 404 page, the
admin's account pages (list, create, import from the Excel template, deactivate, reset), a
change-password page for everyone, and deadline fields only where setting one can succeed."""

from __future__ import annotations

import io
import re

import httpx
import pytest

from tests.conftest import Client
from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM_ARGS, browser, new_page, sign_in  # noqa: F401 - the browser fixture

PASSWORD = "nav-web-pass-2026"
ADMIN = ("admin", "admin-pass-123")

pytestmark = [pytest.mark.temporal]


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def with_password(client: Client, username: str, role: str, unit: str | None = None, name: str | None = None) -> None:
    r = await client.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": PASSWORD, "display_name": name})
    assert r.status_code in (200, 201), r.text
    await client.login(username, PASSWORD)


async def signed_in(browser, stack, username: str, password: str = PASSWORD, lang: str | None = None):
    context, page = await new_page(browser, stack)
    await sign_in(page, username, password)
    await page.wait_for_url(re.compile(r"/tasks$"))
    if lang:
        await page.goto(f"/tasks?lang={lang}")
    return context, page


async def nav_links(page) -> dict[str, str]:
    """The header nav: data-nav → href."""
    return await page.eval_on_selector_all(
        "[data-testid=mainnav] a", "links => Object.fromEntries(links.map(a => [a.dataset.nav, a.getAttribute('href')]))")


# ------------------------------------------------------------------ evidence


async def test_evidence_links_open_in_the_browser_for_everyone_who_may_read_them(client, stack, browser):
    await cast(client)
    # A rectification share of 0.9, so U1's 1.1.2 (3.5/4 = 87.5%) is an item to report on.
    key = await small_cycle(client, "published", policy={"rectification_share": "0.9"})
    org = client.as_("org")
    assert (await org.post(f"/cycles/{key}/units/U1/feedback", json={"text": "请加强党员教育管理。"})).status_code == 200
    u1 = client.as_("u1")
    up = await client.http.post("/attachments", headers=u1.headers, files={"file": ("会议记录.txt", "专题组织生活会记录".encode(), "text/plain")})
    assert up.status_code == 201, up.text
    # An item by hand: which problems the feedback opens items for depends on the scoring threshold.
    made = await org.post(f"/cycles/{key}/rectifications", json={"unit": "U1", "description": "补齐组织生活会记录"})
    assert made.status_code == 201, made.text
    item = made.json()["items"][0]
    r = await u1.post(f"/cycles/{key}/rectifications/{item['id']}/progress", json={"text": "已召开", "attachments": [up.json()]})
    assert r.status_code == 200, r.text
    sha = up.json()["sha256"]
    for username, role, unit in (("org", "organizer", None), ("aud", "auditor", None), ("com", "committee", None),
                                 ("u1", "unit", "U1"), ("u2", "unit", "U2"), ("eva", "evaluator", None)):
        await with_password(client, username, role, unit)

    context, page = await signed_in(browser, stack, "org")
    try:
        await page.goto(f"/org/cycles/{key}")
        link = page.locator("a", has_text="会议记录.txt").first  # the report's evidence link
        href = await link.get_attribute("href")
        assert href.startswith(f"/files/{sha}"), href  # not the bearer-token API
        await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        async with page.expect_download() as info:
            await link.click()
        download = await info.value
        assert download.suggested_filename == "会议记录.txt"
        assert open(await download.path(), "rb").read() == "专题组织生活会记录".encode()
    finally:
        await context.close()

    # The same link for every role the table lets read evidence; a 403 page for the others.
    for username, status in (("aud", 200), ("com", 200), ("u1", 200), ("u2", 403), ("eva", 403)):
        context, page = await signed_in(browser, stack, username)
        try:
            if status == 403:
                answer = await page.goto(href)
                assert answer.status == 403, username
                assert "text/html" in answer.headers["content-type"]
                assert await page.locator("[data-testid=error]").count() == 1
            else:  # with the page's cookie (a download, so not a navigation)
                answer = await page.request.get(href)
                assert answer.status == 200, (username, answer.status)
                assert await answer.body() == "专题组织生活会记录".encode()
        finally:
            await context.close()


# ------------------------------------------------------------------ the nav


async def test_every_role_has_a_nav_to_what_it_may_see_and_the_auditor_reaches_the_audit_pages(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "published")
    expected = {
        "org": ("organizer", None, {"tasks": "/tasks", "cycles": "/org/cycles", "results": "/results", "audit": "/audit"}),
        "aud": ("auditor", None, {"tasks": "/tasks", "cycles": "/cycles", "results": "/results", "audit": "/audit"}),
        "com": ("committee", None, {"tasks": "/tasks", "cycles": "/cycles", "results": "/results", "audit": "/audit"}),
        "eva": ("evaluator", None, {"tasks": "/tasks", "cycles": "/cycles"}),
        "u1": ("unit", "U1", {"tasks": "/tasks", "cycles": "/cycles", "results": "/results"}),
        "admin": ("admin", None, {"tasks": "/tasks", "cycles": "/cycles", "users": "/admin/users"}),  # accounts, not results
    }
    for username, (role, unit, nav) in expected.items():
        if username != "admin":
            await with_password(client, username, role, unit)
        context, page = await signed_in(browser, stack, username, ADMIN[1] if username == "admin" else PASSWORD)
        try:
            assert await nav_links(page) == nav, username
            assert await page.locator("header a[href='/account/password']").count() == 1
            # Every nav entry opens a page (no 4xx) that marks itself current.
            for name, href in nav.items():
                answer = await page.goto(href)
                assert answer.status == 200, (username, href, answer.status)
                assert await page.get_attribute(f"[data-nav={name}]", "aria-current") == "page", (username, href)
        finally:
            await context.close()

    # The auditor: the inbox points at the cycles to audit; the audit landing opens the timeline.
    context, page = await signed_in(browser, stack, "aud")
    try:
        assert await page.locator("[data-testid=audit-cycles]").count() == 1
        await page.click(f"[data-testid=audit-cycles] a[href='/audit/{key}']")
        await page.wait_for_url(re.compile(rf"/audit/{key}$"))
        await page.click("[data-nav=audit]")
        await page.wait_for_url(re.compile(r"/audit$"))
        row = page.locator(f"[data-testid=cycle-list] tr[data-cycle={key}]")
        assert "测试周期" in await row.inner_text()
        await row.locator(f"a[href='/audit/{key}/integrity']").click()
        await page.wait_for_url(re.compile(rf"/audit/{key}/integrity$"))
        await page.click("[data-nav=results]")
        await page.locator(f"[data-testid=cycle-list] a[href='/results/{key}']").click()
        await page.wait_for_url(re.compile(rf"/results/{key}$"))
    finally:
        await context.close()

    # The evaluator's cycles page links no page their role may not open.
    context, page = await signed_in(browser, stack, "eva")
    try:
        await page.click("[data-nav=cycles]")
        links = await page.eval_on_selector_all("[data-testid=cycle-list] a", "as => as.map(a => a.getAttribute('href'))")
        assert links == [f"/cycles/{key}"], links
    finally:
        await context.close()


# ------------------------------------------------------------------ 404


async def test_an_unknown_page_is_a_404_page_in_its_language_and_the_api_keeps_json(client, stack, browser):
    await client.login(*ADMIN)
    await with_password(client, "aud", "auditor")
    context, page = await signed_in(browser, stack, "aud")
    try:
        answer = await page.goto("/no/such/page")
        assert answer.status == 404 and "text/html" in answer.headers["content-type"]
        assert "未找到" in await page.inner_text("[data-testid=error]")
        assert (await nav_links(page))["audit"] == "/audit"  # the nav is there
        answer = await page.goto("/no/such/page?lang=en")
        assert answer.status == 404
        text = await page.inner_text("[data-testid=error]")
        assert "Not found" in text and "未找到" not in text
        assert await page.locator("html").get_attribute("lang") == "en"
    finally:
        await context.close()
    context, page = await new_page(browser, stack)  # signed out: the page, with the sign-in link
    try:
        answer = await page.goto("/nowhere")
        assert answer.status == 404 and await page.locator("[data-testid=error] a[href='/login']").count() == 1
    finally:
        await context.close()
    async with httpx.AsyncClient(base_url=stack.api_url) as http:
        r = await http.get("/api/v1/no-such-thing")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


# ------------------------------------------------------------------ the admin's pages


async def test_the_admin_lists_creates_deactivates_and_resets_accounts(client, stack, browser):
    await client.login(*ADMIN)
    for i in range(55):
        await client.as_("admin").put(f"/users/ev{i:02d}", json={"role": "evaluator", "password": "evaluator-pass"})
    await with_password(client, "u1", "unit", "U1", "王晓红")
    admin_ctx, admin = await signed_in(browser, stack, *ADMIN)
    user_ctx, u1 = await signed_in(browser, stack, "u1")
    try:
        await admin.click("[data-nav=users]")
        await admin.wait_for_url(re.compile(r"/admin/users$"))
        assert await admin.inner_text("[data-testid=user-total]") == "57"
        assert await admin.locator("[data-testid=users] tbody tr").count() == 50  # paged
        await admin.click("[data-testid=next-page]")
        assert await admin.locator("[data-testid=users] tbody tr").count() == 7
        await admin.goto("/admin/users")
        await admin.select_option("#role", "unit")
        await admin.click("[data-testid=user-search] button")
        assert await admin.locator("[data-testid=users] tbody tr").count() == 1
        await admin.fill("#q", "王晓")
        await admin.select_option("#role", "")
        await admin.click("[data-testid=user-search] button")
        assert await admin.locator("[data-testid=users] tbody tr[data-user=u1]").count() == 1
        assert await admin.locator("[data-testid=users] tbody tr").count() == 1

        # Create: a missing unit is said beside the field; then a generated password, shown once.
        await admin.goto("/admin/users/new")
        await admin.fill("#username", "dw-07")
        await admin.fill("#display_name", "第七党委联络员")
        await admin.select_option("select#role", "unit")
        await admin.click("[data-testid=save-user]")
        assert await admin.locator("[data-field=unit]").count() == 1
        assert await admin.input_value("#display_name") == "第七党委联络员"
        await admin.fill("#unit", "DW07")
        await admin.click("[data-testid=save-user]")
        once = await admin.inner_text("[data-testid=password]")
        assert len(once) == 12
        await client.login("dw-07", once)
        me = (await client.as_("dw-07").get("/me")).json()
        assert (me["role"], me["unit"], me["display_name"]) == ("unit", "DW07", "第七党委联络员")

        # Deactivate u1: their open session ends at once, they cannot sign in; reactivate.
        await admin.goto("/admin/users/u1")
        await admin.click("[data-testid=toggle-active]")
        await admin.wait_for_selector("[data-testid=inactive]")
        await u1.goto("/tasks")
        assert "/login" in u1.url
        assert (await client.http.post("/auth/login", json={"username": "u1", "password": PASSWORD})).status_code == 401
        await admin.click("[data-testid=toggle-active]")
        await admin.wait_for_selector("[data-testid=done]")
        assert await admin.locator("[data-testid=inactive]").count() == 0
        assert (await client.http.post("/auth/login", json={"username": "u1", "password": PASSWORD})).status_code == 200

        # Reset: a generated one-time password, shown once; the old one no longer opens.
        await admin.click("[data-testid=reset-password]")
        fresh = await admin.inner_text("[data-testid=password]")
        assert (await client.http.post("/auth/login", json={"username": "u1", "password": PASSWORD})).status_code == 401
        assert (await client.http.post("/auth/login", json={"username": "u1", "password": fresh})).status_code == 200
        # ... or one the admin types, at least as long as the store asks.
        await admin.fill("#new_password", "short")
        await admin.click("[data-testid=reset-password]")
        assert await admin.locator("[data-field=new_password]").count() == 1
        await admin.fill("#new_password", "typed-by-admin-1")
        await admin.click("[data-testid=reset-password]")
        assert await admin.inner_text("[data-testid=password]") == "typed-by-admin-1"

        # The last active admin keeps the role, and nobody deactivates themselves here.
        await admin.goto("/admin/users/admin")
        assert await admin.locator("[data-testid=toggle-active]").count() == 0
        await admin.select_option("select#role", "auditor")
        await admin.click("[data-testid=save-user]")
        assert "不能修改自己的角色" in await admin.inner_text("[data-testid=user-form]")  # issue 12: nobody changes their own role
        assert (await client.as_("admin").get("/me")).json()["role"] == "admin"
    finally:
        await admin_ctx.close()
        await user_ctx.close()


def people_sheet(template: bytes, rows: list[tuple]) -> bytes:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    ws.delete_rows(2, ws.max_row)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_the_admin_imports_300_unit_accounts_from_the_template_all_or_nothing(client, stack, browser):
    await client.login(*ADMIN)
    context, page = await signed_in(browser, stack, *ADMIN)
    try:
        await page.goto("/admin/users/import")
        template = await page.request.get(await page.get_attribute("[data-testid=template]", "href"))
        assert template.status == 200
        body = await template.body()
        from openpyxl import load_workbook

        header = [c.value for c in load_workbook(io.BytesIO(body)).worksheets[0][1]]
        assert header == ["用户名", "姓名", "角色", "单位编号", "初始密码"]

        # Three bad rows among good ones: each named by its row, and nothing is written.
        bad = people_sheet(body, [
            ("dw001", "第一党委", "被考核单位", "DW001", ""),      # row 2: good
            ("dw002", "第二党委", "园丁", "DW002", ""),             # row 3: no such role
            ("dw003", "第三党委", "被考核单位", "", ""),            # row 4: a unit contact with no unit
            ("dw001", "重复", "被考核单位", "DW009", ""),           # row 5: login twice
            ("dw005", "第五党委", "unit", "DW005", "short"),        # row 6: password too short
        ])
        await page.set_input_files("#file", files=[{"name": "accounts.xlsx", "mimeType": "application/octet-stream", "buffer": bad}])
        await page.click("[data-testid=do-import]")
        await page.wait_for_selector("[data-testid=problems]")
        rows = await page.eval_on_selector_all("[data-testid=problems] tbody tr", "rs => rs.map(r => r.dataset.row)")
        assert rows == ["3", "4", "5", "6"], rows
        assert "4 处错误" in await page.inner_text("[data-testid=import-error]")
        users = (await client.as_("admin").get("/users")).json()
        assert not any(u["username"].startswith("dw") for u in users)

        good = people_sheet(body, [(f"dw{i:03d}", f"第{i}党委", "被考核单位", f"DW{i:03d}", "") for i in range(1, 301)])
        await page.set_input_files("#file", files=[{"name": "accounts.xlsx", "mimeType": "application/octet-stream", "buffer": good}])
        await page.click("[data-testid=do-import]")
        await page.wait_for_selector("[data-testid=created]", timeout=120_000)
        assert await page.locator("[data-testid=created] tbody tr").count() == 300
        first = page.locator("[data-testid=created] tbody tr").first
        password = (await first.locator("code").inner_text()).strip()
        r = await client.http.post("/auth/login", json={"username": "dw001", "password": password})
        assert r.status_code == 200, r.text
        users = {u["username"]: u for u in (await client.as_("admin").get("/users")).json()}
        assert sum(1 for u in users if u.startswith("dw")) == 300 and users["dw300"]["unit"] == "DW300"
    finally:
        await context.close()


# ------------------------------------------------------------------ one's own password


async def test_every_user_changes_their_own_password(client, stack, browser):
    await client.login(*ADMIN)
    await with_password(client, "eva", "evaluator")
    context, page = await signed_in(browser, stack, "eva")
    other_ctx, other = await signed_in(browser, stack, "eva")  # a second session, elsewhere
    try:
        await page.click("header a[href='/account/password']")
        await page.wait_for_url(re.compile(r"/account/password$"))
        await page.fill("#current", "wrong-password")
        await page.fill("#new", "a-new-pass-2026")
        await page.fill("#repeated", "a-new-pass-2026")
        await page.click("[data-testid=password-form] button")
        assert "当前密码不正确" in await page.inner_text("[data-field=current]")
        await page.fill("#current", PASSWORD)
        await page.fill("#new", "short")
        await page.fill("#repeated", "other")
        await page.click("[data-testid=password-form] button")
        assert await page.locator("[data-field=new]").count() == 1 and await page.locator("[data-field=repeated]").count() == 1
        await page.fill("#current", PASSWORD)
        await page.fill("#new", "a-new-pass-2026")
        await page.fill("#repeated", "a-new-pass-2026")
        await page.click("[data-testid=password-form] button")
        await page.wait_for_selector("[data-testid=done]")
        await page.goto("/tasks")
        assert page.url.endswith("/tasks")  # this session stays
        await other.goto("/tasks")
        assert "/login" in other.url  # the other one ended
        assert (await client.http.post("/auth/login", json={"username": "eva", "password": PASSWORD})).status_code == 401
        assert (await client.http.post("/auth/login", json={"username": "eva", "password": "a-new-pass-2026"})).status_code == 200
    finally:
        await context.close()
        await other_ctx.close()


# ------------------------------------------------------------------ deadlines


async def test_a_deadline_is_offered_only_where_setting_it_succeeds(client, stack, browser):
    await cast(client)
    key = await small_cycle(client, "setup")
    await with_password(client, "org", "organizer")
    context, page = await signed_in(browser, stack, "org")
    try:
        await page.goto(f"/org/cycles/{key}")
        # Not opened yet: the process that records deadlines does not run; no field to fail.
        assert await page.locator("[data-testid^=deadline-] input[name=deadline]").count() == 0
        assert await page.locator("[data-testid=deadline-text-self_review]").count() == 1
        assert (await client.as_("org").post(f"/cycles/{key}/open")).status_code == 200
        await page.goto(f"/org/cycles/{key}")
        # Open: a field for every stage not closed, pending ones too, and each succeeds.
        for stage in ("self_review", "scoring"):
            await page.fill(f"[data-testid=deadline-{stage}] input[name=deadline]", "2030-06-30T17:00")
            await page.click(f"[data-testid=deadline-{stage}] button")
            await page.wait_for_selector(f"[data-testid=deadline-{stage}]")
            assert await page.input_value(f"[data-testid=deadline-{stage}] input[name=deadline]") == "2030-06-30T17:00"
        deadlines = (await client.as_("org").get(f"/cycles/{key}")).json()["deadlines"]
        assert set(deadlines) == {"self_review", "scoring"}
    finally:
        await context.close()
