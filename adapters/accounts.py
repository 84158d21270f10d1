"""Local users with Argon2-hashed passwords and opaque bearer tokens (stored hashed).

Two things keep this cheap under load:

- **Bounded hashing.** An Argon2id hash takes 19 MiB and tens of milliseconds of a core; at most
  ``hash_concurrency`` (``KAOHE_PASSWORD_HASH_CONCURRENCY``, default 2) run at once. The async
  doors (``login_async``, ``put_async``) queue on the event loop *before* taking a worker thread,
  so 40 people signing in at once hold 2 threads, not all 40 of the pool every read needs.
- **Token cache.** A token once checked is remembered for ``token_cache_seconds`` (default 10 s,
  never past its expiry), so a request costs a dictionary lookup, not a database round trip and
  a thread hop. Signing out, a new password, a role change or deactivation in this process
  forget the user's tokens at once; another API process sees them within that many seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, Engine, ForeignKey, String, delete, func, or_, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from domain.errors import Conflict, InvalidInput, NotFound
from domain.rules import ROLES, Actor, check_key, check_text

# OWASP's Argon2id baseline (19 MiB, t=2, p=1): strong, and fast enough to sign in hundreds of users.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD = 8


class AccountBase(DeclarativeBase):
    """Accounts are not read models: a projection rebuild leaves them alone."""


class UserRow(AccountBase):
    __tablename__ = "accounts_users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenRow(AccountBase):
    __tablename__ = "accounts_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), ForeignKey("accounts_users.username", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    unit: str | None
    active: bool

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.unit)

    def to_dict(self) -> dict:
        return {"username": self.username, "display_name": self.display_name, "role": self.role, "unit": self.unit, "active": self.active}


def _user(row: UserRow) -> User:
    return User(row.username, row.display_name, row.role, row.unit, row.active)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Accounts:
    def __init__(
        self, engine: Engine, token_ttl: timedelta = timedelta(hours=12), *, hash_concurrency: int = 2, token_cache_seconds: float = 10.0
    ) -> None:
        self.engine = engine  # the ballot codes' table lives beside the accounts (adapters.ballot_codes)
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.ttl = token_ttl
        AccountBase.metadata.create_all(engine)
        self.hash_concurrency = max(1, hash_concurrency)
        self._hashing = threading.BoundedSemaphore(self.hash_concurrency)  # every caller, sync or not
        self._slots: asyncio.Semaphore | None = None  # the async doors wait here, holding no thread
        self.token_cache_seconds = token_cache_seconds
        self._tokens: dict[str, tuple[User, datetime, float]] = {}  # digest → (user, expires, cached until)
        self._tokens_lock = threading.Lock()

    # -- Argon2, bounded
    def _hash(self, password: str) -> str:
        with self._hashing:
            return _hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> None:
        with self._hashing:
            _hasher.verify(password_hash, password)

    def _async_slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.hash_concurrency)
        return self._slots

    async def login_async(self, username: str, password: str) -> tuple[str, datetime, "User"] | None:
        from starlette.concurrency import run_in_threadpool

        async with self._async_slots():
            return await run_in_threadpool(self.login, username, password)

    async def put_async(self, username: str, role: str, password: str | None, unit: str | None = None, display_name: str | None = None) -> tuple["User", bool]:
        from starlette.concurrency import run_in_threadpool

        if password is None:
            return await run_in_threadpool(self.put, username, role, password, unit, display_name)
        async with self._async_slots():
            return await run_in_threadpool(self.put, username, role, password, unit, display_name)

    # -- the token cache
    def cached(self, token: str) -> User | None:
        """The token's user if it was checked in the last ``token_cache_seconds`` (no I/O)."""
        hit = self._tokens.get(_digest(token))
        if hit is None:
            return None
        user, expires, until = hit
        if time.monotonic() > until or expires < _now():
            with self._tokens_lock:
                self._tokens.pop(_digest(token), None)
            return None
        return user

    def _remember(self, digest: str, user: User, expires: datetime) -> None:
        if self.token_cache_seconds <= 0:
            return
        with self._tokens_lock:
            if len(self._tokens) > 50_000:
                self._tokens.clear()
            self._tokens[digest] = (user, expires, time.monotonic() + self.token_cache_seconds)

    def _forget(self, username: str | None = None, digest: str | None = None) -> None:
        with self._tokens_lock:
            if digest is not None:
                self._tokens.pop(digest, None)
            if username is not None:
                for d in [d for d, (u, _, _) in self._tokens.items() if u.username == username]:
                    del self._tokens[d]

    @staticmethod
    def validate(
        username: object, role: object, unit: object, password: object, *, need_password: bool = True, display_name: object = None
    ) -> None:
        if not isinstance(username, str) or not (1 <= len(username) <= 64) or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidInput("invalid_username", "用户名须为 1–64 位字母、数字、-、_、. / invalid username", "username")
        if role not in ROLES:
            raise InvalidInput("unknown_role", f"角色须为 {', '.join(ROLES)} 之一 / unknown role", "role")
        if role == "unit" and not unit:
            raise InvalidInput("unit_required", "单位联络人必须隶属于一个单位 / a unit user needs a unit", "unit")
        if unit is not None:
            check_key(unit, "unit", "invalid_unit", "单位编号")
        if display_name is not None:
            check_text(display_name, "display_name", 100, "显示名称")
        if need_password and (not isinstance(password, str) or len(password) < MIN_PASSWORD):
            raise InvalidInput("weak_password", f"密码至少 {MIN_PASSWORD} 位 / password needs at least {MIN_PASSWORD} characters", "password")

    def put(self, username: str, role: str, password: str | None, unit: str | None = None, display_name: str | None = None) -> tuple[User, bool]:
        """Create a user, or update role/unit/password of an existing one. Returns (user, created)."""
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            self.validate(username, role, unit, password, need_password=row is None or password is not None, display_name=display_name)
            created = row is None
            if row is None:
                row = UserRow(username=username, created_at=_now(), active=True, password_hash="")
                db.add(row)
            elif row.role == "admin" and role != "admin" and row.active:
                self._keep_an_admin(db, username)
            row.role = role
            row.unit = unit
            row.display_name = display_name or row.display_name if not created else (display_name or username)
            if password is not None:
                row.password_hash = self._hash(password)
                db.execute(delete(TokenRow).where(TokenRow.username == username))
            db.flush()
            saved = _user(row)
        self._forget(username=username)  # role, unit or password changed: check its tokens again
        return saved, created

    def add_code_only(self, username: str, display_name: str | None = None) -> User:
        """A representative who signs in with no password: they cast by one-time ballot code only
        (a meeting of 300 needs no 300 passwords). The empty hash never verifies, so no password
        opens it until an admin sets one."""
        self.validate(username, "representative", None, None, need_password=False, display_name=display_name)
        with self.sessions.begin() as db:
            if db.get(UserRow, username) is None:
                db.add(UserRow(username=username, created_at=_now(), active=True, password_hash="",
                               role="representative", unit=None, display_name=display_name or username))
        return self.get(username)

    def add(self, username: str, role: str, password: str, unit: str | None = None, display_name: str | None = None) -> User:
        with self.sessions() as db:
            if db.get(UserRow, username) is not None:
                raise Conflict("user_exists", f"用户 {username} 已存在 / user already exists", "username")
        user, _ = self.put(username, role, password, unit, display_name)
        return user

    def get(self, username: str) -> User:
        with self.sessions() as db:
            row = db.get(UserRow, username)
            if row is None:
                raise NotFound("user_not_found", f"用户 {username} 不存在 / no such user", "username")
            return _user(row)

    def list(self, role: str | None = None) -> list[User]:
        with self.sessions() as db:
            q = select(UserRow).order_by(UserRow.username)
            if role:
                q = q.where(UserRow.role == role)
            return [_user(r) for r in db.scalars(q)]

    def any_admin(self) -> bool:
        with self.sessions() as db:
            return db.scalar(select(UserRow.username).where(UserRow.role == "admin").limit(1)) is not None

    def login(self, username: str, password: str) -> tuple[str, datetime, User] | None:
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            if row is None or not row.active:
                self._hash("timing-equaliser")
                return None
            try:
                self._verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            token = secrets.token_urlsafe(32)
            expires = _now() + self.ttl
            db.add(TokenRow(token_hash=_digest(token), username=username, expires_at=expires))
            return token, expires, _user(row)

    def authenticate(self, token: str) -> User | None:
        cached = self.cached(token)
        if cached is not None:
            return cached
        digest = _digest(token)
        with self.sessions() as db:
            row = db.get(TokenRow, digest)
            if row is None or _aware(row.expires_at) < _now():
                return None
            user = db.get(UserRow, row.username)
            if user is None or not user.active:
                return None
            found = _user(user)
        self._remember(digest, found, _aware(row.expires_at))
        return found

    def logout(self, token: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(TokenRow).where(TokenRow.token_hash == _digest(token)))
        self._forget(digest=_digest(token))

    # -- what an admin keeps (services.people): find, deactivate, reset, import; a user's own password

    def _keep_an_admin(self, db, username: str) -> None:
        """Refuse a change that would leave no active admin (nobody could keep the accounts)."""
        others = db.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == "admin", UserRow.active.is_(True), UserRow.username != username))
        if not others:
            raise Conflict("last_admin", "这是最后一个启用的系统管理员账号，不能停用或改为其他角色 / "
                                         "this is the last active admin: it cannot be deactivated or given another role", "username")

    def search(self, query: str | None = None, role: str | None = None, active: bool | None = None,
               offset: int = 0, limit: int = 50) -> tuple[list[User], int]:
        """One page of users (by username) whose username, display name or unit contains ``query``; and how many match."""
        conditions = []
        if query:
            like = f"%{query.strip()}%"
            conditions.append(or_(UserRow.username.ilike(like), UserRow.display_name.ilike(like), UserRow.unit.ilike(like)))
        if role:
            conditions.append(UserRow.role == role)
        if active is not None:
            conditions.append(UserRow.active.is_(active))
        with self.sessions() as db:
            total = db.scalar(select(func.count()).select_from(UserRow).where(*conditions)) or 0
            rows = db.scalars(select(UserRow).where(*conditions).order_by(UserRow.username).offset(offset).limit(limit))
            return [_user(r) for r in rows], int(total)

    def exists(self, usernames: list[str]) -> set[str]:
        """Which of ``usernames`` are taken."""
        with self.sessions() as db:
            found: set[str] = set()
            for start in range(0, len(usernames), 500):
                found |= set(db.scalars(select(UserRow.username).where(UserRow.username.in_(usernames[start:start + 500]))))
            return found

    def set_active(self, username: str, active: bool) -> User:
        """Deactivate (every session of the user ends at once) or reactivate an account."""
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            if row is None:
                raise NotFound("user_not_found", f"用户 {username} 不存在 / no such user", "username")
            if not active and row.active and row.role == "admin":
                self._keep_an_admin(db, username)
            row.active = active
            if not active:
                db.execute(delete(TokenRow).where(TokenRow.username == username))
            saved = _user(row)
        self._forget(username=username)
        return saved

    def set_password(self, username: str, password: str) -> User:
        """A new password set by an admin: the user's sessions end."""
        self.validate(username, "admin", None, password)  # the password rule (the role only to pass the check)
        with self.sessions() as db:
            if db.get(UserRow, username) is None:
                raise NotFound("user_not_found", f"用户 {username} 不存在 / no such user", "username")
        hashed = self._hash(password)
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            row.password_hash = hashed
            db.execute(delete(TokenRow).where(TokenRow.username == username))
            saved = _user(row)
        self._forget(username=username)
        return saved

    def change_password(self, username: str, current: str, new: str, keep_token: str | None = None) -> None:
        """A user's own new password, after the current one is checked; their other sessions end
        (``keep_token``, the session asking, stays signed in)."""
        with self.sessions() as db:
            row = db.get(UserRow, username)
            stored = row.password_hash if row is not None and row.active else None
        try:
            if stored is None:
                raise VerificationError()
            self._verify(stored, current)
        except (VerificationError, InvalidHashError):
            raise InvalidInput("wrong_password", "当前密码不正确 / the current password is wrong", "current") from None
        if not isinstance(new, str) or len(new) < MIN_PASSWORD:
            raise InvalidInput("weak_password", f"密码至少 {MIN_PASSWORD} 位 / password needs at least {MIN_PASSWORD} characters", "password")
        hashed = self._hash(new)
        with self.sessions.begin() as db:
            db.get(UserRow, username).password_hash = hashed
            gone = delete(TokenRow).where(TokenRow.username == username)
            if keep_token:
                gone = gone.where(TokenRow.token_hash != _digest(keep_token))
            db.execute(gone)
        self._forget(username=username)

    def add_many(self, people: list[dict]) -> list[User]:
        """Create many users in one transaction: all of them or (any name taken, any row invalid) none.

        Each person: ``username``, ``role``, ``password``, optional ``unit`` and ``display_name``;
        the passwords are hashed before the transaction opens."""
        for p in people:
            self.validate(p["username"], p["role"], p.get("unit"), p["password"], display_name=p.get("display_name"))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.hash_concurrency) as pool:  # as many at once as the hashing bound lets
            hashed = list(pool.map(lambda p: self._hash(p["password"]), people))
        with self.sessions.begin() as db:
            taken = sorted(self.exists([p["username"] for p in people]))
            if taken:
                raise Conflict("user_exists", f"用户 {', '.join(taken[:10])} 已存在 / user already exists", "username")
            rows = [UserRow(username=p["username"], display_name=p.get("display_name") or p["username"], role=p["role"],
                            unit=p.get("unit"), password_hash=h, active=True, created_at=_now()) for p, h in zip(people, hashed)]
            db.add_all(rows)
            db.flush()
            return [_user(r) for r in rows]
