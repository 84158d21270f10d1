"""The admin's account use cases (services.people) on the real accounts store (SQLite in memory):
the last active admin stays, deactivation and resets end sessions, one's own new password keeps
the session asking, and an import writes every account or none, naming each bad row."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from adapters.accounts import Accounts
from domain.errors import Conflict, InvalidInput
from services import people
from tests.walk import new_app


@pytest.fixture
def svc():
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    accounts = Accounts(engine, token_cache_seconds=0)
    accounts.add("admin", "admin", "admin-pass-123")
    app = new_app()  # the account events go to the in-memory event store

    async def recorded(use_case, *args, **kwargs):
        return use_case(*args, **kwargs).to_dict()

    return SimpleNamespace(accounts=accounts, app=app, recorded=recorded)


def run(coro):
    return asyncio.run(coro)


def test_the_last_active_admin_is_neither_deactivated_nor_given_another_role(svc):
    admin = svc.accounts.get("admin")
    with pytest.raises(Conflict) as refused:
        svc.accounts.set_active("admin", False)
    assert refused.value.code == "last_admin"
    with pytest.raises(Conflict):
        run(people.update_user(svc, admin, "admin", "auditor", None, None))
    assert svc.accounts.get("admin").role == "admin" and svc.accounts.get("admin").active
    # With a second active admin, the first may go; then the second is the last.
    svc.accounts.add("admin2", "admin", "admin2-pass-123")
    run(people.set_active(svc, svc.accounts.get("admin2"), "admin", False))
    assert not svc.accounts.get("admin").active
    with pytest.raises(Conflict):
        svc.accounts.set_active("admin2", False)
    with pytest.raises(Conflict):  # and nobody deactivates themselves
        run(people.set_active(svc, svc.accounts.get("admin2"), "admin2", False))


def test_deactivating_and_resetting_end_the_users_sessions(svc):
    admin = svc.accounts.get("admin")
    svc.accounts.add("u1", "unit", "u1-pass-1234", unit="U1")
    token, _, _, _ = svc.accounts.login("u1", "u1-pass-1234")
    run(people.set_active(svc, admin, "u1", False))
    assert svc.accounts.authenticate(token) is None and svc.accounts.login("u1", "u1-pass-1234") is None
    run(people.set_active(svc, admin, "u1", True))
    token, _, _, _ = svc.accounts.login("u1", "u1-pass-1234")
    fresh = run(people.reset_password(svc, admin, "u1"))
    assert len(fresh) == people.GENERATED_LENGTH and not set(fresh) - set(people.PASSWORD_LETTERS)
    assert svc.accounts.authenticate(token) is None
    assert svc.accounts.login("u1", "u1-pass-1234") is None and svc.accounts.login("u1", fresh) is not None
    with pytest.raises(InvalidInput):
        run(people.reset_password(svc, admin, "u1", "short"))


def test_ones_own_new_password_keeps_this_session_and_ends_the_others(svc):
    svc.accounts.add("eva", "evaluator", "eva-pass-1234")
    here, _, eva, _ = svc.accounts.login("eva", "eva-pass-1234")
    elsewhere, _, _, _ = svc.accounts.login("eva", "eva-pass-1234")
    with pytest.raises(InvalidInput) as wrong:
        run(people.change_own_password(svc, eva, here, "not-it", "eva-new-pass", "eva-new-pass"))
    assert wrong.value.field == "current"
    with pytest.raises(InvalidInput) as differ:
        run(people.change_own_password(svc, eva, here, "eva-pass-1234", "eva-new-pass", "eva-new-pas"))
    assert differ.value.field == "repeated"
    with pytest.raises(InvalidInput) as short:
        run(people.change_own_password(svc, eva, here, "eva-pass-1234", "1234567", "1234567"))
    assert short.value.field == "password"
    run(people.change_own_password(svc, eva, here, "eva-pass-1234", "eva-new-pass", "eva-new-pass"))
    assert svc.accounts.authenticate(here) is not None and svc.accounts.authenticate(elsewhere) is None
    assert svc.accounts.login("eva", "eva-new-pass") is not None


def test_an_import_names_every_bad_row_and_writes_nothing_then_all(svc):
    admin = svc.accounts.get("admin")
    svc.accounts.add("taken", "evaluator", "taken-pass-123")
    rows = [
        (2, {"username": "dw1", "role": "unit", "unit": "DW1"}),
        (3, {"username": "dw2", "role": "gardener", "unit": None}),
        (4, {"username": "dw3", "role": "unit", "unit": None}),
        (5, {"username": "dw1", "role": "unit", "unit": "DW9"}),
        (6, {"username": "taken", "role": "evaluator"}),
        (7, {"username": "bad name!", "role": "evaluator"}),
    ]
    with pytest.raises(people.ImportRefused) as refused:
        run(people.import_users(svc, admin, rows))
    assert [(p["row"], p["field"]) for p in refused.value.problems] == [(3, "role"), (4, "unit"), (5, "username"), (6, "username"), (7, "username")]
    assert [u.username for u in svc.accounts.list()] == ["admin", "taken"]
    created = run(people.import_users(svc, admin, [(n, {"username": f"dw{n}", "role": "unit", "unit": f"DW{n}"}) for n in range(2, 32)]))
    assert len(created) == 30 and svc.accounts.login("dw2", created[0]["password"]) is not None
    assert len(svc.accounts.list("unit")) == 30
