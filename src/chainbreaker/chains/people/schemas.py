"""The people chain's lake tables: the canonical travel schemas (defined in core/model/travel.py)."""

from __future__ import annotations

from chainbreaker.core.model.travel import CROSSINGS, FLIGHTS, HOTELS, KIN, RECORD_SOURCES, TABLES, TRAINS

__all__ = ["CROSSINGS", "FLIGHTS", "HOTELS", "KIN", "RECORD_SOURCES", "TABLES", "TRAINS"]
