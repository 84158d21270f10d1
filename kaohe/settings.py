"""One settings object, read from ``KAOHE_*`` environment variables.

The embedded default needs none of them: SQLite files and the Temporal dev server, all under
``KAOHE_DATA_DIR`` (default ``./.kaohe``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAOHE_", extra="ignore")

    env: str = Field("development", description="development | production")
    data_dir: Path = Field(Path(".kaohe"), description="embedded state: event store, read models, Temporal's database")
    database_url: str | None = Field(
        None, description="event store; postgresql://user:pass@host:5432/db, default SQLite in the data dir"
    )
    read_database_url: str | None = Field(
        None, description="read models and accounts (SQLAlchemy URL); default: same PostgreSQL, or SQLite in the data dir"
    )
    temporal_address: str | None = Field(None, description="host:port of a Temporal frontend; unset = embedded dev server")
    temporal_namespace: str = "default"
    task_queue: str = "kaohe"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    admin_user: str = "admin"
    admin_password: str | None = Field(None, description="first admin's password; required in production")
    token_ttl_hours: int = 12
    session_idle_seconds: int = Field(1800, ge=0, description="a token or page session unused this long is refused (0 = no idle limit)")
    login_free_attempts: int = Field(5, ge=1, description="wrong sign-ins per account before back-off starts")
    login_free_attempts_per_address: int = Field(20, ge=1, description="wrong sign-ins per client address before back-off starts")
    login_backoff_max_seconds: int = Field(900, ge=1, description="longest lock after repeated wrong sign-ins (the back-off's cap)")
    totp_required_roles: str = Field(
        "", description="comma-separated roles that must use a TOTP second factor, besides admin and committee in production"
    )
    token_cache_seconds: float = Field(10.0, description="how long a checked token is trusted without a query (0 = never)")
    password_hash_concurrency: int = Field(2, ge=1, le=64, description="Argon2 hashes (19 MiB each) computed at once, API and pages together")
    projection_poll_seconds: float = 0.2
    read_cache_seconds: float = Field(5.0, description="longest a read answer is reused while the read models stay put (0 = never)")
    worker_threads: int = 8
    aggregate_cache: int = Field(
        1000, ge=0, description="aggregates kept in memory and fast-forwarded from the log on each load (0: none)"
    )
    attachment_max_bytes: int = Field(10 * 1024 * 1024, ge=1, description="largest evidence file accepted")
    attachment_quota_bytes: int = Field(200 * 1024 * 1024, gt=0, description="a unit's evidence files together, at most")
    attachments_dir: Path | None = Field(
        None, description="where evidence files are stored; shared by every API replica (default: KAOHE_DATA_DIR/attachments)"
    )
    command_key: str | None = Field(
        None,
        description="shared secret (32+ characters) the API signs each command's actor with and the worker checks; "
        "required in production, generated into the data dir (command-key, 0600) otherwise",
    )
    command_ttl_seconds: float = Field(3600.0, gt=0, description="how long a signed command stays valid for the worker")
    temporal_tls: bool = Field(False, description="connect to Temporal over TLS (implied by any KAOHE_TEMPORAL_TLS_* file)")
    temporal_tls_ca: Path | None = Field(None, description="PEM file of the CA that signed Temporal's server certificate")
    temporal_tls_cert: Path | None = Field(None, description="PEM client certificate for mTLS (with KAOHE_TEMPORAL_TLS_KEY)")
    temporal_tls_key: Path | None = Field(None, description="PEM private key of the client certificate")
    temporal_tls_server_name: str | None = Field(None, description="name to expect in Temporal's certificate, if not the address' host")
    max_body_bytes: int = Field(
        1024 * 1024, ge=64 * 1024, description="largest JSON or form body (routes taking files allow their files' limit)"
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or CIDRs, * = any)"
    )
    hsts_seconds: int = Field(365 * 86400, ge=0, description="Strict-Transport-Security max-age in production (0 = none)")
    audit_signing_key: str | None = Field(None, description="base64 Ed25519 private key that signs audit digests")
    audit_public_key: str | None = Field(None, description="base64 Ed25519 public key a digest must be signed with")

    @property
    def production(self) -> bool:
        return self.env == "production"

    def second_factor_roles(self) -> frozenset[str]:
        """Roles that must sign in with TOTP: admin and committee in production, and any named."""
        named = {r.strip() for r in self.totp_required_roles.split(",") if r.strip()}
        return frozenset(named | ({"admin", "committee"} if self.production else set()))

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(("postgres://", "postgresql"))

    def event_store_env(self) -> dict[str, str]:
        """The ``eventsourcing`` environment for the event store.

        Loaded aggregates are cached (a cycle with a thousand units is a thousand events to
        replay) and fast-forwarded from the log on each load, so a cache never serves a stale
        aggregate, also when other processes write to the same store; callers get copies."""
        cache = {"AGGREGATE_CACHE_MAXSIZE": str(self.aggregate_cache), "AGGREGATE_CACHE_FASTFORWARD": "y"} if self.aggregate_cache else {}
        return {**self._store_env(), **cache}

    def _store_env(self) -> dict[str, str]:
        if self.uses_postgres:
            u = urlparse(self.database_url)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": u.path.lstrip("/") or "kaohe",
                "POSTGRES_HOST": u.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(u.port or 5432),
                "POSTGRES_USER": unquote(u.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(u.password or ""),
                "POSTGRES_POOL_SIZE": "5",
                "POSTGRES_MAX_OVERFLOW": "10",
                "CREATE_TABLE": "y",
                "APPLICATION_RECORDER_TOPIC": "adapters.eventstore:ChainedPostgresApplicationRecorder",
            }
        if self.database_url:
            raise ValueError("KAOHE_DATABASE_URL must be a postgresql:// URL (unset means SQLite in KAOHE_DATA_DIR)")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.ensure_data_dir().resolve() / "events.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
            "CREATE_TABLE": "y",
            "APPLICATION_RECORDER_TOPIC": "adapters.eventstore:ChainedSQLiteApplicationRecorder",
        }

    def read_url(self) -> str:
        if self.read_database_url:
            return self.read_database_url
        if self.uses_postgres:
            u = self.database_url.split("://", 1)[1]
            return "postgresql+psycopg://" + u
        return f"sqlite:///{self.ensure_data_dir().resolve() / 'read.sqlite'}"


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
