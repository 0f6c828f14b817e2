"""Models of the key-person register (重点人员库): persons, roles, status history, role proposals.

Status workflow: 线索 → 核查 → 认定 → 处置 (处置 with a subtype: 劝返, 列控, 行政处罚, 刑事). Every
change is one :class:`RegisterChange` row with who, when and why.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chainbreaker.ops.db import Base

ROLES = ("涉赌重点人员", "出境参赌人员", "赌博劳务人员", "招赌人员", "境内重点关系人")
STATUSES = ("线索", "核查", "认定", "处置")
DISPOSALS = ("劝返", "列控", "行政处罚", "刑事")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KeyPerson(Base):
    __tablename__ = "register_person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(120), unique=True, index=True)
    id_number: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="线索")
    disposal: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(String(100))

    roles: Mapped[list[PersonRole]] = relationship(back_populates="person", cascade="all, delete-orphan")
    changes: Mapped[list[RegisterChange]] = relationship(back_populates="person", cascade="all, delete-orphan",
                                                         order_by="RegisterChange.id")


class PersonRole(Base):
    __tablename__ = "register_role"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("register_person.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON: finding ids / references

    person: Mapped[KeyPerson] = relationship(back_populates="roles")


class RegisterChange(Base):
    __tablename__ = "register_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("register_person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # created | role | status
    old_value: Mapped[str | None] = mapped_column(String(40))
    new_value: Mapped[str | None] = mapped_column(String(40))
    who: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    why: Mapped[str] = mapped_column(Text)

    person: Mapped[KeyPerson] = relationship(back_populates="changes")


class RoleProposal(Base):
    """A role the software suggests from a finding; an analyst confirms or rejects it."""

    __tablename__ = "register_proposal"
    __table_args__ = (UniqueConstraint("person_key", "role", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(120), index=True)
    id_number: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    chain: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[str] = mapped_column(String(80))
    finding_id: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | confirmed | rejected
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
