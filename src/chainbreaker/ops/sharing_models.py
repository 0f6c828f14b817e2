"""The record of packages shared with partner agencies (who, what, to whom, when, which files)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainbreaker.ops.db import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SharePackage(Base):
    """One package handed to a partner agency: who made it, what, for whom, when, and its files."""

    __tablename__ = "share_package"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str] = mapped_column(String(100))
    agency_type: Mapped[str] = mapped_column(String(20))
    made_by: Mapped[str] = mapped_column(String(100))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    rows: Mapped[int] = mapped_column(Integer)
    files: Mapped[str] = mapped_column(Text)  # JSON: name → sha256
    masked_kinds: Mapped[str] = mapped_column(Text)  # JSON list
    folder: Mapped[str] = mapped_column(Text)
