"""Synthetic travel data of a province's residents, with ground truth.

Who travels (categories, each with its own pattern):

- ``tourist``: 1–4 holidays in three years, some in one-off tour groups (旅游团号);
- ``business``: frequent short trips, mostly to non-listed countries;
- ``longstay``: study or work in a non-listed country, left long ago and not back (must not be flagged);
- ``gambler``: many short trips to listed places, a third by land ports with 0–2 night stays;
- ``labour``: left for a listed place (sometimes via a third country, then a flight onward) and
  never came back: the stranded persons (滞留) of the ground truth;
- ``recent``: left for a listed place a few days ago (not yet stranded);
- ``group``: organised groups of 4–10 leaving together 3–7 times, by tour number, by co-booked
  flights (共同订票标识/团体标识) or only by adjacent seats on flights and trains, sharing hotel rooms;
- ``companion``: joins a gambler on two of the gambler's trips, sitting next to them;
- ``kin``: relatives of stranded persons (亲属关系), plus unrelated kin pairs as noise.

Everything is vectorised with numpy so that 10M records take seconds. :func:`generate_travel`
returns canonical Arrow tables (the fast path for benchmarks); :func:`write_travel_files` writes
the real column layouts (GB18030 CSV with tab padding, UTF-8 CSV, XLSX), two overlapping
exit/entry feeds, dirty rows, and ``truth/`` CSVs.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.model.travel import CROSSINGS, FLIGHTS, HOTELS, KIN, TRAINS

DAY_US = 86_400_000_000
HORIZON_DAYS = 3 * 365
REGIONS = ["530102", "530103", "530111", "530112", "530302", "530402", "530502", "530602", "530702",
           "530802", "530902", "532301", "532501", "532502", "532801", "533102", "533103"]
HUKOU = ["云南省昆明市五华区", "云南省昆明市盘龙区", "云南省昆明市官渡区", "云南省昆明市西山区", "云南省曲靖市麒麟区",
         "云南省玉溪市红塔区", "云南省保山市隆阳区", "云南省昭通市昭阳区", "云南省丽江市古城区", "云南省普洱市思茅区",
         "云南省临沧市临翔区", "云南省楚雄州楚雄市", "云南省红河州个旧市", "云南省红河州开远市", "云南省大理州大理市",
         "云南省德宏州瑞丽市", "云南省德宏州芒市"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红文志斌海波宇鹏辉玲燕飞云春峰雪梅琳")
# (code, text as written in the feed); listed places get towns sometimes
TOURIST_DESTS = [("JPN", "日本"), ("KOR", "韩国"), ("THA", "泰国"), ("SGP", "新加坡"), ("MYS", "马来西亚"),
                 ("VNM", "越南"), ("USA", "美国"), ("FRA", "法国"), ("HKG", "中国香港"), ("MAC", "中国澳门"),
                 ("AUS", "澳大利亚"), ("DEU", "德国")]
TOURIST_P = [0.16, 0.12, 0.10, 0.08, 0.08, 0.06, 0.06, 0.05, 0.12, 0.07, 0.05, 0.05]
BUSINESS_DESTS = [("SGP", "新加坡"), ("JPN", "日本"), ("KOR", "韩国"), ("DEU", "德国"), ("USA", "美国"),
                  ("MYS", "马来西亚"), ("VNM", "越南"), ("ARE", "阿联酋")]
BUSINESS_P = [0.22, 0.18, 0.14, 0.12, 0.12, 0.10, 0.08, 0.04]
LONGSTAY_DESTS = [("JPN", "日本"), ("AUS", "澳大利亚"), ("GBR", "英国"), ("USA", "美国"), ("CAN", "加拿大"),
                  ("DEU", "德国")]
LISTED_DESTS = [("KHM", "柬埔寨"), ("KHM", "柬埔寨（西哈努克港）"), ("MMR", "缅甸（小勐拉）"), ("MMR", "缅甸"),
                ("LAO", "老挝（金三角经济特区）"), ("LAO", "老挝"), ("PHL", "菲律宾"), ("VNM", "越南（芒街）"),
                ("MMR", "缅甸（果敢老街）")]
LISTED_P = [0.2, 0.12, 0.14, 0.08, 0.12, 0.06, 0.14, 0.08, 0.06]
TRANSIT = [("MYS", "马来西亚"), ("SGP", "新加坡"), ("HKG", "中国香港")]
AIR_PORTS = ["昆明长水机场", "广州白云机场", "上海浦东机场", "北京首都机场", "成都天府机场"]
LAND_PORTS = {"MMR": ["瑞丽口岸", "畹町口岸", "打洛口岸", "孟定清水河口岸"], "LAO": ["磨憨口岸"],
              "VNM": ["河口口岸", "东兴口岸"], "KHM": ["磨憨口岸"], "PHL": ["磨憨口岸"]}
LAND_TRAIN_TO = {"MMR": "瑞丽", "LAO": "磨憨", "VNM": "河口北", "KHM": "磨憨", "PHL": "磨憨"}
RELATIONS = ["父亲", "母亲", "配偶", "子女", "兄弟姐妹"]
CATEGORIES = ["tourist", "business", "longstay", "gambler", "labour", "recent", "group", "companion"]
CATEGORY_P = [0.52, 0.18, 0.05, 0.10, 0.03, 0.02, 0.08, 0.02]
SEAT_LETTERS = "ABCDEF"


@dataclass
class TravelData:
    crossings: pa.Table
    flights: pa.Table
    trains: pa.Table
    hotels: pa.Table
    kin: pa.Table
    truth_persons: pa.Table  # person_key, id_number, category, stranded, group_id, companion_of
    truth_groups: pa.Table  # group_id, mode, members (comma-separated keys), trips
    as_of: dt.date


def _id_numbers(idx: np.ndarray) -> np.ndarray:
    """Unique, valid 18-digit resident IDs (GB 11643 check digit), vectorised."""
    region = np.array(REGIONS)[idx % len(REGIONS)]
    base = np.datetime64("1962-01-01")
    birth = (base + ((idx // len(REGIONS)) % 15000).astype("timedelta64[D]")).astype(str)
    seq = (idx // (len(REGIONS) * 15000)) % 1000
    first17 = np.char.add(np.char.add(region, np.char.replace(birth, "-", "")), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer("".join(first17.tolist()).encode(), dtype=np.uint8).reshape(-1, 17) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    return np.char.add(first17, check)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(s, g1), g2)


def _pick(rng: np.random.Generator, options: list[tuple[str, str]], p: list[float] | None, n: int) -> np.ndarray:
    return rng.choice(len(options), size=n, p=np.array(p) / sum(p) if p else None)


class _Trips:
    """Column lists of trips, appended per category and concatenated at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, **cols: np.ndarray) -> None:
        n = len(cols["person"])
        full = {"tour": np.full(n, "", dtype=object), "cobook": np.full(n, "", dtype=object),
                "group": np.full(n, -1), "block": np.full(n, -1), "seat_pos": np.full(n, -1),
                "via": np.full(n, "", dtype=object), "land": np.zeros(n, bool), "open": np.zeros(n, bool),
                "gflag": np.zeros(n, bool), "train": np.zeros(n, bool)}
        full.update(cols)
        self.parts.append(full)

    def concat(self) -> dict[str, np.ndarray]:
        keys = self.parts[0].keys()
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


