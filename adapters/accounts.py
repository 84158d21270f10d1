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

Sign-in is guarded (OWASP ASVS 2.2, 2.8, 3.3):

- **Throttling** (``accounts_throttle``, in the database so every API replica sees it): per account
  and per client address, the first few wrong passwords (or second-factor codes) are free, then each
  further one locks that key for ``base × 2ⁿ`` seconds, capped at ``max`` (default 15 minutes) so an
  attacker can slow a real user down but never lock them out for good. A try while locked is refused
  (:class:`Throttled`, ``retry_after`` seconds) without checking the password and without counting.
  A correct sign-in resets the account's counter; counters are forgotten after an hour without failure.
- **Passwords**: at least :data:`MIN_PASSWORD` (12) characters and not one of the 20,000 most common
  passwords (``adapters/data/common-passwords.txt.gz``: Royce Williams' list as shipped by Django,
  BSD licence), for every way a password is set (create, import, reset, change).
- **TOTP second factor** (pyotp, RFC 6238, 30 s, 6 digits, ±1 step, a step used once): enrolled with
  :meth:`Accounts.totp_begin` / :meth:`Accounts.totp_confirm`, which answers 10 recovery codes (shown
  once, stored as SHA-256, each opens once). Required for ``required_roles`` (admin and committee in
  production): after the password they get an ``enrol`` token that opens nothing but enrolment.
- **Idle timeout**: a token unused for ``idle`` is refused and deleted; using it slides the window
  (written at most every ``idle/10``, at most once a minute); the token cache never trusts a token past
  its idle deadline. Expired and idle tokens are purged at each sign-in.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
import pyotp
from sqlalchemy import BigInteger, Boolean, DateTime, Engine, ForeignKey, Integer, String, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from domain.errors import Conflict, InvalidInput, NotFound
from domain.rules import ROLES, Actor, check_key, check_text

# OWASP's Argon2id baseline (19 MiB, t=2, p=1): strong, and fast enough to sign in hundreds of users.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD = 12
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def check_password(password: object, field: str = "password") -> None:
    """The password rule, for every place a password is set: 12 characters at least, at most 256,
    and not a common password (compared ignoring case)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput("weak_password", zh=f"密码至少 {MIN_PASSWORD} 位", en=f"password needs at least {MIN_PASSWORD} characters", field=field)
    if len(password) > 256:
        raise InvalidInput("weak_password", zh="密码最多 256 位", en="password has at most 256 characters", field=field)
    if password.lower() in common_passwords():
        raise InvalidInput("common_password", zh="这是常见密码，容易被猜中，请换一个", en="this is a common password, easy to guess: choose another", field=field)


class Throttled(Exception):
    """Too many wrong sign-ins for this account or address: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = max(1, int(retry_after))


class SecondFactorRequired(Exception):
    """The password is right and the account has TOTP: a code (or a recovery code) is needed too."""


@dataclass(frozen=True)
class ThrottlePolicy:
    free_per_account: int = 5
    free_per_address: int = 20
    base_seconds: float = 2.0
    max_seconds: float = 900.0
    forget_after: timedelta = timedelta(hours=1)


class Session(NamedTuple):
    """A sign-in's outcome: the token, its expiry, the user, and what the token opens:
    ``full`` (everything), ``otp`` (only the second step of the web sign-in), ``enrol``
    (only TOTP enrolment: the role needs a second factor the user has not set up yet)."""

    token: str
    expires: datetime
    user: "User"
    step: str = "full"


