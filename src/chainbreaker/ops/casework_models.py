"""Models of casework (案件办理): units, users, cases, gangs, suspects, coercive measures, platforms
taken down, seizures and freezes, tasks, links to findings, change history and monthly scores.

Money is exact (``Numeric(18, 2)`` read back as :class:`~decimal.Decimal`); calendar dates of the
returns (立案日期, 打掉日期 ...) are plain dates as the units write them; timestamps are stored in UTC.
The schema is created by the Alembic migrations in ``ops/migrations`` (``0002_casework``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chainbreaker.ops.db import Base

SUPERVISION_LEVELS = ("部督", "省督", "市督", "无")
MEASURES = ("刑事拘留", "逮捕", "取保候审", "监视居住", "指定居所监视居住", "拘传")
SEIZURE_KINDS = ("扣押", "冻结")
# viewer/analyst/investigator/admin mask like the CLI roles; the web face adds the unit commander (指挥员),
# the partner agency (合作单位, read-only) and the tip reviewer (线索审核员), masked as viewers.
USER_ROLES = ("viewer", "analyst", "investigator", "admin", "commander", "partner", "tip_reviewer")
CASE_STATUSES = ("初查", "立案侦查", "移送起诉", "结案", "撤案")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Unit(Base):
    """A unit of the campaign: provincial department, city or county bureau, or partner agency."""

    __tablename__ = "ops_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[str | None] = mapped_column(String(10))  # 省 | 市 | 县 | 合作单位
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ops_unit.id"))
    kind: Mapped[str] = mapped_column(String(20), default="公安")  # 公安 | 银行 | 通信管理 | 边检 ...


class User(Base):
    __tablename__ = "ops_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="analyst")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ops_unit.id"))
    # web login (0007_web_accounts): argon2 hash; consecutive failures lock the account for a while
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    partner: Mapped[str | None] = mapped_column(String(100))  # recipient name of a partner agency's packages


class Case(Base):
    __tablename__ = "ops_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)  # 案件编号
    name: Mapped[str] = mapped_column(String(200))
    supervision: Mapped[str] = mapped_column(String(4), default="无")  # 部督 | 省督 | 市督 | 无
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ops_unit.id"), index=True)
    opened_on: Mapped[dt.date | None] = mapped_column(Date, index=True)  # 立案日期
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="立案侦查")
    source: Mapped[str | None] = mapped_column(Text)  # "<sha256>#<sheet>:<row>" or "finding:<id>"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    unit: Mapped[Unit | None] = relationship()


class CaseUnit(Base):
    """Units taking part in a coordinated takedown (集群战役) besides the lead unit."""

    __tablename__ = "ops_case_unit"
    __table_args__ = (UniqueConstraint("case_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("ops_unit.id"))
    role: Mapped[str] = mapped_column(String(10), default="协办")


class CaseLink(Base):
    """A finding (by its stable id) or an intel entity/operation linked to a case, with its evidence."""

    __tablename__ = "ops_case_link"
    __table_args__ = (UniqueConstraint("case_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # finding | entity | operation
    ref: Mapped[str] = mapped_column(String(120), index=True)
    chain: Mapped[str | None] = mapped_column(String(20))
    rule_id: Mapped[str | None] = mapped_column(String(80))
    summary: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON list of references
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    linked_by: Mapped[str] = mapped_column(String(100))


class Gang(Base):
    __tablename__ = "ops_gang"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)  # 团伙编号
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    broken_on: Mapped[dt.date | None] = mapped_column(Date, index=True)  # 打掉日期
    source: Mapped[str | None] = mapped_column(Text)


class Suspect(Base):
    __tablename__ = "ops_suspect"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(40), unique=True)  # 身份证号 (canonical 18 characters)
    name: Mapped[str | None] = mapped_column(String(100))


class GangMember(Base):
    __tablename__ = "ops_gang_member"
    __table_args__ = (UniqueConstraint("gang_id", "suspect_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gang_id: Mapped[int] = mapped_column(ForeignKey("ops_gang.id", ondelete="CASCADE"))
    suspect_id: Mapped[int] = mapped_column(ForeignKey("ops_suspect.id"))
    role: Mapped[str | None] = mapped_column(String(20))  # 组织者 | 骨干 | 成员


class Measure(Base):
    """A coercive measure (强制措施) on one person in one case; a person may have several."""

    __tablename__ = "ops_measure"
    __table_args__ = (UniqueConstraint("suspect_id", "case_id", "measure", "taken_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suspect_id: Mapped[int] = mapped_column(ForeignKey("ops_suspect.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id"), index=True)
    measure: Mapped[str] = mapped_column(String(20))
    taken_on: Mapped[dt.date] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(Text)


class Platform(Base):
    """A gambling platform taken down (捣毁), keyed by name within its case."""

    __tablename__ = "ops_platform"
    __table_args__ = (UniqueConstraint("case_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    taken_down_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(Text)


class Seizure(Base):
    """Money seized (扣押) or frozen (冻结), exact to the fen.

    Returns carry no record number, so a row is keyed by case, kind, date and its occurrence among
    rows with the same three in the workbook (``seq``); a changed amount is an update.
    """

    __tablename__ = "ops_seizure"
    __table_args__ = (UniqueConstraint("case_id", "kind", "on_date", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(4))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    on_date: Mapped[dt.date] = mapped_column(Date, index=True)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str | None] = mapped_column(Text)


class Task(Base):
    __tablename__ = "ops_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("ops_case.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ops_user.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ops_unit.id"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="待办")  # 待办 | 进行中 | 完成
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class History(Base):
    """Every creation and change of a casework record: what, which fields from what to what, who, when, why."""

    __tablename__ = "ops_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), index=True)  # case | gang | measure | platform | seizure
    key: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(10))  # created | updated
    changes: Mapped[str | None] = mapped_column(Text)  # JSON {field: [old, new]}
    who: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    source: Mapped[str | None] = mapped_column(Text)


class ImportQuarantine(Base):
    """Rows of a returned workbook that could not be used, with the reason."""

    __tablename__ = "ops_import_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str] = mapped_column(String(40))
    row: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AssessmentScore(Base):
    """One unit's score for one month under one version of the assessment scheme (每月一考核)."""

    __tablename__ = "ops_assessment"
    __table_args__ = (UniqueConstraint("month", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    unit_id: Mapped[int] = mapped_column(ForeignKey("ops_unit.id"))
    score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    rank: Mapped[int] = mapped_column(Integer)
    trend: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))  # change from the previous month
    metrics: Mapped[str] = mapped_column(Text)  # JSON {metric: value (string for money)}
    scheme_version: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    unit: Mapped[Unit] = relationship()
