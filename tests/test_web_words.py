"""Every page of a finished example cycle, as each role, speaks in words (issue 11, finding 1).

The worked example (``examples/scenario-2026.json``: 12 units in two cohorts) is played to the end
through the JSON API by the scenario runner. Then, as each role, the pages are crawled over HTTP
(``httpx`` with the session cookie, the real stack): the inbox, the header's links, the known page
routes with the cycle's keys filled in, and every link found on the way. The *visible* text of
each page (not attributes, URLs or scripts) must not contain an internal key (a cohort, stage,
status, role, grade or task kind as a word), an event class name, a field path such as
``scores.1.2.1``, a "中文 / English" message, an English sentence on a Chinese page, or a decimal
with more than two places. The English pages must show no status as its lower-case code.

One browser test then looks at the two pages the issue names first, the results page (chart
legend, distribution, ranking) and the representative's phone inbox, as a person sees them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from api.web import catalogue
from tests.conftest import EXAMPLES, Client
from tests.test_web import CHROMIUM, browser, new_page, sign_in  # noqa: F401 - fixtures and helpers

pytestmark = [pytest.mark.temporal]

SCENARIO = EXAMPLES / "scenario-2026.json"
PASSWORD = "words-crawl-pass-2026"

#: One user of each role the example has (the runner's names), plus an auditor and the admin.
CAST = {
    "organizer": ("sim-organizer", None),
    "evaluator": ("sim-evaluator", None),
    "unit": ("unit-U08", "U08"),
    "representative": ("R01", None),
    "committee": ("sim-committee", None),
    "auditor": ("words-aud", None),
    "admin": ("admin", None),
}

#: Pages no crawl follows: downloads, sign-out, the static files, the JSON API.
SKIP = re.compile(r"^/(static|api|logout|docs|openapi)|/download/|/export$|\.(csv|docx|xlsx|zip|pdf|json)$|/files/")

MAX_PAGES = 300
VARIANTS = 6  # pages visited per path with different queries
LOGIN_ADMIN = re.compile(r"(?<![A-Za-z0-9_-])admin(?![A-Za-z0-9_-])")


@pytest.fixture
def backend() -> str:
    return "sqlite"


class Visible(HTMLParser):
    """The text a person sees (not scripts, styles, templates, hidden inputs or attributes) and the links."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def family(prefix: str) -> set[str]:
    return {k[len(prefix):] for k in catalogue.CATALOGUE if k.startswith(prefix)}


def event_types() -> set[str]:
    """Every domain event's class name (``BallotCast``…), from the aggregates."""
    import inspect

    from domain import aggregates
    from eventsourcing.domain import DomainEvent

    names = set()
    for _, cls in inspect.getmembers(aggregates, inspect.isclass):
        for name, inner in vars(cls).items():
            if inspect.isclass(inner) and issubclass(inner, DomainEvent) and name[0].isupper() and name not in ("Event", "Created"):
                names.add(name)
    return names


KEYS = family("cohort.") | family("stage.") | family("value.") | family("role.") | family("grade.") | family("kind.") | family("adjustment.")
EVENTS = event_types()
STATUS_CODES = family("value.")

CJK = re.compile(r"[\u3400-\u9fff]")
FIELD_PATH = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)*\.\d+(?:\.\d+)+\b|\b[a-z]+_[a-z_]+\.[a-z_]+\b")
LONG_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])")
BILINGUAL = re.compile(r"[\u3400-\u9fff，。）)]\s*/ +[A-Za-z]{2,}")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){3,}")


def token(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(word)}(?![A-Za-z0-9_-])")  # a login such as sim-committee is not the key


KEY_TOKENS = {k: token(k) for k in KEYS | EVENTS}


