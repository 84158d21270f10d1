"""Local users with Argon2-hashed passwords and opaque bearer tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, Engine, ForeignKey, String, delete, select
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
    def __init__(self, engine: Engine, token_ttl: timedelta = timedelta(hours=12)) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.ttl = token_ttl
        AccountBase.metadata.create_all(engine)

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
            row.role = role
            row.unit = unit
            row.display_name = display_name or row.display_name if not created else (display_name or username)
            if password is not None:
                row.password_hash = _hasher.hash(password)
                db.execute(delete(TokenRow).where(TokenRow.username == username))
            db.flush()
            return _user(row), created

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
                _hasher.hash("timing-equaliser")
                return None
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            token = secrets.token_urlsafe(32)
            expires = _now() + self.ttl
            db.add(TokenRow(token_hash=_digest(token), username=username, expires_at=expires))
            return token, expires, _user(row)

    def authenticate(self, token: str) -> User | None:
        with self.sessions() as db:
            row = db.get(TokenRow, _digest(token))
            if row is None or _aware(row.expires_at) < _now():
                return None
            user = db.get(UserRow, row.username)
            return _user(user) if user is not None and user.active else None

    def logout(self, token: str) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(TokenRow).where(TokenRow.token_hash == _digest(token)))
