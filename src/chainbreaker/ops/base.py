"""Declarative base of the ops models (案件业务库的模型基类).

Its own module so the models (:mod:`chainbreaker.ops.register_models`) and the engine helpers
(:mod:`chainbreaker.ops.db`, which imports the models before ``create_all``) do not import each other.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every ops model."""


__all__ = ["Base"]
