"""People: signing in and out, the accounts an admin keeps (SPEC §1)."""

from __future__ import annotations

from typing import Any

from adapters.accounts import User
from services.context import Services, in_thread
from services.permissions import allow


async def sign_in(svc: Services, username: str, password: str) -> tuple[str, Any, User] | None:
    """A new token, its expiry and the user; None for a wrong name or password (Argon2, bounded)."""
    return await svc.accounts.login_async(username, password)


async def sign_out(svc: Services, token: str) -> None:
    await in_thread(svc.accounts.logout, token)


def users(svc: Services, user: User, role: str | None = None) -> list[dict[str, Any]]:
    allow(user, "users.read")
    return [u.to_dict() for u in svc.accounts.list(role)]


async def put_user(
    svc: Services, user: User, username: str, role: str, password: str | None, unit: str | None, display_name: str | None
) -> tuple[dict[str, Any], bool]:
    """Create or update an account: (the account, whether it was created)."""
    allow(user, "users.write")
    saved, created = await svc.accounts.put_async(username, role, password, unit, display_name)
    return saved.to_dict(), created
