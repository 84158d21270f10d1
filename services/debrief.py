"""The debrief (SPEC §3 stage 4): the sessions, their rosters, a representative's ballot sheet
(from an account or from a one-time ballot code on a phone), closing a session.

A session with no roster admits no sheet: the organizer registers each session's roster (JSON,
the web form or an .xlsx) from the cycle's setup until the session closes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from adapters.ballot_codes import BallotCode, spent_code
from domain import rules
from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from domain.rules import Actor, Role
from domain.scheme import ORG_TYPES
from domain import wording
from projections.models import BallotRow, CycleRow, RosterRow, SessionRow, UnitRow
from reporting.documents.pdf import ballot_codes_pdf
from services.context import Services, command_id, in_thread
from services.inbox import on_roster
from services.permissions import allow
from workflows import debrief as debrief_workflow


def sessions(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    """The cycle's sessions; a representative sees only those they are rostered in, and whether
    they cast, not the count."""
    allow(user, "debrief.read")
    with svc.runner.sessions() as db:
        names = dict(db.execute(select(UnitRow.unit, UnitRow.name).where(UnitRow.cycle == cycle)).all())
        mine = {
            b.cohort
            for b in db.scalars(select(BallotRow).where(BallotRow.cycle == cycle, BallotRow.representative == user.username))
        }
        out = []
        for s in db.scalars(select(SessionRow).where(SessionRow.cycle == cycle).order_by(SessionRow.cohort)):
            if user.role == "representative" and not on_roster(s, user):
                continue  # a representative sees only the sessions they sit in
            view = {
                "cohort": s.cohort,
                "open": s.is_open,
                "secretaries": [{"unit": u, "name": names.get(u, u)} for u in s.secretaries],
                "cast_by_me": s.cohort in mine,
            }
            if user.role == "representative":
                view["my_category"] = next(e.get("category") for e in s.roster if e.get("representative") == user.username)
            else:
                view["ballots"] = s.ballots
                view.update(_turnout(s.ballots, s.roster or []))
                view["close_reason"] = s.close_reason
            out.append(view)
        return out


def _turnout(cast: int, roster: list) -> dict[str, Any]:
    share = rules.turnout(cast, len(roster))
    return {
        "roster": [dict(x) for x in roster],
        "rostered": len(roster),
        "turnout": None if share is None else str(share.quantize(rules.Decimal("0.0001"))),
        "turnout_text": f"{cast}/{len(roster)}" + ("" if share is None else f"（{share * 100:.0f}%）"),
    }


def session_view(svc: Services, user: User, cycle: str, cohort: str) -> dict[str, Any]:
    """One session for the organizer's page: its roster, who has cast (not what), turnout, the
    ballot codes' state. Before the session opens: the roster alone."""
    allow(user, "roster.read")
    with svc.runner.sessions() as db:
        c = db.get(CycleRow, cycle)
        if c is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
        names = dict(db.execute(select(UnitRow.unit, UnitRow.name).where(UnitRow.cycle == cycle, UnitRow.cohort == cohort)).all())
        if not names:
            raise _unknown_cohort(cohort)
        s = db.get(SessionRow, (cycle, cohort))
        r = db.get(RosterRow, (cycle, cohort))
        roster = list(s.roster if s is not None else (r.entries if r is not None else []))
        cast = {b.representative for b in db.scalars(select(BallotRow).where(BallotRow.cycle == cycle, BallotRow.cohort == cohort))}
    codes = svc.ballot_codes.status(cycle, cohort) if svc.ballot_codes is not None else {}
    ballots = s.ballots if s is not None else 0
    return {
        "cycle": cycle, "cycle_name": c.name, "cohort": cohort, "name": ORG_TYPES.get(cohort, cohort),
        "state": "pending" if s is None else ("open" if s.is_open else "closed"),
        "secretaries": [{"unit": u, "name": n} for u, n in sorted(names.items())],
        "ballots": ballots, "close_reason": s.close_reason if s is not None else None,
        "min_turnout": str((c.policy or {}).get("min_turnout", "0")),
        **_turnout(ballots, roster),
        "members": [{**x, "cast": x["representative"] in cast, "code": codes.get(x["representative"])} for x in roster],
    }


