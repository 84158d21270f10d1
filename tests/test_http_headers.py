"""Cookies and headers (issue 12, gap 6; the Content-Security-Policy in full: tests/test_csp.py):
``Secure`` always in production, the proxies believed about the scheme as a setting, HSTS in
production, ``nosniff`` and a ``Referrer-Policy`` on every answer, the API's documentation for
signed-in callers only in production, and in production too a Content-Security-Policy on every answer.
Real stacks over HTTP, one per mode."""

from __future__ import annotations

import uuid
from typing import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from api.security import API_CSP, PAGE_CSP, docs_csp
from kaohe.runtime import Stack, free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import temporal_address
from tests.helpers import enrolled_admin_token

pytestmark = pytest.mark.temporal


async def running(temporal_env, tmp_path_factory, **overrides) -> Stack:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("headers") / "data", task_queue=f"kaohe-test-{uuid.uuid4().hex[:8]}",
        temporal_address=temporal_address(temporal_env), admin_password="admin-pass-123", **overrides,
    )
    return await start_stack(settings, embedded_temporal=False, api_port=free_port())


#: Who signs in on the production stack: the admin must enrol a second factor there first (issue 12),
#: so the admin, once enrolled, makes an organizer (a role for which TOTP is optional).
READER = ("reader", "reader-pass-2026")


@pytest_asyncio.fixture(scope="module")
async def production(temporal_env, tmp_path_factory) -> AsyncIterator[Stack]:
    stack = await running(temporal_env, tmp_path_factory, env="production",
                          command_key="a-production-command-key-of-64-characters-0123456789abcdef012345")
    token = await enrolled_admin_token(stack.api_url)
    async with httpx.AsyncClient(base_url=stack.api_url + "/api/v1", timeout=60) as http:
        r = await http.put(f"/users/{READER[0]}", json={"role": "organizer", "password": READER[1]},
                           headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
    try:
        yield stack
    finally:
        await stack.stop()


@pytest_asyncio.fixture(scope="module")
async def development(temporal_env, tmp_path_factory) -> AsyncIterator[Stack]:
    """The embedded default, except that the only proxy believed is 10.9.9.9 (not the test)."""
    stack = await running(temporal_env, tmp_path_factory, forwarded_allow_ips="10.9.9.9")
    try:
        yield stack
    finally:
        await stack.stop()


def web(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.api_url, follow_redirects=False, timeout=60)


async def sign_in_cookie(stack: Stack, headers: dict[str, str] | None = None,
                         who: tuple[str, str] = ("admin", "admin-pass-123")) -> httpx.Response:
    async with web(stack) as c:
        return await c.post("/login", data={"username": who[0], "password": who[1], "next": "/tasks"}, headers=headers or {})


def session_cookie(r: httpx.Response) -> str:
    found = [h for h in r.headers.get_list("set-cookie") if h.startswith("kaohe_token=")]
    assert found, r.headers
    return found[0].lower()


async def test_the_session_cookie_is_secure_in_production_even_over_plain_http(production):
    """Behind a TLS proxy the app sees http; before, the cookie was then never Secure."""
    r = await sign_in_cookie(production, who=READER)
    assert r.status_code == 303
    cookie = session_cookie(r)
    assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_a_proxy_not_in_the_setting_is_not_believed_about_the_scheme(development):
    """X-Forwarded-Proto from an address outside KAOHE_FORWARDED_ALLOW_IPS changes nothing
    (before, uvicorn believed 127.0.0.1 whatever the operator had set)."""
    r = await sign_in_cookie(development, {"X-Forwarded-Proto": "https"})
    assert r.status_code == 303
    assert "; secure" not in session_cookie(r)


async def test_a_listed_proxy_is_believed(temporal_env, tmp_path_factory):
    stack = await running(temporal_env, tmp_path_factory, forwarded_allow_ips="127.0.0.1")
    try:
        r = await sign_in_cookie(stack, {"X-Forwarded-Proto": "https"})
        assert "; secure" in session_cookie(r)
        r = await sign_in_cookie(stack)
        assert "; secure" not in session_cookie(r)  # development over plain http: a cookie the browser keeps
    finally:
        await stack.stop()


ANSWERS = [  # (method, path, body): a page, the sign-in form, the API (an answer, a 401, a 404, a 422), static, a 413
    ("GET", "/login", None), ("GET", "/tasks", None), ("GET", "/api/v1/health", None), ("GET", "/api/v1/cycles", None),
    ("GET", "/api/v1/no-such-route", None), ("POST", "/api/v1/auth/login", {}), ("GET", "/static/kaohe.css", None),
    ("POST", "/api/v1/auth/login", "x" * (2 * 1024 * 1024)),
]


@pytest.mark.parametrize("method, path, body", ANSWERS, ids=[f"{m} {p}{' big' if isinstance(b, str) else ''}" for m, p, b in ANSWERS])
async def test_every_answer_carries_the_safe_headers_and_hsts_in_production(production, method, path, body):
    async with web(production) as c:
        r = await c.request(method, path, **({"content": body} if isinstance(body, str) else {"json": body} if body is not None else {}))
    assert r.headers.get("x-content-type-options") == "nosniff", (r.status_code, r.headers)
    assert r.headers.get("referrer-policy") == "same-origin"
    assert r.headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains"
    page = r.headers.get("content-type", "").startswith("text/html") and not path.startswith(("/api/", "/static/"))
    assert r.headers.get("content-security-policy") == (PAGE_CSP if page else API_CSP)  # tests/test_csp.py: all routes


async def test_no_hsts_in_development_but_the_safe_headers(development):
    async with web(development) as c:
        r = await c.get("/api/v1/health")
    assert r.headers.get("x-content-type-options") == "nosniff" and r.headers.get("referrer-policy") == "same-origin"
    assert "strict-transport-security" not in r.headers


async def test_the_api_documentation_is_for_signed_in_callers_in_production(production):
    async with web(production) as c:
        assert (await c.get("/openapi.json")).status_code == 401
        r = await c.get("/docs")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/docs"
        assert (await c.get("/redoc")).status_code == 303
        token = (await c.post("/api/v1/auth/login", json={"username": READER[0], "password": READER[1]})).json()["access_token"]
        r = await c.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "/api/v1/auth/login" in r.json()["paths"]
        assert (await c.get("/openapi.json", headers={"Authorization": "Bearer not-a-token"})).status_code == 401
    signed = await sign_in_cookie(production, who=READER)
    cookie = signed.cookies.get("kaohe_token")
    async with web(production) as c:
        c.cookies.set("kaohe_token", cookie)
        r = await c.get("/docs")
        assert r.status_code == 200 and "/openapi.json" in r.text and "swagger" in r.text.lower()
        assert r.headers["content-security-policy"] == docs_csp("/docs", r.content)  # its CDN files, its script by hash
        assert (await c.get("/openapi.json")).status_code == 200  # what the Swagger page fetches, with the cookie
        assert (await c.get("/redoc")).status_code == 200


async def test_the_api_documentation_is_open_in_the_embedded_default(development):
    async with web(development) as c:
        assert (await c.get("/openapi.json")).status_code == 200
        assert (await c.get("/docs")).status_code == 200
