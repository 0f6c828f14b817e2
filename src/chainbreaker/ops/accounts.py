"""Web accounts (网页账户): passwords (argon2), lockout after repeated failures, server-side sessions.

The web face calls these; nothing here knows about HTTP. A session has an absolute lifetime and an
idle timeout; both are checked on every request, and an expired session is deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.accounts_models import WebSession
from chainbreaker.ops.casework import add_user
from chainbreaker.ops.casework_models import User
from chainbreaker.ops.db import engine_for, session_scope

MIN_PASSWORD = 10
LOCK_AFTER = 5  # consecutive failed logins
LOCK_FOR = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)
SESSION_IDLE = dt.timedelta(minutes=30)
_HASHER = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs the same time as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class LoginRefused(InputError):
    """Wrong user name or password, or a locked account (the message does not say which)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user name, the role and (for a partner agency) the recipient name."""

    username: str
    role: str
    csrf_token: str
    partner: str | None = None
    expires_at: dt.datetime | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def set_password(ws: Workspace, username: str, password: str, *, role: str, unit: str | None = None,
                 partner: str | None = None, who: str = "local") -> None:
    """Create or update ``username`` with ``role`` and a new password (argon2id); unlocks the account."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码太短：至少 {MIN_PASSWORD} 个字符。", f"The password is too short: at least {MIN_PASSWORD} characters.")
    if role == "partner" and not (partner or "").strip():
        raise InputError("合作单位账户须给出 --partner（其共享包的接收单位名称）。",
                         "A partner account needs --partner (the recipient name of its sharing packages).")
    add_user(ws, username, role=role, unit=unit, who=who)
    with session_scope(engine_for(ws)) as s:
        user = s.scalars(select(User).where(User.username == username.strip())).one()
        user.password_hash = _HASHER.hash(password)
        user.failed_logins, user.locked_until = 0, None
        user.partner = (partner or "").strip() or None
        s.execute(delete(WebSession).where(WebSession.user_id == user.id))  # a new password ends old sessions
    ws.audit("web.user.password", user=who, target=username.strip(), role=role)


def login(ws: Workspace, username: str, password: str, *, client: str | None = None) -> tuple[str, Principal]:
    """Check the password and open a session; returns (session token, principal).

    Raises :class:`LoginRefused` for an unknown user, a wrong password or a locked account; the
    account is locked for :data:`LOCK_FOR` after :data:`LOCK_AFTER` consecutive failures.
    """
    refused = LoginRefused("用户名或密码不正确，或账户已被临时锁定。", "Wrong user name or password, or the account is locked for now.")
    now = _now()
    with session_scope(engine_for(ws)) as s:
        user = s.scalars(select(User).where(User.username == (username or "").strip())).first()
        stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
        try:
            ok = _HASHER.verify(stored, password or "") and stored is not _DUMMY_HASH
        except (VerificationError, InvalidHashError):
            ok = False
        if user is None or user.password_hash is None:
            failed = True
        else:
            locked = _aware(user.locked_until)
            if locked is not None and locked > now:
                ok = False
            if ok:
                user.failed_logins, user.locked_until = 0, None
            else:
                user.failed_logins = (user.failed_logins or 0) + 1
                if user.failed_logins >= LOCK_AFTER:
                    user.locked_until, user.failed_logins = now + LOCK_FOR, 0
            failed = not ok
        if failed:
            s.commit()
            ws.audit("web.login", user=(username or "")[:60], outcome="refused", client=client)
            raise refused
        assert user is not None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        s.add(WebSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=csrf, created_at=now,
                         last_seen=now, expires_at=now + SESSION_LIFETIME, client=(client or "")[:100] or None))
        principal = Principal(user.username, user.role, csrf, user.partner, now + SESSION_LIFETIME)
    ws.audit("web.login", user=principal.username, role=principal.role, outcome="ok", client=client)
    return token, principal


def session_principal(ws: Workspace, token: str | None) -> Principal | None:
    """The principal of a live session, or None (unknown, expired or idle too long: then deleted)."""
    if not token:
        return None
    now = _now()
    with session_scope(engine_for(ws)) as s:
        row = s.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                        .where(WebSession.token_hash == _token_hash(token))).first()
        if row is None:
            return None
        sess, user = row
        expires, seen = _aware(sess.expires_at), _aware(sess.last_seen)
        assert expires is not None and seen is not None
        if expires <= now or seen + SESSION_IDLE <= now or not user.password_hash:
            s.delete(sess)
            return None
        if (now - seen).total_seconds() > 30:  # fewer writes: idle time is counted to the half minute
            sess.last_seen = now
        return Principal(user.username, user.role, sess.csrf_token, user.partner, expires)


def logout(ws: Workspace, token: str | None) -> None:
    if token:
        with session_scope(engine_for(ws)) as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))
