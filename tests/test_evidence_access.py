"""Issue 12, gap 7, over the real HTTP API: an evidence file is read by reference (an item of the
unit's own that cites a file uploaded for that unit), not by knowing its SHA-256; an upload is
checked (role, the item's unit) before anything is stored; each unit has a quota."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import log_position
from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal

QUOTA = 64 * 1024


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"attachment_quota_bytes": QUOTA})


def stored(stack, sha: str) -> bool:
    return (stack.settings.data_dir / "attachments" / sha[:2] / sha).exists()


async def items_of(client, key: str) -> dict[str, str]:
    """One rectification item per unit, added by hand by the organizer: unit → item id."""
    out = {}
    for unit in ("U1", "U2"):
        r = await client.as_("org").post(f"/cycles/{key}/rectifications", json={"unit": unit, "description": "会议记录不全，补齐"})
        assert r.status_code == 201, r.text
        out[unit] = r.json()["items"][0]["id"]
    return out


def upload(client, user: str, name: str, data: bytes, **params):
    return client.http.post("/attachments", headers=client.as_(user).headers, params=params,
                            files={"file": (name, data, "text/plain")})


async def test_a_unit_that_knows_another_units_hash_can_neither_cite_nor_read_the_file(client, stack):
    await cast(client)
    key = await small_cycle(client, "published")
    items = await items_of(client, key)
    secret = "第一支部：某同志违纪情况说明".encode()
    up = await upload(client, "u1", "情况说明.txt", secret)
    assert up.status_code == 201, up.text
    evidence = up.json()
    r = await client.as_("u1").post(f"/cycles/{key}/rectifications/{items['U1']}/progress", json={"text": "已说明", "attachments": [evidence]})
    assert r.status_code == 200, r.text
    assert (await client.as_("u1").get(f"/attachments/{evidence['sha256']}")).content == secret

    # U2 learnt the hash (a shared screen, a log line): citing it in U2's own item is refused …
    before = log_position(stack)
    r = await client.as_("u2").post(f"/cycles/{key}/rectifications/{items['U2']}/progress", json={"text": "引用", "attachments": [evidence]})
    assert r.status_code == 403 and r.json()["code"] == "attachment_not_yours", r.text
    assert r.json()["field"] == "attachments[0].sha256"
    assert log_position(stack) == before
    # … so U2 cannot read it either; the organizer and the auditor can.
    assert (await client.as_("u2").get(f"/attachments/{evidence['sha256']}")).status_code == 403
    for reader in ("org", "aud"):
        assert (await client.as_(reader).get(f"/attachments/{evidence['sha256']}")).content == secret
    # U2 uploading the same bytes itself makes them U2's too: then it may cite them.
    assert (await upload(client, "u2", "同样的.txt", secret)).status_code == 201
    r = await client.as_("u2").post(f"/cycles/{key}/rectifications/{items['U2']}/progress", json={"text": "自己上传", "attachments": [evidence]})
    assert r.status_code == 200, r.text


async def test_an_upload_for_another_units_item_is_refused_before_it_is_stored_and_each_unit_has_a_quota(client, stack):
    await cast(client)
    key = await small_cycle(client, "published")
    items = await items_of(client, key)
    data = "第二支部的材料".encode()
    sha = hashlib.sha256(data).hexdigest()
    r = await upload(client, "u2", "材料.txt", data, cycle=key, item=items["U1"])
    assert r.status_code == 403, r.text
    assert not stored(stack, sha)
    r = await upload(client, "eva", "材料.txt", data, cycle=key, item=items["U2"])
    assert r.status_code == 403 and not stored(stack, sha)
    assert (await upload(client, "u2", "材料.txt", data, cycle=key, item=items["U2"])).status_code == 201
    assert stored(stack, sha)

    # The quota (KAOHE_ATTACHMENT_QUOTA_BYTES, here 64 KiB): 40 KiB fits, 40 KiB more does not.
    first, second = b"a" * 40 * 1024, b"b" * 40 * 1024
    assert (await upload(client, "u1", "一.txt", first)).status_code == 201
    r = await upload(client, "u1", "二.txt", second)
    assert r.status_code == 409 and r.json()["code"] == "quota_exceeded" and r.json()["field"] == "file", r.text
    assert not stored(stack, hashlib.sha256(second).hexdigest())
    assert (await upload(client, "u1", "一（再次）.txt", first)).status_code == 201  # already the unit's: counted once
    assert (await upload(client, "u2", "二.txt", second)).status_code == 201  # another unit's quota
