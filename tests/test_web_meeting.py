"""The debrief meeting in Debian's Chromium: the organizer imports the roster from an .xlsx,
prints the one-time ballot codes, a representative opens a code's URL (taken from the PDF) on a
390-px phone with no account and casts; the same code again gets the clear page; the turnout on
the organizer's page rises by itself."""

from __future__ import annotations

import io
import re

import pytest

from tests.helpers import cast, small_cycle
from tests.test_web import CHROMIUM, new_page, screenshot, sign_in
from tests.test_web_people import PASSWORD, with_password

COHORT = "grassroots_branch"

pytestmark = [
    pytest.mark.temporal,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.async_api", reason="Playwright 未安装 / playwright is not installed (pip install -e '.[test]')")

from tests.test_web import backend, browser  # noqa: E402,F401  (fixtures: one store, one browser per module)


def roster_xlsx(rows: list[tuple[str, str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["代表", "类别", "党组织类型"])
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def test_the_meeting_codes_a_phone_and_the_live_turnout(client, stack, browser, tmp_path):
    import pypdf
    import pypdfium2
    import zxingcpp

    await cast(client)
    await client.user("R4", "representative")
    key = await small_cycle(client, "debrief", key="meet")  # roster R1..R3
    await with_password(client, "org", "organizer", None, "组织部李明")
    await with_password(client, "R2", "representative", None, "张代表")
    context, page = await new_page(browser, stack)
    phone_context, phone = await new_page(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/org/cycles/{key}")
        await page.click(f"[data-testid=meeting-{COHORT}]")
        await page.wait_for_url(re.compile(rf"/org/cycles/{key}/debrief/{COHORT}$"))
        assert await page.inner_text("[data-testid=turnout-value]") == "0/3（0%）"

        # A roster file naming R3 twice: refused at its row, nothing changed.
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(roster_xlsx([("R1", "", COHORT), ("R3", "", COHORT), ("R3", "", COHORT)]))
        await page.set_input_files("#mt-file", str(bad))
        async with page.expect_navigation() as nav:
            await page.click("[data-testid=roster-upload] button[type=submit]")
        assert (await nav.value).status == 422
        assert "第 4 行" in await page.inner_text("[data-testid=file-error]") and "R3" in await page.inner_text("[data-testid=file-error]")
        assert await page.inner_text("[data-testid=turnout-value]") == "0/3（0%）"
        # A good one: R1..R4 (the Chinese name of the cohort is read too).
        good = tmp_path / "good.xlsx"
        good.write_bytes(roster_xlsx([(r, "", "党支部") for r in ("R1", "R2", "R3", "R4")]))
        await page.set_input_files("#mt-file", str(good))
        await page.click("[data-testid=roster-upload] button[type=submit]")
        await page.wait_for_selector("[data-testid=notice]")
        assert await page.inner_text("[data-testid=turnout-value]") == "0/4（0%）"

        # The printable codes: a PDF, one slip per representative; R2's URL from it.
        async with page.expect_download() as dl:
            await page.click("[data-testid=print-codes]")
        pdf = await (await dl.value).path()
        text = "".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
        assert text.count("代表 Representative") == 4 and "张代表" in text
        slips = re.findall(r"代表 Representative：(\S+)\s+(http\S+/b/[\w-]+)", text)
        # Scanned as a phone would: every page rendered to pixels and its QR codes decoded.
        scanned = set()
        document = pypdfium2.PdfDocument(str(pdf))
        for pdf_page in document:
            scanned |= {code.text for code in zxingcpp.read_barcodes(pdf_page.render(scale=3).to_pil())}
            pdf_page.close()
        document.close()
        assert len(scanned) == 4 and scanned == {u for _, u in slips}  # each slip's QR is its printed address
        url = dict(slips)["张代表（R2）"]

        # On the phone, no account: the session's secretaries, cast once as R2.
        await phone.goto(url)
        assert "张代表" in await phone.inner_text("[data-testid=code-representative]")
        assert await phone.locator(".pp-secretary").count() == 2
        await screenshot(phone, "ballot-by-code-phone.png", tmp_path)
        await phone.fill("[name='score.U1']", "93")
        await phone.fill("[name='score.U2']", "83")
        await phone.click("[data-testid=ballot] button[type=submit]")
        await phone.click("[data-testid=confirm-yes]")  # the second look before a final action
        await phone.wait_for_selector("[data-testid=ballot-done]")
        assert "已提交，谢谢" in await phone.inner_text("[data-testid=ballot-done]")
        sheet = (await client.as_("aud").get(f"/cycles/{key}/debrief")).json()[0]
        assert sheet["ballots"] == 1

        # The same code again: the clear page, zh-CN first, not a crash.
        response = await phone.goto(url)
        assert response.status == 409
        refused = await phone.inner_text("[data-testid=code-refused]")
        assert "此评议码已使用过" in refused and "R2" in refused
        assert await phone.locator("[data-testid=ballot]").count() == 0
        # A code that is not ours
        response = await phone.goto("/b/not-a-code-at-all")
        assert response.status == 404 and "无效的评议码" in await phone.inner_text("[data-testid=code-refused]")

        # The organizer's page, left open, shows the turnout rising by itself (htmx, every 3 s).
        await page.wait_for_function(
            "() => document.querySelector('[data-testid=turnout-value]').textContent.trim() === '1/4（25%）'", timeout=15_000
        )
        assert "已投" in await page.inner_text("[data-testid=member-R2]")
    finally:
        await phone_context.close()
        await context.close()