def _unknown_cohort(cohort: str) -> InvalidInput:
    return InvalidInput("unknown_cohort", zh=f"{wording.cohort(cohort)}不是本周期有单位的党组织类型，没有这一场述职评议", en=f"no debrief session for cohort {cohort}", field="cohort")


def _check_representatives(svc: Services, rosters: dict[str, Any]) -> dict[str, str | None]:
    """Every rostered name that has an account is a representative's. A name with no account
    yet is returned (with the entry's ``name``, if any): the roster makes it a representative
    who casts by one-time code only, so a meeting needs no accounts or passwords made beforehand.
    Shapes are the domain's to check; only well-formed names are looked up."""
    missing: dict[str, str | None] = {}
    for cohort, entries in rosters.items():
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            rep = entry.get("representative") if isinstance(entry, dict) else None
            if not isinstance(rep, str) or not rep:
                continue
            where = f"roster.{cohort}[{i}].representative" if len(rosters) > 1 else f"roster[{i}].representative"
            try:
                account = svc.accounts.get(rep)
            except NotFound:
                name = entry.get("name") or None
                rules.check_key(rep, where, "invalid_representative", "代表用户名")  # the domain's wording first
                try:
                    svc.accounts.validate(rep, Role.REPRESENTATIVE, None, None, need_password=False, display_name=name)
                except InvalidInput as err:
                    raise InvalidInput(err.code, zh=err.zh, en=err.en, field=where if err.field == "username" else where.replace("representative", "name")) from None
                missing[rep] = name
                continue
            if account.role != Role.REPRESENTATIVE:
                raise InvalidInput(
                    "not_a_representative", zh=f"用户 {rep} 的角色不是参会代表（{account.role}）", en=f"user {rep} is not a representative", field=where,
                )
    return missing


async def set_roster(svc: Services, user: User, cycle: str, cohort: str, entries: Any, idem: str | None = None) -> dict[str, Any]:
    """Register (or replace) one session's roster: ``[{representative, category}]``."""
    allow(user, "roster.set")
    return await set_rosters(svc, user, cycle, {cohort: entries}, idem)


async def set_rosters(svc: Services, user: User, cycle: str, rosters: Any, idem: str | None = None) -> dict[str, Any]:
    """Several sessions' rosters at once (an .xlsx with a cohort column): all or nothing."""
    allow(user, "roster.set")
    missing = await in_thread(_check_representatives, svc, rosters) if isinstance(rosters, dict) else {}
    out = await svc.recorded(svc.app.set_rosters, cycle, rosters, user.actor, command_id(user, idem))
    made = []
    for rep, name in missing.items():  # after the roster is stored: a refused roster creates nobody
        made.append((await in_thread(svc.accounts.add_code_only, rep, name)).to_dict())
    if made:  # accounts as events: who created them, and why
        await svc.recorded(svc.app.record_accounts_created, made, "述职评议名单登记 / named on a debrief roster", user.actor,
                           command_id(user, None))
    return out


# ------------------------------------------------------------------ one-time ballot codes


def _session_for_codes(svc: Services, cycle: str, cohort: str) -> tuple[str, dict[str, str]]:
    """The cycle's name and the session's roster, refusing once the session has closed."""
    with svc.runner.sessions() as db:
        c = db.get(CycleRow, cycle)
        if c is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
        s = db.get(SessionRow, (cycle, cohort))
        if s is not None and not s.is_open:
            raise Conflict("session_closed", zh=f"{wording.cohort(cohort)}的述职评议已结束，不再发放评议码", en="the session is closed", field="cohort")
        r = db.get(RosterRow, (cycle, cohort))
        roster = s.roster if s is not None else (r.entries if r is not None else [])
        return c.name, {x["representative"]: x["category"] for x in roster}


