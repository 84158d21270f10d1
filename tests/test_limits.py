"""Request bodies are bounded while they are read (api/limits.py), before anyone is authenticated.

The real stack over HTTP; the large bodies are sent over a raw socket, so the test sees *when*
the server answers: a 64 MiB body is refused after the first megabyte or so, the rest unsent.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from kaohe.runtime import Stack, free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import Client, temporal_address

pytestmark = pytest.mark.temporal

MiB = 1024 * 1024
HUGE = 64 * MiB


@pytest_asyncio.fixture(scope="module")
async def stack(temporal_env, tmp_path_factory) -> AsyncIterator[Stack]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("limits") / "data", task_queue=f"kaohe-test-{uuid.uuid4().hex[:8]}",
        temporal_address=temporal_address(temporal_env), admin_password="admin-pass-123",
        attachment_max_bytes=3 * MiB,
    )
    running = await start_stack(settings, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[Client]:
    c = Client(stack)
    await c.user("org", "organizer")
    try:
        yield c
    finally:
        await c.close()


async def raw_send(stack: Stack, method: str, path: str, headers: dict[str, str], total: int, chunked: bool = False,
                   chunk: int = 256 * 1024) -> tuple[int, bytes, int]:
    """Send ``total`` bytes of body (``x``) while listening; stop sending when the answer comes.
    Returns (status, the answer's bytes, how many body bytes had been sent when it came)."""
    url = urlsplit(stack.api_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = {"Host": url.netloc, **headers}
    if chunked:
        head["Transfer-Encoding"] = "chunked"
    else:
        head["Content-Length"] = str(total)
    writer.write((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n").encode())
    sent = 0
    answer = asyncio.create_task(reader.read(65536))
    block = b"x" * chunk
    try:
        while sent < total and not answer.done():
            n = min(chunk, total - sent)
            writer.write(f"{n:x}\r\n".encode() + block[:n] + b"\r\n" if chunked else block[:n])
            try:
                await asyncio.wait_for(writer.drain(), timeout=5)
            except (ConnectionError, asyncio.TimeoutError):
                break  # the server stopped reading: the answer is on its way
            sent += n
            await asyncio.sleep(0)  # let the server run (it is on this event loop)
        data = await asyncio.wait_for(answer, timeout=30)
        while b"\r\n\r\n" not in data:
            more = await asyncio.wait_for(reader.read(65536), timeout=30)
            if not more:
                break
            data += more
        head_part, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head_part.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            more = await asyncio.wait_for(reader.read(65536), timeout=30)
            if not more:
                break
            body += more
        status = int(head_part.split(b" ")[1])
        return status, data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n" + body, sent
    finally:
        answer.cancel()
        writer.close()


def body_of(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[2]


async def test_a_64_mib_json_body_to_sign_in_is_refused_before_it_is_read(stack, client):
    """The issue's case: before, the 64 MiB were read whole and answered 422. Now 413, naming the
    field and the rule, and the server answers after at most a few MiB: it read none of the rest."""
    status, raw, sent = await raw_send(stack, "POST", "/api/v1/auth/login", {"Content-Type": "application/json"}, HUGE)
    assert status == 413, raw[:300]
    import json

    body = json.loads(body_of(raw))
    assert body["code"] == "body_too_large" and body["field"] == "body" and body["max_bytes"] == MiB
    assert body["rule"] == f"at most {MiB} bytes"
    assert sent < 8 * MiB, f"the server answered only after {sent} bytes"


async def test_a_64_mib_chunked_body_is_cut_off_at_the_limit(stack, client):
    """No Content-Length to refuse on: the body is counted as it arrives, answered past 1 MiB."""
    status, raw, sent = await raw_send(stack, "POST", "/api/v1/auth/login", {"Content-Type": "application/json"}, HUGE, chunked=True)
    assert status == 413, raw[:300]
    assert b"body_too_large" in body_of(raw)
    assert sent < 8 * MiB, f"the server answered only after {sent} bytes"


async def test_an_anonymous_upload_gets_the_small_limit(stack, client):
    """Before anyone is authenticated, an upload route takes no more than a JSON body: 2 MiB of
    file without a token is refused 413 (it used to be spooled to disk, then answered 401)."""
    status, raw, sent = await raw_send(
        stack, "POST", "/api/v1/attachments", {"Content-Type": "multipart/form-data; boundary=b"}, 2 * MiB
    )
    assert status == 413, raw[:300]


async def test_a_signed_in_upload_gets_the_attachment_limit(stack, client):
    """The evidence route allows its file limit (here 3 MiB) to a signed-in caller, and refuses
    beyond it with 413 while reading."""
    files = {"file": ("evidence.pdf", b"%PDF-1.4\n" + b"0" * (2 * MiB), "application/pdf")}
    r = await client.as_("org").post("/attachments", files=files)
    assert r.status_code != 413, r.text
    token = client.tokens["org"]
    status, raw, sent = await raw_send(
        stack, "POST", "/api/v1/attachments", {"Content-Type": "multipart/form-data; boundary=b", "Authorization": f"Bearer {token}"}, HUGE,
    )
    assert status == 413, raw[:300]
    assert sent < 12 * MiB


async def test_an_ordinary_body_still_passes(stack, client):
    r = await client.http.post("/auth/login", json={"username": "admin", "password": "admin-pass-123"})
    assert r.status_code == 200, r.text
    r = await client.http.post("/auth/login", json={"username": "admin", "password": "x" * (512 * 1024)})
    assert r.status_code == 401, r.text  # half a MiB is under the limit: read, then refused as a wrong password


async def test_a_page_form_too_large_answers_an_html_413_page(stack, client):
    """A page (the sign-in form) answers an HTML error page in the caller's language, not JSON."""
    async with httpx.AsyncClient(base_url=stack.api_url) as web:
        r = await web.post("/login?lang=en", data={"username": "admin", "password": "x" * (2 * MiB)})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "What you sent is too large" in r.text and "1 MiB" in r.text and "提交" not in r.text
    async with httpx.AsyncClient(base_url=stack.api_url) as web:
        r = await web.post("/login", data={"username": "admin", "password": "x" * (2 * MiB)})
    assert r.status_code == 413 and "提交的内容过大" in r.text


# ---------------------------------------------------------------- integers (issue 12, gap 9)

INT_MAX = 2**63 - 1


def integer_schemas(spec: dict) -> list[tuple[str, dict]]:
    """(where, schema) of every integer a request may carry: parameters and request bodies,
    following ``$ref`` into the components (the answers' schemas are not the caller's input)."""
    found: list[tuple[str, dict]] = []
    seen: set[str] = set()

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                if ref not in seen:
                    seen.add(ref)
                    target = spec
                    for part in ref.removeprefix("#/").split("/"):
                        target = target[part]
                    walk(target, ref)
                return
            if node.get("type") == "integer":
                found.append((where, node))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for p in op.get("parameters", []):
                walk(p.get("schema", {}), f"{method.upper()} {path} ?{p['name']}")
            walk(op.get("requestBody", {}), f"{method.upper()} {path} body")
    return found


async def test_every_integer_a_request_carries_has_a_maximum(stack, client):
    """Walk the OpenAPI schema: each integer parameter or body field has a minimum and a
    maximum the stores can hold (before: ``position`` and ``year`` had none)."""
    spec = (await httpx.AsyncClient(base_url=stack.api_url).get("/openapi.json")).json()
    ints = integer_schemas(spec)
    assert len(ints) >= 3, ints  # replay's and explain's position, the cycle's year
    unbounded = [w for w, s in ints if "maximum" not in s or s["maximum"] > INT_MAX or "minimum" not in s]
    assert unbounded == []


async def test_a_position_past_64_bits_is_refused_naming_the_field(stack, client):
    """The fuzzer's 500: now 422 naming ``position``; the largest 64-bit position is no error either."""
    await client.login("admin", "admin-pass-123")
    admin = client.as_("admin")
    for route in ("/audit/cycles/c/units/U1/explain", "/audit/cycles/c/replay"):
        r = await admin.get(route, params={"position": "105375013793899249664"})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_request" and r.json()["field"] == "position"
        r = await admin.get(route, params={"position": str(INT_MAX)})
        assert r.status_code < 500, r.text


async def test_an_integer_past_64_bits_inside_a_body_is_refused_naming_the_field(stack, client):
    body = {"key": "big-int", "year": 2026, "name": "大数", "schemes": {"grassroots_branch": "default"},
            "policy": {"committee_quorum": 2**64}}
    r = await client.as_("org").post("/cycles", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "policy" and "committee_quorum" in r.json()["message"]
    r = await client.as_("org").post("/cycles", json={**body, "policy": None, "year": 10**20})
    assert r.status_code == 422 and r.json()["field"] == "year", r.text


# ---------------------------------------------------------------- password hashing (gap 3)


async def test_sign_ins_from_the_api_and_the_pages_hash_at_most_the_setting_at_once(stack, client):
    """40 sign-ins at once, half by the JSON API, half by the page form, and password changes by
    the admin: never more Argon2 computations (19 MiB each) at once than
    KAOHE_PASSWORD_HASH_CONCURRENCY (2). Counted by wrapping the hasher the accounts use."""
    import threading

    from adapters import accounts as accounts_module

    hasher = accounts_module._hasher
    lock = threading.Lock()
    now = peak = calls = 0
    original = {name: getattr(hasher, name) for name in ("hash", "verify")}

    class Counting:  # the same hasher, counting the computations in flight
        pass

    def counted(name):
        def run(*args, **kwargs):
            nonlocal now, peak, calls
            with lock:
                now += 1
                calls += 1
                peak = max(peak, now)
            try:
                return original[name](*args, **kwargs)
            finally:
                with lock:
                    now -= 1
        return run

    await client.login("admin", "admin-pass-123")
    r = await client.as_("admin").put("/users/burst", json={"role": "evaluator", "password": "burst-pass-123"})
    assert r.status_code in (200, 201), r.text
    spy = Counting()
    for name in original:
        setattr(spy, name, counted(name))
    accounts_module._hasher = spy
    try:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as web:
            async def api() -> int:
                return (await client.http.post("/auth/login", json={"username": "burst", "password": "burst-pass-123"})).status_code

            async def page() -> int:
                r = await web.post("/login", data={"username": "burst", "password": "burst-pass-123", "next": "/tasks"})
                return r.status_code

            async def reset(n: int) -> int:
                r = await client.as_("admin").put(f"/users/burst{n}", json={"role": "evaluator", "password": f"burst-pass-{n:04d}"})
                return r.status_code

            codes = await asyncio.gather(*[api() for _ in range(20)], *[page() for _ in range(20)], *[reset(n) for n in range(4)])
    finally:
        accounts_module._hasher = hasher
    assert codes[:20] == [200] * 20 and codes[20:40] == [303] * 20 and set(codes[40:]) <= {200, 201}
    assert calls >= 44
    assert peak <= stack.accounts.hash_concurrency == 2
