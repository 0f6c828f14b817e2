"""Models of public tips (群众举报): the tip, its attachments (stored by hash, never by name) and the
indicators extracted from it. The tipster's name and phone are personal data shown only to the role
that pays rewards (see :mod:`chainbreaker.ops.tips`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chainbreaker.ops.db import Base

CHANNELS = ("网络", "热线", "来信", "来访")
TIP_STATUSES = ("待分拣", "已分拣", "已立案", "不予受理")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Tip(Base):
    __tablename__ = "ops_tip"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)  # 查询码, given to the tipster
    passphrase_hash: Mapped[str] = mapped_column(String(200))  # scrypt$salt$hash of the 查询密码
    channel: Mapped[str] = mapped_column(String(4), default="热线")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    tipster_name: Mapped[str | None] = mapped_column(String(100))
    tipster_phone: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(6), default="待分拣")
    group_key: Mapped[str | None] = mapped_column(String(64), index=True)  # tips sharing an indicator
    case_id: Mapped[int | None] = mapped_column(ForeignKey("ops_case.id"))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    entered_by: Mapped[str] = mapped_column(String(100))
    # handling (0006): the unit it is assigned to, the date it must be handled by, when it was handled
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ops_unit.id", name="fk_ops_tip_unit_id_ops_unit"), index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TipAttachment(Base):
    """One file sent with a tip: kept inert in the evidence store by SHA-256, or refused with a reason."""

    __tablename__ = "ops_tip_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("ops_tip.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))  # display name, cleaned: never used as a path
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(60))  # from the content, not the name
    sha256: Mapped[str | None] = mapped_column(String(64))  # None when refused
    status: Mapped[str] = mapped_column(String(10))  # stored | refused
    reason: Mapped[str | None] = mapped_column(String(40))


class TipIndicator(Base):
    __tablename__ = "ops_tip_indicator"
    __table_args__ = (UniqueConstraint("tip_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("ops_tip.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # url | domain | card | mobile | wallet | id_number ...
    value: Mapped[str] = mapped_column(String(300), index=True)
