"""Time zones in one place (时区): the lake stores UTC; people read the configured zone.

The setting ``timezone`` (``CHAINBREAKER_TIMEZONE``, default ``Asia/Shanghai``, i.e. 北京时间) says

* how a source time *without* an offset is read (as wall-clock time of that zone; a source time
  with an offset keeps its own), in every ingest (bank, platform, travel), and
* in which zone times are shown: CLI tables, CSV/JSONL/XLSX exports, workbooks and reports.
  Parquet exports keep the UTC instant, time-zone aware.

Every conversion between the stored UTC instant and what a user reads goes through this module.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.errors import ConfigError

DEFAULT_ZONE = "Asia/Shanghai"
ENV = "CHAINBREAKER_TIMEZONE"
SHOW_FORMAT = "%Y-%m-%d %H:%M:%S"
EXCEL_DATETIME = "yyyy-mm-dd hh:mm:ss"
EXCEL_DATE = "yyyy-mm-dd"


@lru_cache(maxsize=32)
def get_zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (IANA name such as ``Asia/Shanghai``, ``Asia/Tokyo``, ``UTC``)."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"无法识别的时区 {name!r}（设置 timezone / 环境变量 {ENV}）。请使用 IANA 时区名，如 Asia/Shanghai。",
            f"Unknown time zone {name!r} (setting timezone / {ENV}); use an IANA name such as Asia/Shanghai.",
        ) from exc


@lru_cache(maxsize=8)
def _zone_of_setting(env_value: str | None) -> str:
    from chainbreaker.core.settings import get_settings

    name = get_settings().timezone
    get_zone(name)  # fail early and clearly on a bad name
    return name


def zone_name() -> str:
    """The configured zone's name (setting ``timezone``); cheap enough to call per value."""
    return _zone_of_setting(os.environ.get(ENV))


def configured_zone() -> ZoneInfo:
    return get_zone(zone_name())


def _zone(tz: dt.tzinfo | str | None) -> dt.tzinfo:
    if tz is None:
        return configured_zone()
    if isinstance(tz, str):
        return get_zone(tz)
    return tz


def zone_label(tz: dt.tzinfo | str | None = None, lang: str = "zh") -> str:
    """How a column header names the zone: 北京时间 for Asia/Shanghai, else the IANA name."""
    name = str(_zone(tz))
    if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
        return "北京时间" if lang == "zh" else "Beijing time"
    return name


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC instant (naive values are UTC: that is how the lake stores them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def to_local(value: dt.datetime, tz: dt.tzinfo | str | None = None) -> dt.datetime:
    """The instant in the configured (or given) zone, aware."""
    return as_utc(value).astimezone(_zone(tz))


def local_naive(value: dt.datetime, tz: dt.tzinfo | str | None = None) -> dt.datetime:
    """Wall-clock time in the zone without tzinfo (what Excel stores: it has no zones)."""
    return to_local(value, tz).replace(tzinfo=None)


def show_time(value: object, tz: dt.tzinfo | str | None = None, *, seconds: bool = True) -> str:
    """Text for a user: ``2024-03-01 08:00:00`` in the zone; '' for None; an ISO text is parsed first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        text = to_local(value, tz).strftime(SHOW_FORMAT)
        return text if seconds else text[:16]
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def iso_local(value: dt.datetime, tz: dt.tzinfo | str | None = None, sep: str = "T") -> str:
    """ISO 8601 with the zone's offset, e.g. ``2024-03-01T08:00:00+08:00`` (unambiguous)."""
    return to_local(value, tz).isoformat(sep=sep)


def now_local(tz: dt.tzinfo | str | None = None) -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone(_zone(tz))


def arrow_local_text(arr: pa.Array | pa.ChunkedArray, tz: dt.tzinfo | str | None = None,
                     sep: str = " ") -> pa.ChunkedArray:
    """Timestamps as text in the zone with their offset (``2024-03-01 08:00:00+08:00``), vectorised.

    Naive timestamp columns are taken as UTC (the lake's convention). Fractions of a second are
    kept only where a value has them.
    """
    name = str(_zone(tz))
    chunked = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    utc = chunked if chunked.type.tz else pc.assume_timezone(chunked, "UTC")
    local = utc.cast(pa.timestamp(chunked.type.unit, tz=name))
    text = pc.strftime(local, format=f"%Y-%m-%d{sep}%H:%M:%S")  # seconds carry the unit's fraction
    text = pc.replace_substring_regex(text, r"\.0+$", "")
    offset = pc.utf8_replace_slice(pc.strftime(local, format="%z"), 3, 3, ":")  # +0800 -> +08:00
    return pc.binary_join_element_wise(text, offset, "")
