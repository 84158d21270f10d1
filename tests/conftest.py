"""Shared fixtures: the real Temporal dev server, the real event store (SQLite and PostgreSQL),
the real FastAPI app over HTTP. Nothing the product runs on is mocked."""

from __future__ import annotations

import os
import secrets
import uuid
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import psycopg
import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from kaohe.devserver import temporal_path
from kaohe.runtime import Stack, free_port, start_stack
from kaohe.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: The worked example of the product contract (shared/examples), kept in the repository so a
#: clone tests on its own; tests/test_examples.py checks the copy against shared/ when it is beside.
CONTRACT = EXAMPLES / "contract"
SHARED = ROOT.parent / "shared"
PG_URL = os.environ.get("KAOHE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here (None if they can)."""
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as err:  # noqa: BLE001 - any failure means: skip, and say why
        return f"PostgreSQL 不可用 / not reachable at {PG_URL}: {err}".splitlines()[0]


_PG_REASON = postgres_reason()


@pytest.fixture
def pg_database() -> str:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    with module_database_for("postgres") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def module_database_for(backend: str) -> Iterator[str | None]:
    """None on SQLite, else a fresh PostgreSQL database, dropped afterwards (skips, saying why,
    where there is no server): for one test, or for a module that keeps one stack per store."""
    if backend == "sqlite":
        yield None
        return
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    name = f"kaohe_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def module_stack(name: str, database_url: str | None, temporal_env: WorkflowEnvironment,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The whole system for one module (data dir ``name``), against the shared dev server."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp(name) / "data",
        task_queue=f"kaohe-test-{uuid.uuid4().hex[:8]}",
        database_url=database_url,
        temporal_address=temporal_address(temporal_env),
        admin_password="admin-pass-123",
    )
    running = await start_stack(settings, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for one test: its own data dir; PostgreSQL when the backend says so."""
    overrides: dict[str, Any] = {"data_dir": tmp_path / "data", "task_queue": f"kaohe-test-{uuid.uuid4().hex[:8]}"}
    if backend == "postgres":
        overrides["database_url"] = request.getfixturevalue("pg_database")
    return Settings(**overrides)


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_path(), data_converter=pydantic_data_converter
    )
    try:
        yield env
    finally:
        await env.shutdown()


def temporal_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


@pytest_asyncio.fixture
async def stack(settings: Settings, temporal_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """The whole system (worker, projections, API on a free port) against the shared dev server."""
    s = settings.model_copy(update={"temporal_address": temporal_address(temporal_env), "admin_password": "admin-pass-123"})
    running = await start_stack(s, embedded_temporal=False, api_port=free_port())
    try:
        yield running
    finally:
        await running.stop()


class Client:
    """A tiny HTTP client for tests: one bearer token per user."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.AsyncClient(base_url=stack.api_url + "/api/v1", timeout=60)
        self.tokens: dict[str, str] = {}

    async def login(self, username: str, password: str) -> None:
        r = await self.http.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.tokens[username] = r.json()["access_token"]

    async def user(self, username: str, role: str, unit: str | None = None) -> str:
        """Create (or update) a user as the admin and sign them in."""
        if "admin" not in self.tokens:
            await self.login("admin", "admin-pass-123")
        password = secrets.token_urlsafe(10)
        r = await self.as_("admin").put(f"/users/{username}", json={"role": role, "unit": unit, "password": password})
        assert r.status_code in (200, 201), r.text
        await self.login(username, password)
        return username

    def as_(self, username: str) -> "As":
        return As(self.http, self.tokens[username])

    async def close(self) -> None:
        await self.http.aclose()


class As:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.headers, **kw)

    async def post(self, path: str, json: Any = None, headers: dict | None = None, **kw: Any) -> httpx.Response:
        return await self.http.post(path, json=json, headers={**self.headers, **(headers or {})}, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.put(path, json=json, headers=self.headers, **kw)


@pytest_asyncio.fixture
async def client(stack: Stack) -> AsyncIterator[Client]:
    c = Client(stack)
    try:
        yield c
    finally:
        await c.close()


def log_position(stack: Stack) -> int:
    """The event log's head: a rejected request must leave it where it was."""
    return stack.app.recorder.max_notification_id() or 0


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """A browser test fails when the Content-Security-Policy refused anything on its pages (tests/csp_watch.py)."""
    from tests import csp_watch

    csp_watch.VIOLATIONS.clear()
    yield
    assert csp_watch.VIOLATIONS == [], "the Content-Security-Policy refused something:\n" + "\n".join(csp_watch.VIOLATIONS)