def _issue(svc: Services, user: User, cycle: str, cohort: str, base_url: str, representatives: Any) -> dict[str, Any]:
    name, roster = _session_for_codes(svc, cycle, cohort)
    if not roster:
        raise Conflict("roster_empty", zh=f"{wording.cohort(cohort)}的述职评议还没有参会名单，请先登记名单", en="register the session's roster first", field="roster")
    with svc.runner.sessions() as db:
        cast = {b.representative for b in db.scalars(select(BallotRow).where(BallotRow.cycle == cycle, BallotRow.cohort == cohort))}
    if representatives is None:
        wanted = [r for r in roster if r not in cast]
    else:
        if not isinstance(representatives, list) or not all(isinstance(r, str) for r in representatives):
            raise InvalidInput("invalid_representatives", zh="representatives 须为代表用户名的列表", en="a list of usernames", field="representatives")
        for r in representatives:
            rules.check_on_roster(r, roster, None)  # refuses one not on the roster, naming them
        wanted = [r for r in dict.fromkeys(representatives) if r not in cast]
    codes = svc.ballot_codes.issue(cycle, cohort, wanted, user.username)
    display = {}
    for r in wanted:
        try:
            display[r] = svc.accounts.get(r).display_name
        except NotFound:
            display[r] = r
    base = base_url.rstrip("/")
    return {
        "cycle": cycle, "cycle_name": name, "cohort": cohort, "session_name": f"{ORG_TYPES.get(cohort, cohort)} 述职评议",
        "codes": [{"representative": r, "name": display[r], "category": roster[r], "code": codes[r], "url": f"{base}/b/{codes[r]}"}
                  for r in wanted],
        "skipped": sorted(r for r in roster if r in cast),
    }


async def issue_codes(svc: Services, user: User, cycle: str, cohort: str, base_url: str, representatives: Any = None) -> dict[str, Any]:
    """One-time ballot codes for the session's rostered representatives who have not cast (or
    for ``representatives`` only). Issuing again revokes their unspent codes and gives new ones:
    codes are stored hashed, so a lost sheet is replaced, never printed again."""
    allow(user, "ballot_codes.issue")
    return await in_thread(_issue, svc, user, cycle, cohort, base_url, representatives)


async def codes_pdf(svc: Services, user: User, cycle: str, cohort: str, base_url: str, representatives: Any = None) -> bytes:
    """Issue the codes (as ``issue_codes``) and lay them out as the printable PDF of QR slips."""
    allow(user, "ballot_codes.issue")
    issued = await in_thread(_issue, svc, user, cycle, cohort, base_url, representatives)
    slips = [{"url": x["url"], "name": x["name"] if x["name"] == x["representative"] else f"{x['name']}（{x['representative']}）"}
             for x in issued["codes"]]
    return await in_thread(ballot_codes_pdf, issued["cycle_name"], issued["session_name"], slips)


def _expired(cohort: str) -> Conflict:
    return Conflict(
        "ballot_code_expired",
        zh=f"本场述职评议（{ORG_TYPES.get(cohort, cohort)}）已结束，评议码已失效", en="this debrief session has closed; its ballot codes have expired",
        field="code",
    )