def problems(texts: list[str], lang: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        if lang == "zh":
            for word, pattern in KEY_TOKENS.items():
                if pattern.search(text):
                    found.append(f"key {word!r} in {text!r}")
            if BILINGUAL.search(text):
                found.append(f"bilingual message {text!r}")
            if ENGLISH_SENTENCE.search(text) and not CJK.search(text):
                found.append(f"English sentence {text!r}")
        else:
            for word in STATUS_CODES | KEYS:
                if "_" in word and KEY_TOKENS[word].search(text) or text == word:
                    found.append(f"code {word!r} in {text!r}")
            for word in EVENTS:
                if KEY_TOKENS[word].search(text):
                    found.append(f"event class {word!r} in {text!r}")
            if CJK.search(text) and re.search(r"[A-Za-z]{3,}", text) and " / " in text:
                found.append(f"bilingual message {text!r}")
        if FIELD_PATH.search(text):
            found.append(f"field path {FIELD_PATH.search(text).group(0)!r} in {text!r}")
        if LONG_DECIMAL.search(text):
            found.append(f"long decimal {LONG_DECIMAL.search(text).group(0)!r} in {text!r}")
    return found


async def play_the_example(client: Client, stack) -> dict[str, Any]:
    from simulation import runner as simulate
    from simulation.scenario import load

    scenario = load(SCENARIO)
    await simulate.run(stack.api_url, ("admin", "admin-pass-123"), scenario, simulate.Progress(quiet=True))
    await client.login("admin", "admin-pass-123")
    for role, (name, unit) in CAST.items():
        if name == "admin":
            continue
        body: dict[str, Any] = {"role": role, "password": PASSWORD}
        if unit:
            body["unit"] = unit
        current = await client.as_("admin").get(f"/users/{name}")
        if current.status_code == 200 and current.json().get("display_name"):
            body["display_name"] = current.json()["display_name"]
        elif role == "auditor":
            body["display_name"] = "审计员 周敏"
        r = await client.as_("admin").put(f"/users/{name}", json=body)
        assert r.status_code in (200, 201), r.text
    return scenario


def known_pages(sc: dict[str, Any]) -> list[str]:
    key = sc["cycle"]["key"]
    units = [u["key"] for u in sc["units"]]
    cohorts = sorted({u["org_type"] for u in sc["units"]})
    pages = ["/tasks", "/org", "/org/cycles", "/org/cycles/new", f"/org/cycles/{key}", f"/org/cycles/{key}/units",
             f"/cycles/{key}", f"/results/{key}", f"/committee/{key}/allocation", f"/committee/{key}/adjustments",
             f"/audit/{key}", f"/audit/{key}/integrity"]
    for cohort in cohorts:
        pages += [f"/org/cycles/{key}/debrief/{cohort}", f"/org/cycles/{key}/debrief/{cohort}/turnout", f"/ballot/{key}/{cohort}"]
    for unit in units[:1] + units[7:9]:
        pages += [f"/cycles/{key}/units/{unit}", f"/my/{key}/{unit}", f"/self-review/{key}/{unit}", f"/scoring/{key}/{unit}",
                  f"/audit/{key}/explain/{unit}", f"/org/cycles/{key}/units/{unit}/feedback"]
    return pages


async def crawl(base: str, username: str, password: str, lang: str, start: list[str]) -> tuple[dict[str, list[str]], int]:
    """Sign in with the page form, then visit ``start`` and every link found (this site only)."""
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=True) as http:
        r = await http.post("/login", data={"username": username, "password": password, "next": "/tasks"})
        assert r.status_code == 200 and urlsplit(str(r.url)).path == "/tasks", (username, r.status_code, r.url)
        http.cookies.set("kaohe_lang", lang)
        seen: set[str] = set()
        variants: dict[str, int] = {}
        queue = list(start)
        bad: dict[str, list[str]] = {}
        visited = 0
        while queue and visited < MAX_PAGES:
            path = queue.pop(0)
            parts = urlsplit(path)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            target = re.sub(r"([?&])lang=[a-z]+&?", r"\1", target).rstrip("?&")
            if target in seen or SKIP.search(parts.path):
                continue
            seen.add(target)
            variants[parts.path] = variants.get(parts.path, 0) + 1
            if variants[parts.path] > VARIANTS:  # a list's sort, filter and page links: a few of each page suffice
                continue
            r = await http.get(target)
            if "text/html" not in r.headers.get("content-type", ""):
                continue
            assert r.status_code < 500, (username, target, r.status_code)
            visited += 1
            page = Visible()
            page.feed(r.text)
            texts = page.texts
            if parts.path.startswith(("/admin/", "/audit/accounts")):  # account pages name each login, and the admin's is "admin"
                texts = [LOGIN_ADMIN.sub("", text) for text in texts]
            found = problems(texts, lang)
            if found:
                bad[target] = found
            for href in page.links:
                link = urlsplit(urljoin(str(r.url), href))
                if link.netloc and link.netloc != urlsplit(base).netloc:
                    continue
                if link.path.startswith("/") and not SKIP.search(link.path):
                    queue.append(link.path + (f"?{link.query}" if link.query else ""))
        return bad, visited


def report(bad: dict[str, list[str]]) -> str:
    lines = []
    for page, found in sorted(bad.items()):
        lines.append(page)
        lines += [f"    {f}" for f in sorted(set(found))[:40]]
    return "\n".join(lines)


