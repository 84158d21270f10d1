"""Issue 12, gaps 2 and 10, over the real HTTP API: the admin cannot become anyone and leaves a
trace (accounts as events in the hash-chained log, read by the auditor), and one role does not
read what another may (the committee's reason for sending the allocation back, ballot counts,
carried-over items)."""

from __future__ import annotations

import pytest

from tests.conftest import log_position
from tests.helpers import MEETING, cast, confirm, small_cycle

pytestmark = pytest.mark.temporal


async def test_the_admin_cannot_change_their_own_role_and_every_account_change_is_an_event(client, stack):
    await cast(client)
    admin = client.as_("admin")
    before = log_position(stack)
    r = await admin.put("/users/admin", json={"role": "committee", "reason": "我想看结果"})
    assert r.status_code == 409 and r.json()["field"] == "role", r.text
    assert (await admin.get("/me")).json()["role"] == "admin"
    assert log_position(stack) == before  # refused: nothing recorded

    r = await admin.put("/users/zhang", json={"role": "evaluator", "password": "first-pass-1234", "reason": "新任考核组成员"})
    assert r.status_code == 201, r.text
    r = await admin.put("/users/zhang", json={"role": "unit", "unit": "U2", "reason": "调任第二支部联络人"})
    assert r.status_code == 200, r.text
    r = await admin.put("/users/zhang", json={"role": "unit", "unit": "U2", "password": "second-pass-1234", "reason": "忘记密码"})
    assert r.status_code == 200, r.text

    await client.login("zhang", "second-pass-1234")
    r = await admin.put("/users/zhang", json={"role": "unit", "unit": "U2", "active": False, "reason": "离职"})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert (await client.as_("zhang").get("/me")).status_code == 401  # their sessions ended
    r = await admin.put("/users/zhang", json={"role": "unit", "unit": "U2", "active": True, "reason": "返聘"})
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r = await admin.put("/users/admin", json={"role": "admin", "active": False, "reason": "试试"})
    assert r.status_code == 409 and r.json()["code"] == "deactivate_self", r.text

    # The auditor reads who did what to the account, when and why.
    r = await client.as_("aud").get("/audit/accounts", params={"account": "zhang"})
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [(e["event"], e["actor"], e["role"], e["reason"]) for e in entries] == [
        ("AccountCreated", "admin", "admin", "新任考核组成员"),
        ("AccessChanged", "admin", "admin", "调任第二支部联络人"),
        ("PasswordReset", "admin", "admin", "忘记密码"),
        ("AccountDeactivated", "admin", "admin", "离职"),
        ("AccountReactivated", "admin", "admin", "返聘"),
    ]
    assert entries[1]["old"] == {"role": "evaluator", "unit": None} and entries[1]["new"] == {"role": "unit", "unit": "U2"}
    assert all(e["hash"] for e in entries)  # links of the same hash chain as the assessment's events
    assert "second-pass" not in r.text and "first-pass" not in r.text  # no password in the log
    assert (await client.as_("aud").get("/audit/verify")).json()["ok"] is True
    # The accounts table moved in step: the new password signs in.
    await client.login("zhang", "second-pass-1234")
    assert (await client.as_("zhang").get("/me")).json() == {
        "username": "zhang", "display_name": "zhang", "role": "unit", "unit": "U2", "active": True}
    # The first admin's creation is there too, by the system; only the audit trail's readers read
    # it (the admin does not audit themselves).
    first = (await client.as_("aud").get("/audit/accounts", params={"account": "admin"})).json()
    assert [(e["event"], e["actor"]) for e in first] == [("AccountCreated", "system")]
    assert (await admin.get("/audit/accounts")).status_code == 403


async def test_the_admin_sees_accounts_not_assessment_data(client, stack):
    await cast(client)
    key = await small_cycle(client, "published")
    admin = client.as_("admin")
    for path in (f"/cycles/{key}/results", f"/cycles/{key}/units", f"/cycles/{key}/units/U1", f"/cycles/{key}/adjustments",
                 f"/cycles/{key}/rectifications", f"/cycles/{key}/debrief/grassroots_branch"):
        r = await admin.get(path)
        assert r.status_code == 403, (path, r.status_code, r.text[:200])
    cycle = (await admin.get(f"/cycles/{key}")).json()
    assert "progress" not in cycle and "notices" not in cycle
    assert (await admin.get("/users")).status_code == 200  # what the admin administers


async def test_the_sent_back_reason_and_the_ballot_counts_are_for_those_who_oversee_the_cycle(client, stack):
    await cast(client)
    key = await small_cycle(client, "allocation")
    why = "第一支部材料不实，应降为良好"
    r = await client.as_("com").post(f"/cycles/{key}/allocation/reject", json={"reason": why, **MEETING})
    assert r.status_code == 200, r.text
    await confirm(client, key, r.json())
    for reader in ("org", "com", "aud"):
        c = (await client.as_(reader).get(f"/cycles/{key}")).json()
        assert any(why in n["text"] for n in c["notices"]), reader
        assert c["progress"]["debrief"]["grassroots_branch"]["ballots"] == 3, reader
    r = await client.as_("R1").get(f"/cycles/{key}")  # a representative reads the cycle, not its progress
    assert r.status_code == 200 and why not in r.text and "progress" not in r.json(), r.text
    for other in ("eva", "u1", "u2"):
        r = await client.as_(other).get(f"/cycles/{key}")
        assert r.status_code == 200, r.text
        assert why not in r.text, other
        c = r.json()
        assert [n["kind"] for n in c["notices"]] == ["allocation_rejected"]  # that it was sent back, not why
        assert "ballots" not in c["progress"]["debrief"]["grassroots_branch"], other


async def test_carried_over_items_are_for_the_roles_that_read_rectification(client, stack):
    await cast(client)
    key = await small_cycle(client, "self_review")
    for other in ("eva", "R1", "admin"):
        r = await client.as_(other).get(f"/cycles/{key}/units/U1/carried-over")
        assert r.status_code == 403, (other, r.text)
    assert (await client.as_("u2").get(f"/cycles/{key}/units/U1/carried-over")).status_code == 403
    for reader in ("u1", "org", "aud", "com"):
        assert (await client.as_(reader).get(f"/cycles/{key}/units/U1/carried-over")).status_code == 200, reader
