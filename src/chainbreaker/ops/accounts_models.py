"""Server-side sessions of the web face (网页会话); created by migration ``0007_web_accounts``.

The browser holds a random token; the database holds only its SHA-256, so a copy of the database
does not let anyone take over a session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chainbreaker.ops.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WebSession(Base):
    __tablename__ = "ops_web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ops_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    client: Mapped[str | None] = mapped_column(String(100))


class WebRateCount(Base):
    """Events counted by the web face's rate limits (登录、举报频率限制), per key and time bucket, so
    that every worker process and server counts together (migration ``0008_web_rate_limit``)."""

    __tablename__ = "ops_web_rate"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch seconds: purged after
