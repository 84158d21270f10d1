"""The fast read path keeps its promises (issue 8): a cached answer never hides a write, a
remembered token never outlives a change to its user, and a burst of sign-ins (Argon2, bounded)
neither fails nor starves other requests. Real stack, real HTTP; only generous time bounds."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest

from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_cached_read_shows_the_next_write(stack, client):
    await cast(client)
    key = await small_cycle(client, "self_review")
    org, u1 = client.as_("org"), client.as_("u1")
    before = (await org.get(f"/cycles/{key}/units")).json()
    assert (await org.get(f"/cycles/{key}/units")).json() == before  # the second read is the kept answer
    assert [t["kind"] for t in (await u1.get("/tasks")).json()] == ["submit_self_review"]
    r = await u1.post(f"/cycles/{key}/units/U1/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
    assert r.status_code == 200, r.text
    after = {u["unit"]: u for u in (await org.get(f"/cycles/{key}/units")).json()}
    assert after["U1"]["self_review"] == "submitted"
    assert (await org.get(f"/cycles/{key}")).json()["progress"]["self_review"]["submitted"] == 1
    assert [t["kind"] for t in (await u1.get("/tasks")).json()] == []
    # Answers differ by person: a unit user's list is its own unit only, never the organizer's.
    assert [u["unit"] for u in (await u1.get(f"/cycles/{key}/units")).json()] == ["U1"]
    assert "draft" not in after["U1"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_remembered_token_follows_changes_to_its_user(stack, client):
    await client.user("who", "evaluator")
    me = client.as_("who")
    assert (await me.get("/me")).json()["role"] == "evaluator"  # now remembered
    admin = client.as_("admin")
    r = await admin.put("/users/who", json={"role": "auditor"})
    assert r.status_code == 200, r.text
    assert (await me.get("/me")).json()["role"] == "auditor"  # the role change is seen at once
    r = await admin.put("/users/who", json={"role": "auditor", "password": "a-new-password-1"})
    assert r.status_code == 200, r.text
    assert (await me.get("/me")).status_code == 401  # a new password ends every session at once


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_burst_of_sign_ins_is_bounded_and_starves_nobody(stack, client):
    assert stack.accounts.hash_concurrency == 2
    await cast(client)
    key = await small_cycle(client, "self_review")
    passwords = {}
    for i in range(8):
        passwords[f"p{i}"] = secrets.token_urlsafe(10)
        r = await client.as_("admin").put(f"/users/p{i}", json={"role": "evaluator", "password": passwords[f"p{i}"]})
        assert r.status_code == 201, r.text

    async def sign_in(name: str, password: str) -> int:
        r = await client.http.post("/auth/login", json={"username": name, "password": password})
        return r.status_code

    burst = [asyncio.create_task(sign_in(n, p)) for _ in range(5) for n, p in passwords.items()]  # 40 at once
    burst.append(asyncio.create_task(sign_in("p0", "wrong-password")))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    r = await client.as_("org").get(f"/cycles/{key}")  # while 40 hashes queue, 2 at a time
    waited = time.monotonic() - started
    codes = await asyncio.gather(*burst)
    assert r.status_code == 200
    assert codes[:-1] == [200] * 40 and codes[-1] == 401
    assert waited < 5.0, f"a read waited {waited:.1f} s behind the sign-ins"