def code_ballot(svc: Services, code: str) -> dict[str, Any]:
    """What a phone opening ``/b/{code}`` sees: the session, its secretaries, who casts. Needs no
    account: the code is the credential. A spent, revoked, expired or unknown code is refused
    (``DomainError``, a clear page or 4xx JSON)."""
    found = svc.ballot_codes.look_up(code)
    with svc.runner.sessions() as db:
        c = db.get(CycleRow, found.cycle)
        s = db.get(SessionRow, (found.cycle, found.cohort))
        names = dict(db.execute(select(UnitRow.unit, UnitRow.name).where(UnitRow.cycle == found.cycle, UnitRow.cohort == found.cohort)).all())
    if s is not None and not s.is_open:
        raise _expired(found.cohort)
    if found.spent:
        raise _spent(found)
    try:
        display = svc.accounts.get(found.representative).display_name
    except NotFound:
        display = found.representative
    roster = {x["representative"]: x["category"] for x in (s.roster if s is not None else [])}
    return {
        "cycle": found.cycle, "cycle_name": c.name if c else found.cycle, "cohort": found.cohort,
        "session_name": f"{ORG_TYPES.get(found.cohort, found.cohort)} 述职评议", "open": s is not None,
        "representative": found.representative, "representative_name": display, "category": roster.get(found.representative),
        "secretaries": [{"unit": u, "name": names.get(u, u)} for u in (s.secretaries if s is not None else sorted(names))],
    }


def _spent(found: BallotCode) -> Conflict:
    return spent_code(found.representative)


async def cast_by_code(svc: Services, code: str, scores: Any) -> dict[str, Any]:
    """Cast the sheet of the code's representative, once: the code is spent first (one
    conditional write, so two phones with one code cast once), then the very use case an
    account's sheet goes through (roster, category, one sheet per session). A sheet the domain
    refuses (a bad score, the session not open yet) gives the code back."""
    await in_thread(code_ballot, svc, code)  # unknown, revoked, expired, spent: refused before anything is written
    found = claimed = await in_thread(svc.ballot_codes.claim, code)
    actor = Actor(found.representative, Role.REPRESENTATIVE)
    try:
        return await svc.recorded(
            svc.app.cast_ballot, cycle=found.cycle, cohort=found.cohort, representative=found.representative,
            category=None, scores=scores, actor=actor, command_id=f"{found.representative}/ballot-code/{found.digest[:32]}",
        )
    except DomainError as err:
        if err.code == "ballot_already_cast":
            raise  # cast before (by account): the code stays spent, it can do nothing more
        await in_thread(svc.ballot_codes.release, claimed)
        if err.code == "session_closed":
            raise _expired(found.cohort) from None
        raise
    except BaseException:
        await in_thread(svc.ballot_codes.release, claimed)
        raise


def sessions_cache_key(user: User, cycle: str) -> tuple:
    return ("debrief", cycle, user.username, user.role)


def check_ballot(svc: Services, user: User, cycle: str, cohort: str, scores: Any) -> None:
    """Refuse now what casting would refuse of the scores (blocking; nothing is stored): before the confirmation."""
    allow(user, "ballot.cast")
    svc.app.check_ballot_sheet(cycle, cohort, scores)


def check_code_ballot(svc: Services, code: str, scores: Any) -> None:
    """The same for the sheet of a ballot code (no account: the code is the credential)."""
    ballot = code_ballot(svc, code)
    svc.app.check_ballot_sheet(ballot["cycle"], ballot["cohort"], scores)


async def cast_ballot(svc: Services, user: User, cycle: str, cohort: str, category: str | None, scores: Any, idem: str | None = None) -> dict[str, Any]:
    """Straight to the domain, not through the session's workflow: a meeting's representatives
    cast at once, and a workflow takes at most 10 updates in flight (2,000 in all). The workflow
    owns the session's opening and closing; the domain refuses a sheet once it is cut off."""
    allow(user, "ballot.cast")
    return await svc.recorded(
        svc.app.cast_ballot, cycle=cycle, cohort=cohort, representative=user.username,
        category=category, scores=scores, actor=user.actor, command_id=command_id(user, idem),
    )


async def close_session(
    svc: Services, user: User, cycle: str, cohort: str, idem: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """Close the session (its cut-off). Below ``policy.min_turnout`` it needs a ``reason``,
    recorded on the close; without one the domain refuses and nothing is stored."""
    allow(user, "session.close")
    cmd = debrief_workflow.CloseSession(user.actor, reason)
    result = await svc.gateway.session_update(cycle, cohort, "close", cmd, command_id(user, idem))
    await svc.caught_up(result)
    return result