async def test_every_page_of_a_finished_cycle_speaks_in_words_for_every_role(client, stack):
    sc = await play_the_example(client, stack)
    start = known_pages(sc)
    failures: dict[str, str] = {}
    visited: dict[str, int] = {}
    for role, (name, _) in CAST.items():
        password = "admin-pass-123" if name == "admin" else PASSWORD
        for lang in ("zh", "en"):
            bad, count = await crawl(stack.api_url, name, password, lang, start)
            visited[f"{role}/{lang}"] = count
            if bad:
                failures[f"{role} ({lang})"] = report(bad)
    # Each role saw its share of the system, not only error pages.
    assert visited["organizer/zh"] >= 15 and visited["auditor/zh"] >= 10 and visited["committee/zh"] >= 8, visited
    assert max(visited.values()) < MAX_PAGES, visited  # every page reached, none left unvisited
    assert not failures, "\n".join(f"== {who}\n{text}" for who, text in failures.items())


def test_the_checks_catch_what_the_issue_saw():
    """The crawl's own checks, on the texts issue 11 found (and on their repaired forms)."""
    seen = ["为 grassroots_branch 书记述职评分", "本周期没有 organ_committee 类型的指标体系", "scores.1.2.1 不是有效数字",
            "周期编号须为 1–64 个字符，不含", "（现为 1.1）/ work_weight + debrief_weight must equal 1", "平均分 92.3333333333",
            "BallotCast", "组织部(organizer)", "the cycle is open, not setup"]
    found = problems(seen, "zh")
    for text in seen[:3] + seen[4:]:
        assert any(repr(text) in f for f in found), text
    assert problems(["为基层党总支/党支部书记述职评分", "指标 1.2.1 的得分不是有效数字", "平均分 92.33", "8 / 8 已完成", "2026-03-01 14:00"], "zh") == []
    assert problems(["open"], "en") and problems(["self_review"], "en") and not problems(["Open", "Open the cycle"], "en")


async def test_refusals_over_the_api_carry_each_language_whole(client, stack):
    """The JSON body of a refusal: ``message_zh`` and ``message_en`` apart, the Chinese naming no key."""
    await client.user("org", "organizer")
    org = client.as_("org")
    from tests.helpers import TINY_SCHEME as scheme

    r = await org.post("/cycles", json={"key": "w1", "year": 2026, "name": "词语", "schemes": {"grassroots_branch": scheme},
                                        "policy": {"work_weight": "0.8", "debrief_weight": "0.3"}})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message_zh"] == "工作评分权重与述职评议权重之和必须为 1（现为 1.1）"
    assert body["message_en"] == "the work weight and the debrief weight must add up to 1 (now 1.1)"
    assert body["message"] == f"{body['message_zh']} / {body['message_en']}" and body["field"] == "policy.work_weight"
    r = await org.post("/cycles", json={"key": "a/b", "year": 2026, "name": "词语", "schemes": {"grassroots_branch": scheme}})
    assert r.status_code == 422 and r.json()["message_zh"].endswith("不含 / 和首尾空格"), r.text  # not cut at its "/"
    r = await org.post("/cycles", json={"key": "w1", "year": 2026, "name": "词语", "schemes": {"grassroots_branch": scheme}})
    assert r.status_code == 201, r.text
    r = await org.post("/cycles/w1/units", json={"units": [{"key": "X1", "name": "机关一支部", "org_type": "organ_committee"}]})
    assert r.status_code == 422 and r.json()["message_zh"] == "本周期没有机关党委的指标体系", r.text
    for text in (r.json()["message_zh"],):
        assert not problems([text], "zh")
    await client.user("u9", "unit", unit="X1")
    r = await client.as_("u9").post("/cycles", json={"key": "w2", "year": 2026, "name": "词语", "schemes": {}})
    assert r.status_code == 403 and "organizer" not in r.json()["message_zh"] and "组织部" in r.json()["message_zh"], r.text


