"""Record of every package shared with a partner agency (who, what, to whom, when)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainbreaker.ops.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SharePackage(Base):
    __tablename__ = "ops_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # freeze | exit | blocklist | indicators
    recipient: Mapped[str] = mapped_column(String(100))  # the partner agency
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id"), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    files: Mapped[str] = mapped_column(Text)  # JSON [{name, sha256}]
    shared_by: Mapped[str] = mapped_column(String(100))
    shared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