#: The letters of recovery codes: lower case, no 0/o, 1/l/i to misread.
RECOVERY_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODES = 10
PENDING_TTL = timedelta(minutes=5)


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
    purpose: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ThrottleRow(AccountBase):
    """Wrong sign-ins of one key (``user:<name>`` or ``addr:<address>``) and until when it is locked."""

    __tablename__ = "accounts_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TotpRow(AccountBase):
    """A user's TOTP secret; ``confirmed`` once a code from it was typed back; the last step used."""

    __tablename__ = "accounts_totp"
    username: Mapped[str] = mapped_column(String(64), ForeignKey("accounts_users.username", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecoveryRow(AccountBase):
    __tablename__ = "accounts_recovery_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), ForeignKey("accounts_users.username", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def _upgrade(engine: Engine) -> None:
    """Columns added to ``accounts_tokens`` after it first shipped (create_all adds tables, not columns)."""
    from sqlalchemy import inspect

    have = {c["name"] for c in inspect(engine).get_columns("accounts_tokens")}
    adds = {"purpose": "VARCHAR(10) DEFAULT 'full' NOT NULL", "last_used_at": "TIMESTAMP WITH TIME ZONE"}
    for name, kind in adds.items():
        if name in have:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE accounts_tokens ADD COLUMN {name} {kind}"))
        except (OperationalError, ProgrammingError):  # another replica added it a moment ago
            pass


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
        self, engine: Engine, token_ttl: timedelta = timedelta(hours=12), *, hash_concurrency: int = 2, token_cache_seconds: float = 10.0,
        idle: timedelta | None = timedelta(minutes=30), throttle: ThrottlePolicy | None = None,
        required_roles: frozenset[str] | set[str] = frozenset(), issuer: str = "Kaohe",
    ) -> None:
        self.engine = engine  # the ballot codes' table lives beside the accounts (adapters.ballot_codes)
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.ttl = token_ttl
        AccountBase.metadata.create_all(engine)
        _upgrade(engine)
        self.hash_concurrency = max(1, hash_concurrency)
        self._hashing = threading.BoundedSemaphore(self.hash_concurrency)  # every caller, sync or not
        self._slots: asyncio.Semaphore | None = None  # the async doors wait here, holding no thread
        self.token_cache_seconds = token_cache_seconds
        self._tokens: dict[str, tuple[User, datetime, float]] = {}  # digest → (user, expires, cached until)
        self._tokens_lock = threading.Lock()
        self.idle = idle if idle and idle.total_seconds() > 0 else None
        self.throttle = throttle or ThrottlePolicy()
        self.required_roles = frozenset(required_roles)
        self.issuer = issuer

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

    async def login_async(self, username: str, password: str, address: str | None = None, otp: str | None = None,
                          *, pending: bool = False) -> Session | None:
        from starlette.concurrency import run_in_threadpool

        async with self._async_slots():
            return await run_in_threadpool(lambda: self.login(username, password, address, otp, pending=pending))

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

    def _remember(self, digest: str, user: User, expires: datetime, idle_left: float | None = None) -> None:
        seconds = self.token_cache_seconds if idle_left is None else min(self.token_cache_seconds, idle_left)
        if seconds <= 0:
            return
        with self._tokens_lock:
            if len(self._tokens) > 50_000:
                self._tokens.clear()
            self._tokens[digest] = (user, expires, time.monotonic() + seconds)

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
            raise InvalidInput("invalid_username", zh="用户名须为 1–64 位字母、数字、-、_、.", en="invalid username", field="username")
        if role not in ROLES:
            raise InvalidInput("unknown_role", zh=f"角色须为 {', '.join(ROLES)} 之一", en="unknown role", field="role")
        if role == "unit" and not unit:
            raise InvalidInput("unit_required", zh="单位联络人必须隶属于一个单位", en="a unit user needs a unit", field="unit")
        if unit is not None:
            check_key(unit, "unit", "invalid_unit", "单位编号")
        if display_name is not None:
            check_text(display_name, "display_name", 100, "显示名称")
        if need_password:
            check_password(password)

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
                raise Conflict("user_exists", zh=f"用户 {username} 已存在", en="user already exists", field="username")
        user, _ = self.put(username, role, password, unit, display_name)
        return user

    def get(self, username: str) -> User:
        with self.sessions() as db:
            row = db.get(UserRow, username)
            if row is None:
                raise NotFound("user_not_found", zh=f"用户 {username} 不存在", en="no such user", field="username")
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

    # -- signing in: throttled, then the password, then (if enrolled) the second factor

    def _keys(self, username: str, address: str | None) -> list[str]:
        keys = [f"user:{str(username).strip().lower()[:64]}"]
        if address:
            keys.append(f"addr:{address[:100]}")
        return keys

    def check_throttle(self, username: str, address: str | None = None) -> None:
        """Raise :class:`Throttled` if the account or the address is locked now."""
        now = _now()
        with self.sessions() as db:
            locks = db.scalars(select(ThrottleRow.locked_until).where(ThrottleRow.key.in_(self._keys(username, address)))).all()
        wait = max(((_aware(u) - now).total_seconds() for u in locks if u is not None), default=0.0)
        if wait > 0:
            raise Throttled(math.ceil(wait))

    def _failed(self, username: str, address: str | None) -> None:
        """Count a wrong password or code against the account and the address; lock past the free ones."""
        policy, now = self.throttle, _now()
        for key in self._keys(username, address):
            free = policy.free_per_account if key.startswith("user:") else policy.free_per_address
            for _ in range(3):  # two replicas may insert the same key at once: the loser updates
                try:
                    with self.sessions.begin() as db:
                        row = db.scalars(select(ThrottleRow).where(ThrottleRow.key == key).with_for_update()).first()
                        if row is None:
                            row = ThrottleRow(key=key, failures=0, last_failure=now)
                            db.add(row)
                        elif now - _aware(row.last_failure) > policy.forget_after:
                            row.failures = 0
                        row.failures += 1
                        row.last_failure = now
                        over = row.failures - free
                        row.locked_until = (now + timedelta(seconds=min(policy.max_seconds, policy.base_seconds * 2 ** min(over, 30)))
                                            if over >= 0 else None)
                    break
                except IntegrityError:
                    continue

    def _succeeded(self, username: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(ThrottleRow).where(ThrottleRow.key == self._keys(username, None)[0]))

    def _issue(self, db, username: str, purpose: str = "full") -> tuple[str, datetime]:
        token = secrets.token_urlsafe(32)
        now = _now()
        expires = now + (self.ttl if purpose == "full" else min(self.ttl, PENDING_TTL if purpose == "otp" else timedelta(minutes=30)))
        db.add(TokenRow(token_hash=_digest(token), username=username, expires_at=expires, purpose=purpose, last_used_at=now))
        return token, expires

    def purge(self) -> int:
        """Delete expired and idle tokens, and throttle counters long forgotten. Answers how many tokens went."""
        now = _now()
        gone = TokenRow.expires_at < now
        if self.idle is not None:
            gone = or_(gone, TokenRow.last_used_at < now - self.idle)
        with self.sessions.begin() as db:
            n = db.execute(delete(TokenRow).where(gone)).rowcount or 0
            db.execute(delete(ThrottleRow).where(ThrottleRow.last_failure < now - self.throttle.forget_after - timedelta(
                seconds=self.throttle.max_seconds)))
        return int(n)

    def login(self, username: str, password: str, address: str | None = None, otp: str | None = None,
              *, pending: bool = False) -> Session | None:
        """Sign in. None for a wrong name, password or code (each counted by the throttle);
        :class:`Throttled` while the account or address is locked. An account with TOTP needs ``otp``
        (a code or a recovery code): without it, :class:`SecondFactorRequired`, or with ``pending``
        a token that opens only :meth:`second_step`."""
        self.check_throttle(username, address)
        with self.sessions() as db:
            row = db.get(UserRow, username)
            stored = row.password_hash if row is not None and row.active else None
        if stored is None:
            self._hash("timing-equaliser")
            self._failed(username, address)
            return None
        try:
            self._verify(stored, password)
        except (VerificationError, InvalidHashError):
            self._failed(username, address)
            return None
        enrolled = self.totp_enrolled(username)
        if enrolled and not otp:
            if not pending:
                raise SecondFactorRequired()
            with self.sessions.begin() as db:
                token, expires = self._issue(db, username, "otp")
            return Session(token, expires, _user(row), "otp")
        if enrolled and not self._second_factor(username, otp):
            self._failed(username, address)
            return None
        return self._signed_in(username, enrolled)

    def _signed_in(self, username: str, enrolled: bool) -> Session:
        self._succeeded(username)
        self.purge()
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            purpose = "enrol" if row.role in self.required_roles and not enrolled else "full"
            token, expires = self._issue(db, username, purpose)
            return Session(token, expires, _user(row), purpose)

    def second_step(self, pending_token: str, code: str, address: str | None = None) -> Session | None:
        """The web sign-in's second step: the ``otp`` token of the first and a TOTP or recovery code."""
        user = self.pending(pending_token, "otp")
        if user is None:
            return None
        self.check_throttle(user.username, address)
        if not self._second_factor(user.username, code):
            self._failed(user.username, address)
            return None
        self.logout(pending_token)
        return self._signed_in(user.username, True)

    def finish_enrolment(self, enrol_token: str) -> Session | None:
        """After :meth:`totp_confirm` with an ``enrol`` token: a full session instead."""
        user = self.pending(enrol_token, "enrol")
        if user is None or not self.totp_enrolled(user.username):
            return None
        self.logout(enrol_token)
        return self._signed_in(user.username, True)

    def _token_row(self, db, digest: str, purpose: str) -> tuple[TokenRow, UserRow] | None:
        row = db.get(TokenRow, digest)
        now = _now()
        if row is None or _aware(row.expires_at) < now or (row.purpose or "full") != purpose:
            return None
        if self.idle is not None and row.last_used_at is not None and now - _aware(row.last_used_at) > self.idle:
            db.delete(row)
            return None
        user = db.get(UserRow, row.username)
        if user is None or not user.active:
            return None
        step = min(60.0, self.idle.total_seconds() / 10) if self.idle is not None else None
        if step is not None and (row.last_used_at is None or (now - _aware(row.last_used_at)).total_seconds() > step):
            row.last_used_at = now  # using the token slides its idle window
        return row, user

    def pending(self, token: str, purpose: str) -> User | None:
        """The user of a token that opens one step only (``otp`` or ``enrol``), if it is still good."""
        if not token:
            return None
        with self.sessions.begin() as db:
            found = self._token_row(db, _digest(token), purpose)
            return _user(found[1]) if found else None

    def authenticate(self, token: str) -> User | None:
        cached = self.cached(token)
        if cached is not None:
            return cached
        digest = _digest(token)
        with self.sessions.begin() as db:
            found = self._token_row(db, digest, "full")
            if found is None:
                return None
            row, user = found
            result, expires = _user(user), _aware(row.expires_at)
            idle_left = None
            if self.idle is not None and row.last_used_at is not None:
                idle_left = self.idle.total_seconds() - (_now() - _aware(row.last_used_at)).total_seconds()
        self._remember(digest, result, expires, idle_left)
        return result

    def logout(self, token: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(TokenRow).where(TokenRow.token_hash == _digest(token)))
        self._forget(digest=_digest(token))

    # -- TOTP (RFC 6238) and recovery codes

    def totp_enrolled(self, username: str) -> bool:
        with self.sessions() as db:
            row = db.get(TotpRow, username)
            return bool(row and row.confirmed)

    def totp_required(self, user: User) -> bool:
        return user.role in self.required_roles

    def totp_begin(self, username: str) -> tuple[str, str]:
        """A new secret to enrol (or the one begun and not yet confirmed): (secret, otpauth:// URI)."""
        with self.sessions.begin() as db:
            row = db.get(TotpRow, username)
            if row is not None and row.confirmed:
                raise Conflict("totp_enrolled", zh="已启用两步验证", en="a second factor is already set up", field="code")
            if row is None:
                if db.get(UserRow, username) is None:
                    raise NotFound("user_not_found", zh=f"用户 {username} 不存在", en="no such user", field="username")
                row = TotpRow(username=username, secret=pyotp.random_base32(), confirmed=False, last_step=0, created_at=_now())
                db.add(row)
            secret = row.secret
        return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=self.issuer)

    @staticmethod
    def _matching_step(secret: str, code: str, after: int) -> int | None:
        code = "".join(str(code).split())
        if len(code) != 6 or not code.isdigit():
            return None
        totp, now = pyotp.TOTP(secret), int(time.time())
        for offset in (0, -30, 30):
            at = now + offset
            if hmac.compare_digest(totp.at(at), code) and at // 30 > after:
                return at // 30
        return None

    def totp_confirm(self, username: str, code: str) -> list[str]:
        """Confirm enrolment with a code from the new secret; answers 10 recovery codes (shown once)."""
        with self.sessions.begin() as db:
            row = db.get(TotpRow, username)
            if row is None or row.confirmed:
                raise Conflict("totp_not_begun", zh="请先开始设置两步验证", en="begin the set-up first", field="code")
            step = self._matching_step(row.secret, code, row.last_step)
            if step is None:
                raise InvalidInput("wrong_code", zh="验证码不正确", en="the code is wrong", field="code")
            row.confirmed, row.last_step = True, step
            codes = self._new_recovery_codes(db, username)
        return codes

    def _new_recovery_codes(self, db, username: str) -> list[str]:
        db.execute(delete(RecoveryRow).where(RecoveryRow.username == username))
        codes = []
        for _ in range(RECOVERY_CODES):
            raw = "".join(secrets.choice(RECOVERY_LETTERS) for _ in range(10))
            codes.append(f"{raw[:5]}-{raw[5:]}")
            db.add(RecoveryRow(code_hash=_digest(raw), username=username))
        return codes

    def recovery_codes_left(self, username: str) -> int:
        with self.sessions() as db:
            return int(db.scalar(select(func.count()).select_from(RecoveryRow).where(
                RecoveryRow.username == username, RecoveryRow.used_at.is_(None))) or 0)

    def _second_factor(self, username: str, code: str | None) -> bool:
        """A TOTP code of a step not used before, or an unused recovery code (then used up)."""
        if not code:
            return False
        with self.sessions.begin() as db:
            row = db.scalars(select(TotpRow).where(TotpRow.username == username).with_for_update()).first()
            if row is None or not row.confirmed:
                return False
            step = self._matching_step(row.secret, code, row.last_step)
            if step is not None:
                row.last_step = step
                return True
            raw = "".join(ch for ch in str(code).lower() if ch in RECOVERY_LETTERS)
            if len(raw) != 10:
                return False
            used = db.execute(update(RecoveryRow).where(
                RecoveryRow.code_hash == _digest(raw), RecoveryRow.username == username, RecoveryRow.used_at.is_(None)
            ).values(used_at=_now())).rowcount
            return bool(used)

    def totp_disable(self, username: str, code: str) -> None:
        """Turn the second factor off, with a current code; not for a role that must have one."""
        user = self.get(username)
        if self.totp_required(user):
            raise Conflict("totp_required", zh="此角色必须启用两步验证", en="this role must keep a second factor", field="code")
        if not self._second_factor(username, code):
            raise InvalidInput("wrong_code", zh="验证码不正确", en="the code is wrong", field="code")
        self._drop_totp(username)

    def _drop_totp(self, username: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(TotpRow).where(TotpRow.username == username))
            db.execute(delete(RecoveryRow).where(RecoveryRow.username == username))

    # -- what an admin keeps (services.people): find, deactivate, reset, import; a user's own password

    def _keep_an_admin(self, db, username: str) -> None:
        """Refuse a change that would leave no active admin (nobody could keep the accounts)."""
        others = db.scalar(select(func.count()).select_from(UserRow).where(
            UserRow.role == "admin", UserRow.active.is_(True), UserRow.username != username))
        if not others:
            raise Conflict("last_admin", zh="这是最后一个启用的系统管理员账号，不能停用或改为其他角色", en="this is the last active admin: it cannot be deactivated or given another role", field="username")

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
                raise NotFound("user_not_found", zh=f"用户 {username} 不存在", en="no such user", field="username")
            if not active and row.active and row.role == "admin":
                self._keep_an_admin(db, username)
            row.active = active
            if not active:
                db.execute(delete(TokenRow).where(TokenRow.username == username))
            saved = _user(row)
        self._forget(username=username)
        return saved

    def set_password(self, username: str, password: str) -> User:
        """A new password set by an admin: the user's sessions end, and their second factor is
        removed (the way back for a lost phone and lost recovery codes: a role that needs one enrols
        again at the next sign-in)."""
        self.validate(username, "admin", None, password)  # the password rule (the role only to pass the check)
        with self.sessions() as db:
            if db.get(UserRow, username) is None:
                raise NotFound("user_not_found", zh=f"用户 {username} 不存在", en="no such user", field="username")
        hashed = self._hash(password)
        with self.sessions.begin() as db:
            row = db.get(UserRow, username)
            row.password_hash = hashed
            db.execute(delete(TokenRow).where(TokenRow.username == username))
            db.execute(delete(TotpRow).where(TotpRow.username == username))
            db.execute(delete(RecoveryRow).where(RecoveryRow.username == username))
            saved = _user(row)
        self._forget(username=username)
        return saved

    def change_password(self, username: str, current: str, new: str, keep_token: str | None = None) -> None:
        """A user's own new password, after the current one is checked; their other sessions end
        (``keep_token``, the session asking, stays signed in)."""
        self.check_throttle(username)  # the current password is guessed no faster here than at sign-in
        with self.sessions() as db:
            row = db.get(UserRow, username)
            stored = row.password_hash if row is not None and row.active else None
        try:
            if stored is None:
                raise VerificationError()
            self._verify(stored, current)
        except (VerificationError, InvalidHashError):
            self._failed(username, None)
            raise InvalidInput("wrong_password", zh="当前密码不正确", en="the current password is wrong", field="current") from None
        check_password(new)
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
                raise Conflict("user_exists", zh=f"用户 {', '.join(taken[:10])} 已存在", en="user already exists", field="username")
            rows = [UserRow(username=p["username"], display_name=p.get("display_name") or p["username"], role=p["role"],
                            unit=p.get("unit"), password_hash=h, active=True, created_at=_now()) for p, h in zip(people, hashed)]
            db.add_all(rows)
            db.flush()
            return [_user(r) for r in rows]
