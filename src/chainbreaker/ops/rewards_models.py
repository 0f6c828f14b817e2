"""Models of tip rewards (举报奖励): a proposed reward with its basis, its approval, its payouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chainbreaker.ops.db import Base

REWARD_STATUSES = ("待审批", "已批准", "已驳回", "已发放")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Reward(Base):
    __tablename__ = "ops_reward"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("ops_tip.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    basis: Mapped[str] = mapped_column(Text)  # JSON: outcome -> {count|amount, yuan}
    schedule_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(4), default="待审批")
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class RewardPayout(Base):
    __tablename__ = "ops_reward_payout"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("ops_reward.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    paid_by: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(100))  # voucher / transfer number
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
