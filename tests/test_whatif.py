"""What-if replay (issue 13 §7) on the contract's worked example, run for real: the example
simulated through the API, then its grades recomputed under another policy over HTTP, in the
browser (the organizer's page) and by ``kaohe audit whatif`` — nothing written.

The expected values are worked by hand in tests/domain/test_whatif.py from the example's W and
D and SPEC §4: with the debrief weight 0.4 (work 0.6) every composite moves (P01 96.76 → 96.85,
P02 90.65 → 90.70, …) and no rank or grade changes; with 0.5/0.5 P01 (96.94) overtakes P04
(96.75): ranks 2 → 1 and 1 → 2, grades unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulation.scenario import load
from tests.conftest import CONTRACT, log_position
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - fixtures and helpers

pytestmark = pytest.mark.temporal

CYCLE = "example-2026"
AT_0_4 = {"P01": "96.85", "P02": "90.70", "P03": "86.48", "P04": "97.00", "P05": "75.00",
          "Q01": "93.23", "Q02": "80.82", "Q03": "91.45", "Q04": "66.68"}
ORG_PASSWORD = "whatif-org-pass-2026"


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def simulated(client, stack) -> None:
    from simulation import runner as simulate

    scenario = load(CONTRACT / "example-2026.json")
    expected = json.loads((CONTRACT / "example-2026.results.json").read_text("utf-8"))
    results = await simulate.run(stack.api_url, ("admin", "admin-pass-123"), scenario, simulate.Progress(quiet=True), feedback=False)
    assert results == expected
    await client.login("admin", "admin-pass-123")
    r = await client.as_("admin").put("/users/org-w", json={"role": "organizer", "password": ORG_PASSWORD})
    assert r.status_code in (200, 201), r.text
    await client.login("org-w", ORG_PASSWORD)


async def test_whatif_over_the_api_lists_the_changed_units_and_writes_nothing(client, stack):
    await simulated(client, stack)
    await client.user("com-w", "committee")
    await client.user("u-w", "unit", "P01")
    before = log_position(stack)
    path = f"/audit/cycles/{CYCLE}/whatif"

    r = await client.as_("org-w").post(path, json={"work_weight": "0.6", "debrief_weight": 0.4})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["changed"] == [] and out["written"] is False
    assert {u["unit"]: u["after"]["composite"] for u in out["units"]} == AT_0_4

    r = await client.as_("com-w").post(path, json={"work_weight": "0.5", "debrief_weight": "0.5"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["changed"] == ["P01", "P04"]
    p01 = next(u for u in out["units"] if u["unit"] == "P01")
    assert (p01["before"]["rank"], p01["after"]["rank"], p01["after"]["grade"]) == (2, 1, "excellent")
    p05 = next(u for u in out["units"] if u["unit"] == "P05")
    assert p05["overridden"] and p05["decisions"][0]["kind"] == "override" and p05["after"]["grade"] == "poor"

    # A bad policy is refused naming the field; a unit user may not ask; nothing was written.
    r = await client.as_("org-w").post(path, json={"debrief_weight": "0.4"})  # 0.7 + 0.4 = 1.1
    assert r.status_code == 422 and r.json()["field"] == "policy.work_weight", r.text
    r = await client.as_("org-w").post(path, json={"thresholds": {"excellent": "x"}})
    assert r.status_code == 422 and r.json()["field"] == "policy.thresholds.excellent", r.text
    assert (await client.as_("u-w").post(path, json={})).status_code == 403
    assert (await client.as_("org-w").post("/audit/cycles/nope/whatif", json={})).status_code == 404
    assert log_position(stack) == before
    # The published results are as they were.
    assert (await client.as_("org-w").get(f"/audit/cycles/{CYCLE}/replay")).json()["results"] == json.loads(
        (CONTRACT / "example-2026.results.json").read_text("utf-8"))


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM}")
async def test_the_organizer_page_shows_the_changed_units(client, stack, browser, tmp_path):  # noqa: F811
    await simulated(client, stack)
    before = log_position(stack)
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org-w", ORG_PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks|/org"))
        await page.goto(f"/audit/{CYCLE}")
        await page.click(f"nav.ov-subnav a[href='/audit/{CYCLE}/whatif']")
        await page.wait_for_url(re.compile(r"/whatif$"))
        # Prefilled with the cycle's recorded policy.
        assert await page.input_value("[id='policy.work_weight']") == "0.7"
        assert await page.input_value("[id='policy.debrief_weight']") == "0.3"
        assert await page.query_selector("[data-testid=whatif-result]") is None

        # 0.4 alone: weights sum to 1.1, refused beside the work weight, nothing computed.
        await page.fill("[id='policy.debrief_weight']", "0.4")
        await page.click("[data-testid=whatif-run]")
        await page.wait_for_selector("[data-field='policy.work_weight']")
        assert "1.1" in await page.inner_text("[data-field='policy.work_weight']")
        assert await page.query_selector("[data-testid=whatif-result]") is None
        assert await page.input_value("[id='policy.debrief_weight']") == "0.4"  # as typed

        # 0.6/0.4: every composite moves, no rank or grade.
        await page.fill("[id='policy.work_weight']", "0.6")
        await page.click("[data-testid=whatif-run]")
        await page.wait_for_selector("[data-testid=whatif-none]")
        await page.click("[data-testid=whatif-result] details summary")
        all_rows = await page.inner_text("[data-testid=whatif-all]")
        assert "96.76 → 96.85" in all_rows and "90.65 → 90.70" in all_rows

        # 0.5/0.5: P01 and P04 swap places.
        await page.fill("[id='policy.work_weight']", "0.5")
        await page.fill("[id='policy.debrief_weight']", "0.5")
        await page.click("[data-testid=whatif-run]")
        await page.wait_for_selector("[data-testid=whatif-changed]")
        units = await page.eval_on_selector_all("[data-testid=whatif-changed] tbody tr", "rs => rs.map(r => r.dataset.unit)")
        assert units == ["P01", "P04"], units
        row = await page.inner_text("[data-testid=whatif-changed] tr[data-unit=P01]")
        assert "2 → 1" in row and "名次 2→1" in row and "综合得分 96.76→96.94" in row
        changes = await page.inner_text("[data-testid=policy-changes]")
        assert "0.30 → 0.50" in changes
        await page.click("[data-testid=whatif-result] details summary")
        assert "党委调整等次" in await page.inner_text("[data-testid=whatif-all] tr[data-unit=P05]")
        # The same result in English, every word of it (the page's language, not the Chinese of the log).
        await page.click("header a:text-is('English')")
        await page.wait_for_url(re.compile(r"lang=en"))
        row = await page.inner_text("[data-testid=whatif-changed] tr[data-unit=P01]")
        assert "rank 2→1" in row and "composite 96.76→96.94" in row and "名次" not in row
        assert await page.input_value("[id='policy.work_weight']") == "0.5"
        await page.screenshot(path=str(tmp_path / "whatif.png"), full_page=True)
    finally:
        await context.close()
    assert log_position(stack) == before


# ---------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory):
    from tests.test_cli import Kaohe, simulated as cli_simulated

    kaohe = Kaohe(tmp_path_factory.mktemp("whatif-cli") / "data")
    cli_simulated(kaohe, CONTRACT / "example-2026.json")
    return kaohe


def policy_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "policy.json"
    path.write_text(body, "utf-8")
    return str(path)


def test_cli_whatif_lists_the_changed_units_and_writes_nothing(cli, tmp_path):
    app = cli.app()  # kept: an application closes its store when it is dropped
    before = app.recorder.max_notification_id()
    p = cli("audit", "whatif", "--cycle", CYCLE, "--policy", policy_file(tmp_path, '{"work_weight": 0.6, "debrief_weight": 0.4}'), timeout=120)
    assert p.returncode == 0, p.stderr
    assert "没有单位的名次或等次会改变" in p.stdout
    p = cli("audit", "whatif", "--cycle", CYCLE, "--json", "--policy", policy_file(tmp_path, '{"work_weight": 0.6, "debrief_weight": 0.4}'), timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["changed"] == [] and {u["unit"]: u["after"]["composite"] for u in out["units"]} == AT_0_4
    p = cli("audit", "whatif", "--cycle", CYCLE, "--policy", policy_file(tmp_path, '{"work_weight": "0.5", "debrief_weight": "0.5"}'), timeout=120)
    assert p.returncode == 0, p.stderr
    rows = [line.split("\t") for line in p.stdout.splitlines() if not line.startswith("#")][1:]
    assert [(r[0], r[1], r[2]) for r in rows] == [("P01", "2→1", "优秀→优秀"), ("P04", "1→2", "良好→良好")], p.stdout
    assert "述职评议权重 0.30→0.50：综合得分 96.76→96.94，名次 2→1" in rows[0][4]
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize(("body", "mentions"), [
    ('{"debrief_weight": "0.4"}', "policy.work_weight"),  # 0.7 + 0.4 ≠ 1
    ('{"work_weight": "0.6", "debrief_weight": "0.4", "excellent_share": 2}', "policy.excellent_share"),
    ('{"colour": "red"}', "policy.colour"),
    ('{"work_weight": ', "JSON"),
    ('["work_weight"]', "policy"),
])
def test_cli_whatif_refuses_a_bad_policy_in_one_line(cli, tmp_path, body, mentions):
    from tests.test_cli import one_error_line

    line = one_error_line(cli("audit", "whatif", "--cycle", CYCLE, "--policy", policy_file(tmp_path, body), timeout=120))
    assert mentions in line


def test_cli_whatif_usage_and_missing_things(cli, tmp_path):
    from tests.test_cli import one_error_line

    p = cli("audit", "whatif", "--cycle", CYCLE, timeout=60)
    assert p.returncode == 2 and "--policy" in p.stderr
    assert "nope.json" in one_error_line(cli("audit", "whatif", "--cycle", CYCLE, "--policy", str(tmp_path / "nope.json"), timeout=60))
    assert "nope" in one_error_line(cli("audit", "whatif", "--cycle", "nope", "--policy", policy_file(tmp_path, "{}"), timeout=60))