def _spread(rng: np.random.Generator, people: np.ndarray, lo: int, hi: int) -> np.ndarray:
    counts = rng.integers(lo, hi + 1, len(people))
    return np.repeat(people, counts)


def generate_travel(n_people: int = 20_000, seed: int = 7, as_of: dt.date | None = None,
                    id_offset: int = 0) -> TravelData:
    """Canonical travel tables and ground truth for ``n_people`` residents who travel.

    ``id_offset`` keeps ID numbers unique when a large province is generated in chunks
    (chunk ``i`` of ``n`` people uses ``id_offset = i * n``).
    """
    rng = np.random.default_rng(seed)
    as_of = as_of or dt.date(2026, 11, 1)
    start = np.datetime64(as_of) - np.timedelta64(HORIZON_DAYS, "D")
    cat = rng.choice(len(CATEGORIES), size=n_people, p=CATEGORY_P)
    people = np.arange(n_people)
    by = {c: people[cat == i] for i, c in enumerate(CATEGORIES)}
    trips = _Trips()
    H = HORIZON_DAYS

    def closed_days(n: int, dwell: np.ndarray, latest: int = H) -> np.ndarray:
        return rng.random(n) * np.maximum(latest - dwell - 2, 1)

    # tourists, some in one-off tours
    p = _spread(rng, by["tourist"], 1, 4)
    dwell = rng.integers(3, 13, len(p)) + rng.random(len(p))
    day = closed_days(len(p), dwell)
    dest = _pick(rng, TOURIST_DESTS, TOURIST_P, len(p))
    tour = np.full(len(p), "", dtype=object)
    in_tour = rng.random(len(p)) < 0.3
    n_tours = max(int(in_tour.sum() // 20), 1)
    tour_pick = rng.integers(0, n_tours, in_tour.sum())
    t_day = closed_days(n_tours, np.full(n_tours, 12.0))
    t_dest = _pick(rng, TOURIST_DESTS, TOURIST_P, n_tours)
    day[in_tour] = np.floor(t_day[tour_pick]) + 0.3
    dwell[in_tour] = 8.4
    dest[in_tour] = t_dest[tour_pick]
    tour[in_tour] = np.char.add("LT", np.char.zfill(tour_pick.astype(str), 7))
    trips.add(person=p, day=day, dwell=dwell, dest=np.array([TOURIST_DESTS[i][1] for i in range(len(TOURIST_DESTS))])[dest],
              tour=tour)
    # business
    p = _spread(rng, by["business"], 3, 12)
    dwell = rng.integers(2, 7, len(p)) + rng.random(len(p))
    dest = np.array([d[1] for d in BUSINESS_DESTS])[_pick(rng, BUSINESS_DESTS, BUSINESS_P, len(p))]
    trips.add(person=p, day=closed_days(len(p), dwell), dwell=dwell, dest=dest)
    # long stays in non-listed countries: an open last trip long ago
    p = by["longstay"]
    left = rng.integers(40, H - 30, len(p)) + rng.random(len(p))
    trips.add(person=p, day=H - left, dwell=np.zeros(len(p)), open=np.ones(len(p), bool),
              dest=np.array([d[1] for d in LONGSTAY_DESTS])[rng.integers(0, len(LONGSTAY_DESTS), len(p))])
    # gamblers: frequent short trips to listed places, a third by land
    p = _spread(rng, by["gambler"], 6, 24)
    land = rng.random(len(p)) < 0.35
    dwell = np.where(land, rng.integers(0, 3, len(p)) + rng.random(len(p)) * 0.9,
                     rng.integers(2, 7, len(p)) + rng.random(len(p)))
    day = H - np.sqrt(rng.random(len(p))) * (H - 10) * rng.random(len(p)) - dwell - 2
    day = np.clip(day, 0, H - dwell - 2)
    trips.add(person=p, day=day, dwell=dwell, land=land, train=land & (rng.random(len(p)) < 0.5),
              dest=np.array([d[1] for d in LISTED_DESTS])[_pick(rng, LISTED_DESTS, LISTED_P, len(p))])
    # labour: maybe a holiday before, then gone to a listed place (20% via a third country)
    p = by["labour"]
    left = rng.integers(40, H - 60, len(p)) + rng.random(len(p))
    via = rng.random(len(p)) < 0.2
    dest = np.array([d[1] for d in LISTED_DESTS])[_pick(rng, LISTED_DESTS, LISTED_P, len(p))]
    transit = np.array([t[1] for t in TRANSIT])[rng.integers(0, len(TRANSIT), len(p))]
    trips.add(person=p, day=H - left, dwell=np.zeros(len(p)), open=np.ones(len(p), bool),
              dest=np.where(via, transit, dest), via=np.where(via, dest, ""))
    prior = p[rng.random(len(p)) < 0.5]
    pdwell = rng.integers(3, 10, len(prior)) + rng.random(len(prior))
    trips.add(person=prior, day=rng.random(len(prior)) * 20, dwell=pdwell,
              dest=np.array([d[1] for d in TOURIST_DESTS])[_pick(rng, TOURIST_DESTS, TOURIST_P, len(prior))])
    # recent departures to listed places (not yet stranded)
    p = by["recent"]
    left = rng.integers(1, 20, len(p)) + rng.random(len(p))
    trips.add(person=p, day=H - left, dwell=np.zeros(len(p)), open=np.ones(len(p), bool),
              dest=np.array([d[1] for d in LISTED_DESTS])[_pick(rng, LISTED_DESTS, LISTED_P, len(p))])
    # organised groups
    members = by["group"]
    sizes = rng.integers(4, 11, max(len(members) // 6, 1))
    ends = np.minimum(np.cumsum(sizes), len(members))
    gid = np.searchsorted(ends, np.arange(len(members)), side="right")
    n_groups = int(gid.max()) + 1 if len(members) else 0
    g_mode = rng.integers(0, 3, n_groups)  # 0 tour, 1 cobook, 2 seats only
    g_trips = rng.integers(3, 8, n_groups)
    g_dest = _pick(rng, LISTED_DESTS, LISTED_P, n_groups)
    g_land = (g_mode == 2) & (rng.random(n_groups) < 0.5)
    tg = np.repeat(np.arange(n_groups), g_trips)  # one row per group trip
    tg_idx = np.arange(len(tg))
    tg_dwell = np.where(g_land[tg], rng.integers(1, 3, len(tg)), rng.integers(3, 7, len(tg))) + 0.4
    tg_day = np.floor(rng.random(len(tg)) * (H - 20)) + 0.35
    # member x trip rows, each member joins ~85% of the group's trips
    order = np.argsort(gid, kind="stable")
    gm_start = np.searchsorted(gid[order], np.arange(n_groups))
    gm_count = np.bincount(gid, minlength=n_groups)
    rep = gm_count[tg]
    row_trip = np.repeat(tg_idx, rep)
    offs = np.arange(len(row_trip)) - np.repeat(np.cumsum(rep) - rep, rep)
    row_person = members[order][gm_start[tg[row_trip]] + offs]
    keep = rng.random(len(row_trip)) < 0.85
    row_trip, row_person, offs = row_trip[keep], row_person[keep], offs[keep]
    g = tg[row_trip]
    seat_pos = rng.permutation(len(row_trip))  # shuffled order inside the block
    trips.add(person=row_person, day=tg_day[row_trip], dwell=tg_dwell[row_trip],
              dest=np.array([d[1] for d in LISTED_DESTS])[g_dest[g]], group=g, block=row_trip,
              seat_pos=seat_pos, land=g_land[g], train=g_land[g],
              tour=np.where(g_mode[g] == 0, np.char.add("GT", np.char.zfill(row_trip.astype(str), 7)), "").astype(object),
              cobook=np.where(g_mode[g] == 1, np.char.add("PNR", np.char.zfill(row_trip.astype(str), 7)), "").astype(object),
              gflag=g_mode[g] == 1)
    # companions: two trips beside a gambler
    comp = by["companion"]
    gamblers = by["gambler"]
    host = gamblers[rng.integers(0, len(gamblers), len(comp))] if len(gamblers) else comp
    all_t = trips.concat()
    gam_rows = np.flatnonzero(np.isin(all_t["person"], host) & ~all_t["land"])
    gam_order = gam_rows[np.argsort(all_t["person"][gam_rows], kind="stable")]
    hp = all_t["person"][gam_order]
    first = np.searchsorted(hp, host)
    cnt = np.searchsorted(hp, host, side="right") - first
    ok = cnt >= 2
    comp, host, first = comp[ok], host[ok], first[ok]
    rows2 = np.concatenate([gam_order[first], gam_order[first + 1]])
    comp2 = np.concatenate([comp, comp])
    block_base = len(tg) + 1_000_000
    trips.add(person=comp2, day=all_t["day"][rows2], dwell=all_t["dwell"][rows2], dest=all_t["dest"][rows2],
              block=block_base + np.concatenate([np.arange(len(comp))] * 2) * 2 + np.repeat([0, 1], len(comp)),
              seat_pos=np.ones(len(comp2), int))
    companion_host = {int(c): int(h) for c, h in zip(comp, host, strict=True)}
    t = trips.concat()
    # the companion's host sits in the same block at position 0
    host_rows = rows2
    t["block"][host_rows] = block_base + np.concatenate([np.arange(len(comp))] * 2) * 2 + np.repeat([0, 1], len(comp))
    t["seat_pos"][host_rows] = 0
    t = _drop_overlaps(t)

    ids = _id_numbers(id_offset * 13 + np.arange(n_people) * 7919 % max(n_people * 13, 1) + seed)
    names = _names(rng, n_people)
    keys = np.char.add("ID:", ids)
    return _tables(rng, t, ids, names, keys, start, as_of, n_people, cat, gid, members, g_mode, companion_host,
                   id_offset)


def _nullable(values: np.ndarray) -> pa.Array:
    """Strings with empty values as nulls."""
    arr = pa.array(values.astype(str))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _drop_overlaps(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A person cannot start a trip before the previous one ended: drop the later one."""
    for _ in range(3):
        order = np.lexsort((t["day"], t["person"]))
        t = {k: v[order] for k, v in t.items()}
        end = t["day"] + np.where(t["open"], 1e7, t["dwell"])
        same = np.r_[False, t["person"][1:] == t["person"][:-1]]
        run_max = _segment_cummax(end, np.cumsum(~same) - 1)
        prev_end = np.r_[-1.0, run_max[:-1]]
        bad = same & (t["day"] <= prev_end + 0.5)
        if not bad.any():
            break
        t = {k: v[~bad] for k, v in t.items()}
    return t


def _segment_cummax(values: np.ndarray, seg: np.ndarray) -> np.ndarray:
    offset = seg.astype(float) * 1e8  # segments increase, so a global cummax of value+offset works
    return np.maximum.accumulate(values + offset) - offset


def _tables(rng: np.random.Generator, t: dict[str, np.ndarray], ids: np.ndarray, names: np.ndarray,
            keys: np.ndarray, start: np.datetime64, as_of: dt.date, n_people: int, cat: np.ndarray,
            gid: np.ndarray, members: np.ndarray, g_mode: np.ndarray, companion_host: dict[int, int],
            id_offset: int = 0) -> TravelData:
    n = len(t["person"])
    start_us = start.astype("datetime64[us]").astype(np.int64)
    # Beijing local hours 07:00-23:00 expressed in UTC: subtract 8h
    exit_us = start_us + (t["day"] * DAY_US).astype(np.int64) - 8 * 3_600_000_000 + rng.integers(
        7 * 3_600_000_000, 23 * 3_600_000_000, n)
    exit_us = exit_us // 1_000_000 * 1_000_000
    entry_us = exit_us + (t["dwell"] * DAY_US).astype(np.int64)
    as_of_us = np.datetime64(as_of).astype("datetime64[us]").astype(np.int64)
    closed = ~t["open"] & (entry_us < as_of_us)
    land = t["land"]
    port = np.where(land, np.array(["磨憨口岸", "瑞丽口岸", "打洛口岸", "河口口岸"])[rng.integers(0, 4, n)],
                    np.array(AIR_PORTS)[rng.integers(0, len(AIR_PORTS), n)])
    transport = np.where(land, "陆路", "航空")
    p = t["person"]
    # crossings: exits, then entries of closed trips (return from the via country's onward place)
    returned_from = np.where(t["via"] != "", t["via"], t["dest"])
    cx_person = np.concatenate([p, p[closed]])
    cx_ts = np.concatenate([exit_us, entry_us[closed]])
    cx_dir = np.concatenate([np.full(n, "exit"), np.full(int(closed.sum()), "entry")])
    cx_country = np.concatenate([t["dest"], returned_from[closed]])
    cx_port = np.concatenate([port, port[closed]])
    cx_transport = np.concatenate([transport, transport[closed]])
    cx_tour = np.concatenate([t["tour"], t["tour"][closed]])
    m = len(cx_person)
    nat = np.full(m, "中国")
    crossings = pa.table({
        "record_id": pa.array(np.char.add(f"c{id_offset}-", np.arange(m).astype(str))),
        "person_key": pa.array(keys[cx_person]), "id_number": pa.array(ids[cx_person]),
        "id_valid": pa.array(np.ones(m, bool)), "id_issue": pa.nulls(m, pa.string()),
        "name": pa.array(names[cx_person]), "nationality": pa.array(nat),
        "gender": pa.array(np.where(np.char.mod("%d", cx_person) < "5", "男", "女")),
        "doc_type": pa.array(np.where(cx_transport == "陆路", "出入境通行证", "普通护照")),
        "doc_no": pa.array(np.char.add("E", np.char.zfill((cx_person * 37 % 99_999_999).astype(str), 8))),
        "birth_date": pa.nulls(m, pa.date32()),
        "ts": pa.array(cx_ts.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
        "port": pa.array(cx_port), "visa_type": pa.array(np.full(m, "免签")),
        "country_raw": pa.array(cx_country.astype(str)), "direction": pa.array(cx_dir),
        "direction_raw": pa.array(np.where(cx_dir == "exit", "出境", "入境")),
        "transport": pa.array(cx_transport), "vehicle": pa.nulls(m, pa.string()),
        "tour_no": _nullable(cx_tour),
        "hukou": pa.array(np.array(HUKOU)[cx_person % len(HUKOU)]), "key_source": pa.array(np.full(m, "id")),
        "n_sources": pa.array(np.ones(m, np.int64)), "src_sha256": pa.array(np.full(m, "synthetic")),
        "src_file": pa.array(np.full(m, "synthetic")), "src_row": pa.array(np.arange(m, dtype=np.int64)),
    }, schema=CROSSINGS)
    # flights: outbound air trips (and the onward leg of a via-third-country trip)
    air = ~land
    fr = np.flatnonzero(air)
    block = t["block"][fr]
    # flights: 25 per day per destination text; a block (group trip or companion pair) shares one
    flight_slot = np.where(block >= 0, block % 25, rng.integers(0, 25, len(fr)))
    codes = {d: stable_hash(d) % 900 for d in set(t["dest"][fr].tolist())}
    dest_code = np.array([codes[d] for d in t["dest"][fr].tolist()], dtype=np.int64)
    flight_no = np.char.add("MU", np.char.zfill((1000 + (dest_code * 25 + flight_slot) % 8999).astype(str), 4))
    base_seat = np.where(block >= 0, (block * 7919) % 200, rng.integers(0, 270, len(fr)))
    seat_ord = np.where(block >= 0, base_seat + np.maximum(t["seat_pos"][fr], 0) % 60, base_seat)
    # group blocks: members sit in consecutive seats in shuffled order
    in_block = block >= 0
    if in_block.any():
        ob = np.lexsort((t["seat_pos"][fr][in_block], block[in_block]))
        bsorted = block[in_block][ob]
        first = np.searchsorted(bsorted, bsorted)
        rank = np.empty(len(ob), int)
        rank[ob] = np.arange(len(ob)) - first
        seat_ord = seat_ord.copy()
        seat_ord[in_block] = base_seat[in_block] + rank
    seat = np.char.add((seat_ord // 6 + 1).astype(str), np.array(list(SEAT_LETTERS))[seat_ord % 6])
    f_day = (start + np.floor(t["day"][fr] + 8 / 24).astype("timedelta64[D]")).astype("datetime64[D]")
    f_dest = t["dest"][fr]
    f_via = t["via"][fr]
    cob = t["cobook"][fr]
    fl_person = np.concatenate([p[fr], p[fr][f_via != ""]])
    k = len(fl_person)
    onward = f_via != ""
    flights = pa.table({
        "record_id": pa.array(np.char.add(f"f{id_offset}-", np.arange(k).astype(str))),
        "person_key": pa.array(keys[fl_person]), "id_number": pa.array(ids[fl_person]),
        "id_valid": pa.array(np.ones(k, bool)), "id_issue": pa.nulls(k, pa.string()),
        "name": pa.array(names[fl_person]),
        "flight_no": pa.array(np.concatenate([flight_no, np.char.add("AK", (100 + np.arange(onward.sum()) % 800).astype(str))])),
        "flight_date": pa.array(np.concatenate([f_day, f_day[onward] + np.timedelta64(1, "D")])),
        "seat": pa.array(np.concatenate([seat, np.full(int(onward.sum()), "30C")])),
        "group_flag": pa.array(np.concatenate([t["gflag"][fr], np.zeros(int(onward.sum()), bool)])),
        "cobook_id": _nullable(np.concatenate([cob, np.full(int(onward.sum()), "", dtype=object)])),
        "dep_country_raw": pa.array(np.concatenate([np.full(len(fr), "中国"), f_dest[onward]])),
        "arr_country_raw": pa.array(np.concatenate([f_dest, f_via[onward]]).astype(str)),
        "n_sources": pa.array(np.ones(k, np.int64)), "src_sha256": pa.array(np.full(k, "synthetic")),
        "src_file": pa.array(np.full(k, "synthetic")), "src_row": pa.array(np.arange(k, dtype=np.int64)),
    }, schema=FLIGHTS)
    # trains to the border the day before a land exit
    tr = np.flatnonzero(t["train"])
    tblock = t["block"][tr]
    t_ord = np.where(tblock >= 0, (tblock * 31) % 80, rng.integers(0, 90, len(tr)))
    if (tblock >= 0).any():
        ob = np.lexsort((t["seat_pos"][tr][tblock >= 0], tblock[tblock >= 0]))
        bs = tblock[tblock >= 0][ob]
        rank = np.empty(len(ob), int)
        rank[ob] = np.arange(len(ob)) - np.searchsorted(bs, bs)
        t_ord[tblock >= 0] += rank
    car = np.where(tblock >= 0, tblock % 8 + 1, rng.integers(1, 9, len(tr)))
    tdest = np.array([d[1] for d in LISTED_DESTS])
    to_station = np.array([LAND_TRAIN_TO.get(next((c for c, txt in LISTED_DESTS if txt == s), "LAO"), "磨憨")
                           for s in t["dest"][tr].tolist()]) if len(tr) else np.zeros(0, str)
    del tdest
    k = len(tr)
    trains = pa.table({
        "record_id": pa.array(np.char.add(f"t{id_offset}-", np.arange(k).astype(str))),
        "person_key": pa.array(keys[p[tr]]), "id_number": pa.array(ids[p[tr]]),
        "id_valid": pa.array(np.ones(k, bool)), "id_issue": pa.nulls(k, pa.string()),
        "name": pa.array(names[p[tr]]),
        "train_no": pa.array(np.char.add("D", (8700 + (np.where(tblock >= 0, tblock, rng.integers(0, 40, k)) % 40)).astype(str))),
        "dep_date": pa.array((start + np.floor(t["day"][tr] + 8 / 24).astype("timedelta64[D]") - np.timedelta64(1, "D"))
                             .astype("datetime64[D]")),
        "car_no": pa.array(np.char.zfill(car.astype(str), 2)),
        "seat_no": pa.array(np.char.add(np.char.zfill((t_ord // 5 + 1).astype(str), 2),
                                        np.array(list("ABCDF"))[t_ord % 5])),
        "from_station": pa.array(np.full(k, "昆明南")), "to_station": pa.array(to_station.astype(str)),
        "n_sources": pa.array(np.ones(k, np.int64)), "src_sha256": pa.array(np.full(k, "synthetic")),
        "src_file": pa.array(np.full(k, "synthetic")), "src_row": pa.array(np.arange(k, dtype=np.int64)),
    }, schema=TRAINS)
    # hotels: group members on land trips share rooms two by two at the border the night before
    hr = np.flatnonzero(t["train"] & (t["block"] >= 0))
    hb = t["block"][hr]
    ob = np.lexsort((t["seat_pos"][hr], hb))
    hr, hb = hr[ob], hb[ob]
    rank = np.arange(len(hr)) - np.searchsorted(hb, hb)
    k = len(hr)
    checkin = exit_us[hr] - DAY_US // 2
    hotels = pa.table({
        "record_id": pa.array(np.char.add(f"h{id_offset}-", np.arange(k).astype(str))),
        "person_key": pa.array(keys[p[hr]]), "id_number": pa.array(ids[p[hr]]),
        "id_valid": pa.array(np.ones(k, bool)), "id_issue": pa.nulls(k, pa.string()),
        "name": pa.array(names[p[hr]]),
        "hotel_name": pa.array(np.array(["勐腊边境宾馆", "瑞丽口岸大酒店", "河口国门酒店"])[hb % 3]),
        "room_no": pa.array((800 + (hb * 13) % 150 + rank // 2).astype(str)),
        "checkin": pa.array(checkin.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
        "checkout": pa.array((checkin + DAY_US // 2).astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
        "n_sources": pa.array(np.ones(k, np.int64)), "src_sha256": pa.array(np.full(k, "synthetic")),
        "src_file": pa.array(np.full(k, "synthetic")), "src_row": pa.array(np.arange(k, dtype=np.int64)),
    }, schema=HOTELS)
    # stranded truth: last record is an exit (open trip) to a listed place more than 30 days ago
    last = np.r_[t["person"][1:] != t["person"][:-1], True]
    listed_texts = {txt for _, txt in LISTED_DESTS}
    goes_listed = np.array([d in listed_texts or v in listed_texts for d, v in zip(t["dest"].tolist(), t["via"].tolist(), strict=True)]) \
        if n else np.zeros(0, bool)
    stranded_trip = last & t["open"] & goes_listed & ((as_of_us - exit_us) > 30 * DAY_US)
    stranded = np.zeros(n_people, bool)
    stranded[t["person"][stranded_trip]] = True
    # kin: 1-2 relatives per stranded person (new people), plus noise pairs among tourists
    sp = np.flatnonzero(stranded)
    kin_a = np.repeat(sp, rng.integers(1, 3, len(sp)))
    kin_b = n_people + np.arange(len(kin_a))
    tourists = np.flatnonzero(cat == 0)
    noise_a = tourists[rng.integers(0, max(len(tourists), 1), len(sp))] if len(tourists) else np.zeros(0, int)
    noise_b = n_people + len(kin_a) + np.arange(len(noise_a))
    all_ids = np.concatenate([ids, _id_numbers(100_000_000 + id_offset * 3 + np.arange(len(kin_a) + len(noise_a)))])
    all_names = np.concatenate([names, _names(rng, len(kin_a) + len(noise_a))])
    ka = np.concatenate([kin_a, noise_a])
    kb = np.concatenate([kin_b, noise_b])
    k = len(ka)
    kin = pa.table({
        "record_id": pa.array(np.char.add(f"k{id_offset}-", np.arange(k).astype(str))),
        "person_key": pa.array(np.char.add("ID:", all_ids[ka])), "id_number": pa.array(all_ids[ka]),
        "id_valid": pa.array(np.ones(k, bool)), "name": pa.array(all_names[ka]),
        "kin_key": pa.array(np.char.add("ID:", all_ids[kb])), "kin_id_number": pa.array(all_ids[kb]),
        "kin_id_valid": pa.array(np.ones(k, bool)), "kin_name": pa.array(all_names[kb]),
        "relation": pa.array(np.array(RELATIONS)[rng.integers(0, len(RELATIONS), k)]),
        "n_sources": pa.array(np.ones(k, np.int64)), "src_sha256": pa.array(np.full(k, "synthetic")),
        "src_file": pa.array(np.full(k, "synthetic")), "src_row": pa.array(np.arange(k, dtype=np.int64)),
    }, schema=KIN)
    group_of = np.full(n_people, -1)
    group_of[members] = gid
    travels = np.zeros(n_people, bool)
    travels[t["person"]] = True
    host_of = np.full(n_people, -1)
    for c, h in companion_host.items():
        host_of[c] = h
    sel = np.flatnonzero(travels)
    truth_persons = pa.table({
        "person_key": keys[sel], "id_number": ids[sel], "category": np.array(CATEGORIES)[cat[sel]],
        "stranded": stranded[sel].astype(np.int8),
        "group_id": np.where(group_of[sel] >= 0, np.char.add("G", group_of[sel].astype(str)), ""),
        "companion_of": np.where(host_of[sel] >= 0, keys[np.maximum(host_of[sel], 0)], ""),
    })
    # groups as really formed (members who made at least two trips together)
    gtrip = t["group"] >= 0
    gt = pa.table({"g": t["group"][gtrip], "person": keys[t["person"][gtrip]], "block": t["block"][gtrip]})
    rows = gt.group_by(["g", "person"]).aggregate([("block", "count_distinct")])
    rows = rows.filter(pc.greater_equal(rows["block_count_distinct"], 2))
    agg = rows.group_by("g").aggregate([("person", "list")]).sort_by("g")
    gids = agg["g"].to_numpy()
    truth_groups = pa.table({
        "group_id": np.char.add("G", gids.astype(str)) if len(gids) else np.zeros(0, str),
        "mode": np.array(["tour", "cobook", "seats"])[g_mode[gids]] if len(gids) else np.zeros(0, str),
        "members": [",".join(sorted(m)) for m in agg["person_list"].to_pylist()],
        "size": [len(m) for m in agg["person_list"].to_pylist()],
    })
    return TravelData(crossings, flights, trains, hotels, kin, truth_persons, truth_groups, as_of)


# ------------------------------------------------------------------ raw files
CROSSING_HEADER = ["姓名", "国籍/地区", "性别", "身份证号", "证件类别", "证件号码", "出生日期", "出入日期时间", "出入口岸",
                   "签证种类", "前往/归来国家/地区", "出入境类别", "交通方式", "交通工具", "旅游团号", "户籍地"]
FLIGHT_HEADER = ["旅客姓名", "证件号码", "航班号", "航班日期", "座位", "团体标识", "共同订票标识", "离港国家", "进港国家"]
TRAIN_HEADER = ["姓名", "证件号码", "车次", "发车日期", "车厢号", "座位号", "发站", "到站"]
HOTEL_HEADER = ["姓名", "证件号码", "旅店名称", "房间号码", "入住时间", "离店时间"]
KIN_HEADER = ["本人姓名", "本人身份证号", "亲属姓名", "亲属身份证号", "关系"]


def _local(ts: pa.Array) -> list[str]:
    local = pc.cast(ts, pa.timestamp("us", tz="Asia/Shanghai"))
    return pc.strftime(local, format="%Y-%m-%d %H:%M:%S").to_pylist()


def _crossing_rows(t: pa.Table) -> list[list[str]]:
    d = t.to_pydict()
    times = _local(t["ts"])
    birth = [i[6:10] + "-" + i[10:12] + "-" + i[12:14] if i and len(i) == 18 else "" for i in d["id_number"]]
    return [[d["name"][i], d["nationality"][i], d["gender"][i], d["id_number"][i], d["doc_type"][i], d["doc_no"][i],
             birth[i], times[i], d["port"][i], d["visa_type"][i], d["country_raw"][i], d["direction_raw"][i],
             d["transport"][i], "", d["tour_no"][i] or "", d["hukou"][i]] for i in range(t.num_rows)]


def write_travel_files(out_dir: Path, n_people: int = 3000, seed: int = 7, as_of: dt.date | None = None,
                       dirty: bool = True) -> TravelData:
    """Write the real layouts under ``out_dir/travel/`` and ground truth under ``out_dir/truth/``."""
    data = generate_travel(n_people, seed, as_of)
    rng = np.random.default_rng(seed + 1)
    tdir = Path(out_dir) / "travel"
    truth = Path(out_dir) / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    rows = _crossing_rows(data.crossings)
    # two feeds: border inspection (GB18030, tab padded) and a second push (UTF-8) overlapping 10%
    n = len(rows)
    split = rng.random(n)
    feed_a = [list(r) for r, s in zip(rows, split, strict=True) if s < 0.6]
    only_a = [r[3] is not None and s < 0.5 for r, s in zip(rows, split, strict=True) if s < 0.6]
    feed_b = [list(r) for r, s in zip(rows, split, strict=True) if s >= 0.5]
    if dirty:
        future = (dt.datetime.combine(data.as_of, dt.time()) + dt.timedelta(days=400)).strftime("%Y-%m-%d %H:%M:%S")
        tourist_keys = set(pc.filter(data.truth_persons["id_number"],
                                     pc.equal(data.truth_persons["category"], "tourist")).to_pylist()[:20])
        bad_id_rows = [r for r, alone in zip(feed_a, only_a, strict=True) if alone and r[3] in tourist_keys][:10]
        for r in bad_id_rows:  # a typo in the check digit: kept, flagged, not merged with the person
            r[3] = r[3][:17] + ("0" if r[3][17] != "0" else "1")
        base = list(feed_a[0]) if feed_a else [""] * len(CROSSING_HEADER)
        feed_a.append([*base[:7], future, *base[8:]])  # a time in the future
        feed_a.append([*base[:7], "2026-13-45 25:00:00", *base[8:]])  # an impossible time
        feed_a.append([*base[:11], "过境", *base[12:]])  # a direction nobody can read
        feed_a.append(["无名氏", "中国", "男", "", "", "", "", base[7], base[8], "", "泰国", "出境", "航空", "", "", ""])
    _write_csv(tdir / "出入境记录_边检总站.csv", CROSSING_HEADER, feed_a, "gb18030", pad=True, title="出入境人员记录查询结果")
    _write_csv(tdir / "出入境记录_移民管理推送.csv", CROSSING_HEADER, feed_b, "utf-8")
    f = data.flights.to_pydict()
    frows = [[f["name"][i], f["id_number"][i], f["flight_no"][i], str(f["flight_date"][i]), f["seat"][i],
              "是" if f["group_flag"][i] else "否", f["cobook_id"][i] or "", f["dep_country_raw"][i], f["arr_country_raw"][i]]
             for i in range(data.flights.num_rows)]
    _write_csv(tdir / "民航离港旅客信息.csv", FLIGHT_HEADER, frows, "gb18030", pad=True)
    tr = data.trains.to_pydict()
    trows = [[tr["name"][i], tr["id_number"][i], tr["train_no"][i], str(tr["dep_date"][i]), tr["car_no"][i],
              tr["seat_no"][i], tr["from_station"][i], tr["to_station"][i]] for i in range(data.trains.num_rows)]
    _write_csv(tdir / "铁路购票记录.csv", TRAIN_HEADER, trows, "utf-8")
    h = data.hotels.to_pydict()
    cin, cout = _local(data.hotels["checkin"]), _local(data.hotels["checkout"])
    hrows = [[h["name"][i], h["id_number"][i], h["hotel_name"][i], h["room_no"][i], cin[i], cout[i]]
             for i in range(data.hotels.num_rows)]
    _write_xlsx(tdir / "旅馆住宿登记.xlsx", HOTEL_HEADER, hrows)
    k = data.kin.to_pydict()
    krows = [[k["name"][i], k["id_number"][i], k["kin_name"][i], k["kin_id_number"][i], k["relation"][i]]
             for i in range(data.kin.num_rows)]
    _write_csv(tdir / "亲属关系.csv", KIN_HEADER, krows, "gb18030")
    _write_truth(truth / "travel_persons.csv", data.truth_persons)
    _write_truth(truth / "travel_groups.csv", data.truth_groups)
    return data


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str, pad: bool = False,
               title: str | None = None) -> None:
    with open(path, "w", encoding=encoding, newline="") as fh:
        if title:
            fh.write(title + "\n")
        w = csv.writer(fh)
        w.writerow([h + "\t" if pad else h for h in header])
        for r in rows:
            w.writerow([(v + "\t" if pad and v else v) for v in r])


def _write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("住宿登记")
    ws.write_row(0, 0, ["旅馆业治安管理信息系统导出"])
    ws.write_row(1, 0, header)
    for i, r in enumerate(rows):
        ws.write_row(i + 2, 0, r)
    wb.close()


def _write_truth(path: Path, table: pa.Table) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, path)


def stable_hash(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def load_travel_tables(ws: object, data: TravelData, mode: str = "replace") -> None:
    """Fast path for benchmarks: write the canonical tables straight into a workspace's lake."""
    from chainbreaker.core.model.travel import TABLES

    with ws.transaction("synth.travel", settings={"rows": data.crossings.num_rows}) as tx:  # type: ignore[attr-defined]
        for kind, (name, _schema) in TABLES.items():
            tx.write(name, getattr(data, kind), mode=mode)