def test_every_domain_event_has_a_name_in_both_languages():
    assert EVENTS and sorted(e for e in EVENTS if not catalogue.has(f"event.{e}")) == []
    for e in EVENTS:
        assert catalogue.event("zh", e) != e and catalogue.event("en", e) != e


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"浏览器测试需要 Debian 的 chromium / browser tests need Debian's chromium at {CHROMIUM}")
async def test_the_phone_inbox_and_the_results_page_name_cohorts_in_words(client, stack, browser):  # noqa: F811
    from tests.helpers import cast, small_cycle

    await cast(client)
    key = await small_cycle(client, "debrief")
    done = await small_cycle(client, "published", key="c2")
    for name, role in (("R1", "representative"), ("org", "organizer")):
        r = await client.as_("admin").put(f"/users/{name}", json={"role": role, "password": PASSWORD,
                                                                   "display_name": "张代表" if name == "R1" else "李明"})
        assert r.status_code == 200, r.text

    # The representative's inbox on a phone: the session by its cohort's name.
    context, page = await new_page(browser, stack, width=390, height=844)
    try:
        await sign_in(page, "R1", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        task = await page.inner_text("[data-testid=inbox] tbody tr[data-kind=cast_ballot] .task-title")
        assert task.strip() == "为基层党总支/党支部书记述职评分", task
        await page.click("[data-testid=inbox] tbody tr[data-kind=cast_ballot] .task-title a")
        await page.wait_for_url(re.compile(rf"/ballot/{key}/grassroots_branch$"))
        assert "基层党总支/党支部" in await page.inner_text("h1")
        assert "grassroots_branch" not in await page.inner_text("body")
    finally:
        await context.close()

    # The results page: chart legend, distribution table and every ranking row in words.
    context, page = await new_page(browser, stack)
    try:
        await sign_in(page, "org", PASSWORD)
        await page.wait_for_url(re.compile(r"/tasks$"))
        await page.goto(f"/results/{done}")
        await page.wait_for_selector("#ov-chart[data-rendered='1'] canvas")
        legend = await page.evaluate("echarts.getInstanceByDom(document.getElementById('ov-chart')).getOption().series.map(s => s.name)")
        assert legend == ["基层党总支/党支部"]
        assert (await page.inner_text("[data-testid=distribution] tbody td >> nth=0")).strip() == "基层党总支/党支部"
        cells = await page.locator("[data-testid=results] tbody tr td[data-label='组别']").all_inner_texts()
        assert cells == ["基层党总支/党支部", "基层党总支/党支部"], cells
        assert "grassroots_branch" not in await page.inner_text("main")
        # In English: the cohort and the cycle's status in English words, not their codes.
        await page.goto(f"/results/{done}?lang=en")
        await page.wait_for_selector("#ov-chart[data-rendered='1'] canvas")
        legend = await page.evaluate("echarts.getInstanceByDom(document.getElementById('ov-chart')).getOption().series.map(s => s.name)")
        assert legend == ["Grassroots branch"]
        await page.goto(f"/cycles/{done}?lang=en")
        assert (await page.inner_text("[data-testid=cycle-status]")).strip() == "Published"

        # A refused form: the message beside its field whole, in the page's language alone.
        await page.goto("/org/cycles/new?lang=zh")
        await page.fill("#key", "a/b")
        await page.fill("#year", "2026")
        await page.fill("#name", "词语测试周期")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field=key]")
        assert (await page.inner_text("[data-field=key]")).strip() == "周期编号须为 1–64 个字符，不含 / 和首尾空格"
        await page.fill("#key", "w9")
        await page.fill("[id='policy.work_weight']", "0.6")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field='policy.work_weight']")
        assert (await page.inner_text("[data-field='policy.work_weight']")).strip() == "工作评分权重与述职评议权重之和必须为 1（现为 0.9）"
        await page.goto("/org/cycles/new?lang=en")
        await page.fill("#key", "w9")
        await page.fill("#year", "2026")
        await page.fill("#name", "words")
        await page.fill("[id='policy.work_weight']", "0.6")
        await page.click("[data-testid=cycle-form] button[type=submit]")
        await page.wait_for_selector("[data-field='policy.work_weight']")
        assert (await page.inner_text("[data-field='policy.work_weight']")).strip() == \
            "the work weight and the debrief weight must add up to 1 (now 0.9)"
    finally:
        await context.close()


async def test_the_pages_of_cycles_in_progress_speak_in_words_too(client, stack):
    """The same checks while work is under way: an open debrief session (the inbox's tasks, the
    ballot) and an open allocation (the committee's page, its problems and proposals)."""
    from tests.helpers import cast, small_cycle

    await cast(client)
    debrief = await small_cycle(client, "debrief")
    allocation = await small_cycle(client, "allocation", key="c2")
    people = {"org": "organizer", "eva": "evaluator", "u1": "unit", "R1": "representative", "com": "committee", "aud": "auditor"}
    for name, role in people.items():
        body = {"role": role, "password": PASSWORD, **({"unit": "U1"} if role == "unit" else {})}
        assert (await client.as_("admin").put(f"/users/{name}", json=body)).status_code == 200
    start = ["/tasks", f"/cycles/{debrief}", f"/cycles/{allocation}", f"/org/cycles/{debrief}", f"/org/cycles/{allocation}",
             f"/ballot/{debrief}/grassroots_branch", f"/committee/{allocation}/allocation", f"/committee/{allocation}/adjustments",
             f"/org/cycles/{debrief}/debrief/grassroots_branch", f"/audit/{allocation}", f"/self-review/{debrief}/U1"]
    failures = {}
    for name in people:
        for lang in ("zh", "en"):
            bad, _ = await crawl(stack.api_url, name, PASSWORD, lang, start)
            if bad:
                failures[f"{name} ({lang})"] = report(bad)
    assert not failures, "\n".join(f"== {who}\n{text}" for who, text in failures.items())
