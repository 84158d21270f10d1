"""Sign-in to ASVS level 2 (issue 12, gap 1): throttling with back-off (429 + Retry-After, in the
database), the password rule (12 characters, not a common password) wherever a password is set,
a TOTP second factor with recovery codes (required for admin and committee in production), and
the idle timeout of tokens and page sessions. Over real HTTP against the real stack."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pyotp
import pytest
import pytest_asyncio
from sqlalchemy import create_engine

from adapters.accounts import Accounts, ThrottleRow, Throttled
from domain.errors import InvalidInput
from kaohe.runtime import free_port, start_stack
from tests.conftest import Client, temporal_address


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted, and never one already used)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


async def test_thirty_wrong_passwords_draw_429_with_retry_after_before_the_thirtieth(client, stack):
    await client.user("eva", "evaluator")
    answers = []
    for _ in range(30):
        r = await client.http.post("/auth/login", json={"username": "eva", "password": "not-the-password-1"})
        answers.append(r)
    codes = [r.status_code for r in answers]
    assert codes[:5] == [401] * 5  # the first few are free
    first = codes.index(429)
    assert first < 29, codes
    locked = answers[first]
    assert int(locked.headers["Retry-After"]) >= 1
    assert locked.json()["code"] == "too_many_attempts"
    # While locked even the right password is refused, without being checked.
    ok = await client.http.post("/auth/token", data={"username": "eva", "password": "whatever-it-is-1"})
    assert ok.status_code == 429 and "Retry-After" in ok.headers
    # The lock is in the database (every API replica sees it), and capped.
    accounts = stack.accounts
    with accounts.sessions() as db:
        row = db.get(ThrottleRow, "user:eva")
        assert row.failures >= 5 and row.locked_until is not None


def test_back_off_grows_is_capped_and_a_right_password_resets_it(tmp_path: Path):
    from adapters.accounts import ThrottlePolicy

    accounts = Accounts(create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}"),
                        throttle=ThrottlePolicy(free_per_account=2, base_seconds=0.2, max_seconds=0.4))
    accounts.add("li", "organizer", "li-long-password-1")
    waits = []
    for _ in range(6):
        try:
            assert accounts.login("li", "wrong-password-00") is None
        except Throttled as err:
            waits.append(err.retry_after)
        time.sleep(0.45)  # past the cap: never locked for longer than max_seconds
    assert accounts.login("li", "li-long-password-1") is not None  # not locked out for good
    with accounts.sessions() as db:
        assert db.get(ThrottleRow, "user:li") is None  # the right password reset the account's counter
    # Another replica (a second store on the same database) sees the same lock.
    accounts.login("li", "wrong-password-00"), accounts.login("li", "wrong-password-00")
    other = Accounts(create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}"))
    with pytest.raises(Throttled):
        other.login("li", "li-long-password-1")


async def test_the_password_rule_holds_wherever_a_password_is_set(client, stack):
    await client.user("org", "organizer")
    admin = client.as_("admin")
    short = await admin.put("/users/p1", json={"role": "evaluator", "password": "eleven-char"})  # 11
    assert short.status_code == 422 and short.json()["code"] == "weak_password" and short.json()["field"] == "password"
    common = await admin.put("/users/p1", json={"role": "evaluator", "password": "Password1234"})
    assert common.status_code == 422 and common.json()["code"] == "common_password"
    assert (await admin.put("/users/p1", json={"role": "evaluator", "password": "twelve-chars"})).status_code == 201
    accounts = stack.accounts
    for set_it in (lambda pw: accounts.set_password("p1", pw),  # an admin's reset
                   lambda pw: accounts.change_password("p1", "twelve-chars", pw),  # the user's own change
                   lambda pw: accounts.add_many([{"username": "p2", "role": "auditor", "password": pw}])):  # an import
        for weak, code in (("short-pw-11", "weak_password"), ("qwertyuiop123", "common_password")):
            with pytest.raises(InvalidInput) as err:
                set_it(weak)
            assert err.value.code == code
    assert accounts.login("p1", "twelve-chars") is not None  # nothing weak was stored


async def test_totp_enrolment_sign_in_and_a_recovery_code_once(client, stack):
    await client.user("eva", "evaluator")
    eva = client.as_("eva")
    begun = (await eva.post("/me/totp")).json()
    secret = begun["secret"]
    assert begun["otpauth_uri"].startswith("otpauth://totp/") and secret in begun["otpauth_uri"]
    wrong = await eva.post("/me/totp/confirm", json={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 422
    confirmed = await eva.post("/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    accounts = stack.accounts
    from adapters.accounts import RecoveryRow

    with accounts.sessions() as db:  # stored hashed, never as typed
        stored = {r.code_hash for r in db.query(RecoveryRow).filter_by(username="eva")}
    assert len(stored) == 10 and not any(c.replace("-", "") in stored or c in stored for c in codes)

    accounts.set_password("eva", "eva-known-password")  # (a reset drops the second factor: enrol again)
    begun = await client.http.post("/auth/login", json={"username": "eva", "password": "eva-known-password"})
    token = begun.json()["access_token"]
    secret = (await client.http.post("/me/totp", headers={"Authorization": f"Bearer {token}"})).json()["secret"]
    codes = (await client.http.post("/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()},
                                    headers={"Authorization": f"Bearer {token}"})).json()["recovery_codes"]

    body = {"username": "eva", "password": "eva-known-password"}
    need = await client.http.post("/auth/login", json=body)
    assert need.status_code == 401 and need.json()["code"] == "otp_required"
    assert (await client.http.post("/auth/login", json={**body, "otp": "123456"})).status_code == 401
    ok = await client.http.post("/auth/login", json={**body, "otp": next_code(secret)})
    assert ok.status_code == 200 and ok.json()["step"] == "full"
    me = await client.http.get("/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert me.json()["username"] == "eva"
    replay = await client.http.post("/auth/login", json={**body, "otp": next_code(secret)})
    assert replay.status_code == 401  # a code's step opens once
    assert (await client.http.post("/auth/login", json={**body, "otp": codes[3]})).status_code == 200
    assert (await client.http.post("/auth/login", json={**body, "otp": codes[3]})).status_code == 401  # once only
    assert accounts.recovery_codes_left("eva") == 9


@pytest_asyncio.fixture
async def production_stack(settings, temporal_env):
    s = settings.model_copy(update={
        "temporal_address": temporal_address(temporal_env), "admin_password": "admin-pass-123", "env": "production",
        "command_key": "a-test-command-key-of-more-than-32-characters-0123456789",
    })
    running = await start_stack(s, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


async def test_production_sends_admin_and_committee_to_enrolment_until_they_have_a_second_factor(production_stack):
    http = httpx.AsyncClient(base_url=production_stack.api_url + "/api/v1", timeout=60)
    try:
        first = await http.post("/auth/login", json={"username": "admin", "password": "admin-pass-123"})
        assert first.status_code == 200 and first.json()["step"] == "enrol"
        limited = {"Authorization": f"Bearer {first.json()['access_token']}"}
        refused = await http.get("/users", headers=limited)
        assert refused.status_code == 403 and refused.json()["code"] == "totp_enrolment_required"
        secret = (await http.post("/me/totp", headers=limited)).json()["secret"]
        done = (await http.post("/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=limited)).json()
        full = {"Authorization": f"Bearer {done['session']['access_token']}"}
        assert (await http.get("/users", headers=full)).status_code == 200
        assert (await http.get("/users", headers=limited)).status_code == 401  # the enrol token is spent

        for name, role in (("com", "committee"), ("org", "organizer")):
            r = await http.put(f"/users/{name}", json={"role": role, "password": f"{name}-long-password"}, headers=full)
            assert r.status_code == 201, r.text
        com = await http.post("/auth/login", json={"username": "com", "password": "com-long-password"})
        assert com.json()["step"] == "enrol"
        org = await http.post("/auth/login", json={"username": "org", "password": "org-long-password"})
        assert org.json()["step"] == "full"  # optional for the other roles
        # The admin now needs the code; and cannot turn the second factor off.
        need = await http.post("/auth/login", json={"username": "admin", "password": "admin-pass-123"})
        assert need.json()["code"] == "otp_required"
        off = await http.post("/me/totp/disable", json={"code": next_code(secret)}, headers=full)
        assert off.status_code == 409 and off.json()["code"] == "totp_required"
    finally:
        await http.aclose()


@pytest_asyncio.fixture
async def idle_stack(settings, temporal_env):
    s = settings.model_copy(update={"temporal_address": temporal_address(temporal_env), "admin_password": "admin-pass-123",
                                    "session_idle_seconds": 3, "token_cache_seconds": 1.0})
    running = await start_stack(s, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


async def test_an_idle_token_is_refused_using_it_slides_the_window_and_idle_tokens_are_purged(idle_stack):
    client = Client(idle_stack)
    try:
        spare = await client.http.post("/auth/login", json={"username": "admin", "password": "admin-pass-123"})
        assert spare.status_code == 200  # a second session, never used again
        await client.login("admin", "admin-pass-123")
        admin = client.as_("admin")
        for _ in range(4):  # used every 1.5 s for 6 s: longer than the 3 s window, still good
            await asyncio.sleep(1.5)
            assert (await admin.get("/me")).status_code == 200
        # A page session (the cookie) is the same token: it times out the same way.
        pages = httpx.AsyncClient(base_url=idle_stack.api_url, timeout=60)
        r = await pages.post("/login", data={"username": "admin", "password": "admin-pass-123"})
        assert r.status_code == 303 and "kaohe_token" in r.cookies
        assert (await pages.get("/tasks")).status_code == 200
        await asyncio.sleep(4.5)  # unused for longer than the window
        gone = await admin.get("/me")
        assert gone.status_code == 401
        page = await pages.get("/tasks")
        assert page.status_code in (302, 303, 307) and page.headers["location"].startswith("/login")
        await pages.aclose()
        from adapters.accounts import TokenRow

        await client.login("admin", "admin-pass-123")  # a sign-in purges expired and idle tokens
        with idle_stack.accounts.sessions() as db:
            assert db.query(TokenRow).count() == 1  # without the purge: the spare and the page's session too
    finally:
        await client.close()


def test_an_accounts_store_from_before_gains_the_new_token_columns_and_keeps_its_users(tmp_path: Path):
    """A data dir written before issue 12: accounts_tokens had no purpose nor last use."""
    from sqlalchemy import text

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    Accounts(engine).add("old", "auditor", "old-user-password")
    with engine.begin() as conn:  # the table as it shipped
        conn.execute(text("DROP TABLE accounts_tokens"))
        conn.execute(text("CREATE TABLE accounts_tokens (token_hash VARCHAR(64) PRIMARY KEY, username VARCHAR(64), expires_at DATETIME)"))
        conn.execute(text("INSERT INTO accounts_tokens VALUES ('x', 'old', '2999-01-01 00:00:00')"))
    accounts = Accounts(engine)
    session = accounts.login("old", "old-user-password")
    assert session.step == "full" and accounts.authenticate(session.token).username == "old"
