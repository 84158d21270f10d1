"""The scenario runner (SPEC §7): plays a whole cycle as its actors through the HTTP API."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from decimal import Decimal
from typing import Any, Callable

import httpx

from simulation.scenario import jsonable

CONCURRENCY = 8


class SimulationError(RuntimeError):
    """The system refused a step: carries the system's own error message."""


class Progress:
    def __init__(self, stream=sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        if not self.quiet:
            print(f"[{time.monotonic() - self.started:6.1f}s] {text}", file=self.stream, flush=True)

    def count(self, label: str, done: int, total: int) -> None:
        if self.quiet:
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        if done == total:
            print(f"{'' if not tty else chr(13)}           {label} {done}/{total}", file=self.stream, flush=True)
        elif tty:
            print(f"\r           {label} {done}/{total}", end="", file=self.stream, flush=True)


#: How long a step is retried while the API is unreachable, restarting or busy (503).
RETRY_FOR = 60.0


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


class Api:
    """The API as the scenario's actors use it. Every write carries an ``Idempotency-Key``; a step
    that meets a refused connection, a dropped one, a 503 or a ``request_in_progress`` is sent again
    with the same key after ``Retry-After``, for up to ``retry_for`` seconds."""

    def __init__(
        self, base: str, client: httpx.AsyncClient, retry_for: float = RETRY_FOR, notice: Callable[[str], None] | None = None
    ) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.http = client
        self.tokens: dict[str, str] = {}
        self.retry_for = retry_for
        self.notice = notice  # told once per outage that steps are being retried
        self._waiting = False

    async def _send(self, method: str, path: str, what: str, **kw: Any) -> httpx.Response:
        deadline = time.monotonic() + self.retry_for
        pause = 0.5
        while True:
            try:
                r = await self.http.request(method, self.base + path, **kw)
            except httpx.TransportError as err:
                problem = _one_line(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
                wait, pause = pause, min(pause * 2, 5.0)
            else:
                code = ""
                if r.status_code == 409:
                    try:
                        code = r.json().get("code", "")
                    except ValueError:
                        pass
                if r.status_code != 503 and code != "request_in_progress":
                    self._waiting = False
                    return r
                try:
                    wait = min(max(float(r.headers.get("Retry-After", "1")), 0.1), 30.0)
                except ValueError:
                    wait = 1.0
                try:
                    problem = _one_line(f"{r.status_code} {r.json().get('message', '')}")
                except ValueError:
                    problem = f"{r.status_code}"
            left = deadline - time.monotonic()
            if left <= 0:
                raise SimulationError(
                    f"{what or path}：API 在 {self.retry_for:g} 秒内未恢复（{problem}）/ the API did not recover within {self.retry_for:g} s"
                )
            if self.notice is not None and not self._waiting:
                self._waiting = True
                self.notice(f"API 暂不可用，正在重试 / the API is unavailable, retrying: {problem}")
            await asyncio.sleep(min(wait, left))  # the same Idempotency-Key: safe to send again

    async def call(self, method: str, path: str, who: str | None, body: Any = None, what: str = "") -> Any:
        headers = {"Idempotency-Key": secrets.token_hex(12)}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        r = await self._send(method, path, what, json=jsonable(body) if body is not None else None, headers=headers)
        if r.status_code >= 400:
            try:
                err = r.json()
                text = err.get("message") or r.text
                field = f"（{err['field']}）" if err.get("field") else ""
            except ValueError:
                text, field = r.text, ""
            raise SimulationError(f"{what or path} 被拒绝 {r.status_code}{field}：{_one_line(text)}")
        try:
            return r.json() if r.content else None
        except ValueError:
            raise SimulationError(f"{what or path}：API 的答复不是 JSON / the API answered with no JSON: {_one_line(r.text)}") from None

    async def login(self, username: str, password: str) -> None:
        r = await self._send("POST", "/auth/login", f"{username} 登录", json={"username": username, "password": password})
        if r.status_code != 200:
            raise SimulationError(f"{username} 登录失败 / sign-in failed: {_one_line(r.text)}")
        self.tokens[username] = r.json()["access_token"]


async def _gather(items: list, fn: Callable, progress: Progress, label: str) -> None:
    sem = asyncio.Semaphore(CONCURRENCY)
    done = 0

    async def one(item):
        nonlocal done
        async with sem:
            await fn(item)
            done += 1
            progress.count(label, done, len(items))

    tasks = [asyncio.create_task(one(i)) for i in items]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        raise


ORGANIZER, EVALUATOR, COMMITTEE = "sim-organizer", "sim-evaluator", "sim-committee"

#: A grade in words, as a feedback letter says it (the API answers with the grade's key).
GRADE_WORDS = {"excellent": "优秀", "good": "良好", "average": "一般", "poor": "较差"}


class Stopped(Exception):
    """The scenario was played up to ``stop_after`` (``kaohe up --demo``): the cycle is left in
    progress; carries the accounts the runner made and their passwords."""

    def __init__(self, stage: str, passwords: dict[str, str], people: dict[str, dict[str, Any]]) -> None:
        super().__init__(stage)
        self.stage = stage
        self.passwords = passwords
        self.people = people

#: The committee meeting the scenario's decisions are taken at, unless it names one.
MEETING = {"meeting_date": None, "minute_number": "模拟-1"}


def committee_of(sc: dict[str, Any]) -> list[dict[str, Any]]:
    """The committee members the scenario plays (SPEC §7): those it lists (with their unit, if
    any), or as many members attached to no unit as ``committee_quorum`` needs."""
    if sc.get("committee"):
        return [{"user": m["user"], "unit": m.get("unit")} for m in sc["committee"]]
    quorum = int((sc["cycle"].get("policy") or {}).get("committee_quorum", 2))
    return [{"user": COMMITTEE if i == 0 else f"{COMMITTEE}-{i + 1}", "unit": None} for i in range(quorum)]


def deciders(members: list[dict[str, Any]], concerns: set[str], quorum: int) -> list[str]:
    """The members who propose and confirm a decision concerning ``concerns``: never one attached
    to a unit it concerns; as many as the quorum needs (all eligible ones, if fewer: the system
    then refuses, naming the unit)."""
    eligible = [m["user"] for m in members if m.get("unit") is None or m["unit"] not in concerns]
    return eligible[:quorum] if len(eligible) >= quorum else (eligible[:1] or [members[0]["user"]])


def rosters_of(sc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each cohort's session roster (SPEC §7): the scenario's ``debrief.roster`` in every session
    (a representative may sit in several); with none, the representatives whose ballots score a
    unit of that cohort, each in its ballot's category."""
    cohort_of = {u["key"]: u["org_type"] for u in sc["units"]}
    cohorts = sorted(set(cohort_of.values()))
    given = sc["debrief"].get("roster")
    if given is not None:
        entries = [{"representative": r["representative"], **({"category": r["category"]} if r.get("category") else {})} for r in given]
        return {c: entries for c in cohorts}
    out: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in cohorts}
    for b in sc["debrief"]["ballots"]:
        for cohort in sorted({cohort_of[u] for u in b["scores"]}):
            entry = {"representative": b["representative"], **({"category": b["category"]} if b.get("category") else {})}
            out[cohort].setdefault(b["representative"], entry)
    return {c: list(v.values()) for c, v in out.items()}


async def run(
    base_url: str, admin: tuple[str, str], sc: dict[str, Any], progress: Progress, feedback: bool = True,
    retry_for: float = RETRY_FOR, stop_after: str | None = None,
) -> dict:
    """Play the scenario; return the published results as the API reports them. A step the API
    cannot take now (down, restarting, 503) is retried with its key for up to ``retry_for`` s.
    With ``stop_after="self_review"`` the play stops once the self-reviews are in and scoring is
    open, raising :class:`Stopped` with the accounts it made (the cycle stays in progress)."""
    async with httpx.AsyncClient(timeout=120) as http:
        api = Api(base_url, http, retry_for, progress.step)
        await api.login(*admin)
        key = sc["cycle"]["key"]
        units = sc["units"]
        cohort_of = {u["key"]: u["org_type"] for u in units}
        ballots = sc["debrief"]["ballots"]

        # A cycle already there is refused before any account is made or changed (a second run
        # would otherwise reset every scenario account's password, each an event of the audit trail).
        r = await api._send("GET", f"/cycles/{key}", "查询周期", headers={"Authorization": f"Bearer {api.tokens[admin[0]]}"})
        if r.status_code == 200:
            raise SimulationError(f"创建周期 被拒绝 409（key）：考核周期 {key} 已存在 / cycle {key} already exists")

        progress.step("创建用户 / creating users")
        people: dict[str, dict[str, Any]] = {
            ORGANIZER: {"role": "organizer", "display_name": "组织部（模拟）"},
            EVALUATOR: {"role": "evaluator", "display_name": "考核组（模拟）"},
        }
        members = committee_of(sc)
        quorum = int((sc["cycle"].get("policy") or {}).get("committee_quorum", 2))
        for i, m in enumerate(members):
            people[m["user"]] = {"role": "committee", "display_name": f"集团党委委员 {m['user']}（模拟）",
                                 **({"unit": m["unit"]} if m.get("unit") else {})}
        meeting = {**MEETING, "meeting_date": f"{int(sc['cycle']['year'])}-12-20", **(sc.get("meeting") or {})}
        all_units = {u["key"] for u in units}

        async def by_committee(path: str, body: dict[str, Any], concerns: set[str], what: str) -> Any:
            """One committee decision: proposed by the first eligible member at the meeting,
            confirmed by as many more as the quorum needs."""
            who = deciders(members, concerns, quorum)
            out = await api.call("POST", path, who[0], {**body, **meeting}, f"{what}（提议 / proposed）")
            for member in who[1:]:
                if out.get("effective"):
                    break
                out = await api.call("POST", f"/cycles/{key}/proposals/{out['proposal']}/confirm", member, None,
                                     f"{what}（{member} 确认 / confirmed）")
            return out
        for u in units:
            people[f"unit-{u['key']}"] = {"role": "unit", "unit": u["key"], "display_name": u["name"]}
        for b in ballots:
            people[b["representative"]] = {"role": "representative", "display_name": f"代表 {b['representative']}"}
        for r in sc["debrief"].get("roster") or []:
            people[r["representative"]] = {"role": "representative", "display_name": f"代表 {r['representative']}"}
        passwords = {name: secrets.token_urlsafe(12) for name in people}

        async def put_user(name: str) -> None:
            await api.call("PUT", f"/users/{name}", admin[0], {**people[name], "password": passwords[name]}, f"创建用户 {name}")
            await api.login(name, passwords[name])

        await _gather(sorted(people), put_user, progress, "用户 users")

        progress.step(f"创建考核周期 {key} / creating the cycle")
        cy = sc["cycle"]
        debrief = sc["debrief"]
        await api.call("POST", "/cycles", ORGANIZER, {
            "key": key, "year": cy["year"], "name": cy["name"], "policy": cy.get("policy"),
            "schemes": sc["schemes"], "categories": debrief.get("categories"),
        }, "创建周期")
        await api.call("POST", f"/cycles/{key}/units", ORGANIZER, {"units": units}, "登记单位")
        rosters = rosters_of(sc)
        for cohort, entries in sorted(rosters.items()):
            await api.call("PUT", f"/cycles/{key}/debrief/{cohort}/roster", ORGANIZER, entries, f"{cohort} 的参会名单")
        await api.call("POST", f"/cycles/{key}/open", ORGANIZER, None, "开启周期")

        progress.step("自查自评 / self-review")
        self_review = sc.get("self_review", {})

        async def submit_self(unit: str) -> None:
            await api.call("POST", f"/cycles/{key}/units/{unit}/self-review", f"unit-{unit}", {"scores": self_review[unit]}, f"{unit} 自评")

        await _gather(sorted(self_review), submit_self, progress, "自评 self-reviews")
        await api.call("POST", f"/cycles/{key}/stages/scoring/open", ORGANIZER, None, "开启指标评分")
        await api.call("POST", f"/cycles/{key}/stages/self_review/close", ORGANIZER, {"reason": "自评截止"}, "结束自评")
        if stop_after == "self_review":
            raise Stopped(stop_after, passwords, people)

        progress.step("指标评分 / indicator scoring")

        async def score(unit: str) -> None:
            scores = sc["scores"][unit]
            na = {code: "本单位无此项工作" for code, v in scores.items() if v is None}
            await api.call("POST", f"/cycles/{key}/units/{unit}/scoring", EVALUATOR, {"scores": scores, "na_reasons": na}, f"{unit} 评分")

        await _gather(sorted(sc["scores"]), score, progress, "评分 scorings")
        await api.call("POST", f"/cycles/{key}/stages/scoring/close", ORGANIZER, None, "结束指标评分")

        progress.step("述职评议 / debrief")
        await api.call("POST", f"/cycles/{key}/stages/debrief/open", ORGANIZER, None, "开启述职评议")
        sheets = []
        for b in ballots:
            per: dict[str, dict[str, Any]] = {}
            for unit, s in b["scores"].items():
                per.setdefault(cohort_of[unit], {})[unit] = s
            for cohort, scores in sorted(per.items()):
                # A sheet scores or abstains (null) for every secretary of its session: a unit
                # the scenario's ballot leaves out is an abstention, counted in no mean.
                scores = {u: scores.get(u) for u in sorted(u for u, c in cohort_of.items() if c == cohort)}
                sheets.append((b["representative"], cohort, {"scores": scores, "category": b.get("category")}))

        async def cast(sheet) -> None:
            rep, cohort, body = sheet
            await api.call("POST", f"/cycles/{key}/debrief/{cohort}/ballots", rep, body, f"{rep} 在 {cohort} 的评议表")

        await _gather(sheets, cast, progress, "评议表 ballot sheets")
        close = None
        min_turnout = Decimal(str((cy.get("policy") or {}).get("min_turnout", "0")))
        cast_in = {cohort: sum(1 for _, c, _ in sheets if c == cohort) for cohort in rosters}
        low = sorted(c for c, entries in rosters.items() if Decimal(cast_in[c]) < min_turnout * len(entries))
        if low:  # the scenario's meeting is as it is: say so on the close (SPEC §5 min_turnout)
            close = {"reason": f"模拟：{'、'.join(low)} 到会率低于 {min_turnout}，按场景结束 / simulated: turnout below the minimum"}
        await api.call("POST", f"/cycles/{key}/stages/debrief/close", ORGANIZER, close, "结束述职评议")

        progress.step("加分与降档 / adjustments")
        await api.call("POST", f"/cycles/{key}/stages/adjustments/open", ORGANIZER, None, "开启加分与降档")
        for i, a in enumerate(sc.get("adjustments", [])):
            body = {k: a[k] for k in ("unit", "kind", "reason", "points", "levels", "evidence") if k in a}
            made = await api.call("POST", f"/cycles/{key}/adjustments", ORGANIZER, body, f"adjustments[{i}] 提出")
            decision = a.get("decision", "approve")
            reason = a.get("decision_reason") or ("党委会审议同意" if decision == "approve" else "党委会审议不同意")
            await by_committee(f"/cycles/{key}/adjustments/{made['adjustment']}/decision",
                               {"decision": decision, "reason": reason}, {a["unit"]}, f"adjustments[{i}] 审批")
        await api.call("POST", f"/cycles/{key}/stages/adjustments/close", ORGANIZER, None, "结束加分与降档")

        progress.step("等次确定 / grade allocation")
        allocation = sc.get("allocation", {})
        for cohort, chosen in allocation.get("ties", {}).items():
            proposed = await api.call("GET", f"/cycles/{key}/allocation", ORGANIZER, None, "读取等次方案")
            tie = (proposed["cohorts"].get(cohort) or {}).get("tie") or {}
            await by_committee(f"/cycles/{key}/allocation/ties", {"cohort": cohort, "units": chosen, "reason": "党委会研究确定"},
                               set(tie.get("candidates") or chosen), f"{cohort} 并列裁定")
        for unit, o in allocation.get("overrides", {}).items():
            await by_committee(f"/cycles/{key}/allocation/overrides", {"unit": unit, "grade": o["grade"], "reason": o.get("reason", "")},
                               {unit}, f"{unit} 等次调整")
        await by_committee(f"/cycles/{key}/allocation/approve", {"reason": "党委会审定"}, all_units, "批准等次方案")
        results = await api.call("GET", f"/cycles/{key}/results", ORGANIZER, None, "读取结果")

        if feedback:
            progress.step("考核反馈 / feedback")
            names = {u["key"]: u["name"] for u in units}

            async def give(unit: str) -> None:
                r = results["units"][unit]
                text = f"{names[unit]}：考核等次「{GRADE_WORDS.get(r['grade'], r['grade'] or '未定')}」，最终得分 {r['final_score']}（第 {r['rank']} 名）。"
                await api.call("POST", f"/cycles/{key}/units/{unit}/feedback", ORGANIZER, {"text": text}, f"{unit} 反馈")
                await api.call("POST", f"/cycles/{key}/units/{unit}/feedback/acknowledge", f"unit-{unit}", None, f"{unit} 确认反馈")

            await _gather(sorted(names), give, progress, "反馈 feedback")
        progress.step("完成 / done")
        return results
