"""Synthetic persons seen by several sources, with ground truth, for entity resolution.

A province's residents appear as bank account holders (``accounts``), bank KYC rows (``persons``),
platform members with a real name (``platform_members``) and travellers (``travel_crossings``).
Each appearance is written the way such sources spell people, with the noise that makes exact
matching miss them:

* names: a homophone in the given name (王小明/王晓明), traditional characters (王曉明), given
  name characters swapped (王明小), spaces or a middle dot inside;
* ID numbers: missing (often on platforms), one digit mistyped (check digit then fails), the old
  15-digit form, full-width digits;
* phones: missing, another number of the same person (a new SIM), ``+86``/dashes;
* cards: the person's second card, missing;
* addresses: missing, or an earlier address of the person (people move: 户籍地址 vs 现住址).

Common names repeat (surnames by rough frequency, a small pool of given-name characters), so
different people share names and birth dates as they do in a province. ``truth`` maps every
record (table, src_row) to its person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆帅旭宁"
         "琳雪梅林飞波鑫志海峰晨阳欣怡佳琪晶晶婷颖倩博亮成康乐安东")
# homophones as people actually write them (同音字)
HOMOPHONES = {
    "伟": "玮炜韦", "芳": "方", "娜": "那", "敏": "闵", "静": "婧靖", "丽": "莉俪", "强": "蔷", "磊": "垒",
    "军": "君均", "洋": "阳扬", "勇": "永咏", "艳": "燕雁", "杰": "洁捷", "娟": "鹃", "涛": "滔韬", "明": "铭鸣",
    "超": "潮", "霞": "侠", "平": "萍苹", "刚": "钢", "英": "瑛莺", "华": "桦骅", "玉": "钰", "兰": "岚澜",
    "红": "虹鸿", "鹏": "朋", "辉": "晖徽", "建": "健剑", "国": "帼", "文": "雯", "斌": "彬", "宇": "羽雨",
    "浩": "昊皓", "凯": "恺楷", "俊": "骏峻", "帆": "凡", "旭": "煦", "宁": "凝", "琳": "林霖", "雪": "学",
    "梅": "玫", "飞": "菲", "波": "博", "鑫": "新欣", "志": "智", "海": "还", "峰": "锋枫", "晨": "辰",
    "阳": "洋", "怡": "宜", "佳": "嘉", "琪": "琦", "晶": "精", "婷": "亭", "颖": "莹", "倩": "茜",
    "亮": "靓", "成": "诚", "康": "慷", "乐": "勒", "安": "庵", "东": "冬",
}
TRADITIONAL = {"伟": "偉", "丽": "麗", "军": "軍", "艳": "艷", "涛": "濤", "刚": "剛", "华": "華", "兰": "蘭",
               "红": "紅", "鹏": "鵬", "辉": "輝", "国": "國", "斌": "斌", "浩": "浩", "帅": "帥", "宁": "寧",
               "飞": "飛", "波": "波", "鑫": "鑫", "志": "誌", "峰": "峰", "阳": "陽", "晶": "晶", "颖": "穎",
               "亮": "亮", "东": "東", "张": "張", "陈": "陳", "刘": "劉", "杨": "楊", "黄": "黃", "赵": "趙",
               "吴": "吳", "郑": "鄭", "马": "馬", "孙": "孫", "罗": "羅", "许": "許", "韩": "韓", "冯": "馮",
               "邓": "鄧", "叶": "葉", "苏": "蘇", "卢": "盧", "钟": "鍾", "谭": "譚", "陆": "陸", "贾": "賈"}
REGIONS = ("530102", "530103", "530111", "530112", "530302", "530402", "530502", "530602", "530702",
           "530802", "532301", "532501", "532801", "533102", "440103", "440304", "350203", "320106",
           "510104", "420106", "610113", "450103", "520102", "360102")
CITY = {"53": "云南省昆明市", "44": "广东省广州市", "35": "福建省厦门市", "32": "江苏省南京市", "51": "四川省成都市",
        "42": "湖北省武汉市", "61": "陕西省西安市", "45": "广西南宁市", "52": "贵州省贵阳市", "36": "江西省南昌市"}
ROADS = ["人民路", "解放路", "建设路", "中山路", "北京路", "环城路", "滇池路", "青年路", "东风路", "金碧路", "胜利街", "和平街"]
BANKS = ("中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "招商银行", "中国邮政储蓄银行",
         "兴业银行", "农村信用合作社")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _check(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass
class PersonsWorld:
    """The tables a workspace would hold, and the truth (``table``, ``src_row``) → ``person``."""

    tables: dict[str, pa.Table]
    truth: pa.Table
    persons: int


@dataclass(frozen=True)
class Noise:
    homophone: float = 0.10
    traditional: float = 0.05
    swapped: float = 0.04
    spacing: float = 0.03
    id_typo: float = 0.05
    id_old_form: float = 0.04
    id_fullwidth: float = 0.02
    phone_missing: float = 0.25
    phone_other: float = 0.10
    card_other: float = 0.30
    card_missing: float = 0.15
    address_other: float = 0.10


# share of persons appearing in each source, and how often that source lacks the ID number
SOURCES = {"accounts": (0.55, 0.02), "persons": (0.30, 0.03), "platform_members": (0.45, 0.35),
           "travel_crossings": (0.40, 0.00)}


def _noisy_name(rng: np.random.Generator, sur: str, given: str, nz: Noise) -> str:
    g = list(given)
    if rng.random() < nz.homophone:
        i = int(rng.integers(len(g)))
        alts = HOMOPHONES.get(g[i])
        if alts:
            g[i] = alts[int(rng.integers(len(alts)))]
    if len(g) == 2 and rng.random() < nz.swapped:
        g.reverse()
    name = sur + "".join(g)
    if rng.random() < nz.traditional:
        name = "".join(TRADITIONAL.get(c, c) for c in name)
    if rng.random() < nz.spacing:
        name = name[0] + (" " if rng.random() < 0.5 else "·") + name[1:]
    return name


def _noisy_id(rng: np.random.Generator, idn: str, missing: float, nz: Noise) -> str | None:
    if rng.random() < missing:
        return None
    r = rng.random()
    if r < nz.id_typo:
        i = int(rng.integers(0, 17))
        d = str((int(idn[i]) + 1 + int(rng.integers(8))) % 10)
        if i == 0 and d == "0":
            d = "9"
        return idn[:i] + d + idn[i + 1:]
    r -= nz.id_typo
    if r < nz.id_old_form and idn[6:8] == "19":
        return idn[:6] + idn[8:17]
    r -= nz.id_old_form
    if r < nz.id_fullwidth:
        return idn.translate(_FULLWIDTH)
    return idn


def generate_persons(n_records: int, seed: int = 7, noise: Noise | None = None) -> PersonsWorld:
    """About ``n_records`` records of ``n_records / 1.7`` persons across the four sources."""
    nz = noise or Noise()
    rng = np.random.default_rng(seed)
    share = sum(p for p, _ in SOURCES.values())
    n_persons = max(1, int(n_records / share))
    sw = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
    sur_idx = rng.choice(len(SURNAMES), n_persons, p=sw / sw.sum())
    gw = 1.0 / np.arange(1, len(GIVEN) + 1) ** 0.6
    gw = gw / gw.sum()
    g1 = rng.choice(len(GIVEN), n_persons, p=gw)
    g2 = rng.choice(len(GIVEN), n_persons, p=gw)
    two = rng.random(n_persons) < 0.75
    start = dt.date(1960, 1, 1).toordinal()
    births = rng.integers(0, (dt.date(2005, 12, 31).toordinal() - start), n_persons) + start
    regions = rng.integers(0, len(REGIONS), n_persons)
    seqs = rng.integers(0, 1000, n_persons)
    seqs = _unique_sequences(rng, regions, births, seqs)
    phones = rng.choice(10**9, n_persons * 2, replace=False)
    cards = rng.choice(10**12, n_persons * 2, replace=False)
    banks = rng.integers(0, len(BANKS), n_persons * 2)
    roads = rng.integers(0, len(ROADS), n_persons)
    nums = rng.integers(1, 400, n_persons)
    roads2 = rng.integers(0, len(ROADS), n_persons)
    nums2 = rng.integers(1, 400, n_persons)
    cols: dict[str, dict[str, list]] = {t: {} for t in SOURCES}
    truth: dict[str, list] = {"table": [], "src_row": [], "person": []}
    for t in SOURCES:
        cols[t] = {"name": [], "id": [], "phone": [], "card": [], "bank": [], "birth": [], "address": [], "key": []}
    for p in range(n_persons):
        sur = SURNAMES[sur_idx[p]]
        given = GIVEN[g1[p]] + (GIVEN[g2[p]] if two[p] else "")
        birth = dt.date.fromordinal(int(births[p]))
        region = REGIONS[regions[p]]
        first17 = f"{region}{birth:%Y%m%d}{seqs[p]:03d}"
        idn = first17 + _check(first17)
        phone = [f"1{3 + phones[2 * p] % 7}{phones[2 * p] // 10:09d}"[:11], f"1{3 + phones[2 * p + 1] % 7}"
                 f"{phones[2 * p + 1] // 10:09d}"[:11]]
        card = [f"6222{cards[2 * p]:012d}"[:16] + "000", f"6217{cards[2 * p + 1]:012d}"[:16] + "111"]
        bank = [BANKS[banks[2 * p]], BANKS[banks[2 * p + 1]]]
        address = f"{CITY.get(region[:2], '云南省昆明市')}{ROADS[roads[p]]}{nums[p]}号"
        earlier = f"{CITY.get(region[:2], '云南省昆明市')}{ROADS[roads2[p]]}{nums2[p]}号"
        chosen = [t for t, (pr, _) in SOURCES.items() if rng.random() < pr]
        if not chosen:
            chosen = [list(SOURCES)[int(rng.integers(len(SOURCES)))]]
        for t in chosen:
            c = cols[t]
            c["name"].append(_noisy_name(rng, sur, given, nz))
            c["id"].append(_noisy_id(rng, idn, SOURCES[t][1], nz))
            r = rng.random()
            ph = None if r < nz.phone_missing else phone[1] if r < nz.phone_missing + nz.phone_other else phone[0]
            if ph and rng.random() < 0.1:
                ph = f"+86 {ph[:3]}-{ph[3:7]}-{ph[7:]}"
            c["phone"].append(ph)
            r = rng.random()
            k = None if r < nz.card_missing else 1 if r < nz.card_missing + nz.card_other else 0
            c["card"].append(None if k is None else card[k])
            c["bank"].append(None if k is None else bank[k])
            c["birth"].append(birth)
            r = rng.random()
            c["address"].append(None if r < 0.3 else earlier if r < 0.3 + nz.address_other else address)
            c["key"].append(p)
            truth["table"].append(t)
            truth["src_row"].append(len(c["name"]))
            truth["person"].append(p)
    return PersonsWorld(tables=_tables(cols), truth=pa.table(truth), persons=n_persons)


def _unique_sequences(rng: np.random.Generator, regions: np.ndarray, births: np.ndarray,
                      seqs: np.ndarray) -> np.ndarray:
    """Sequence codes redrawn where two persons would share region, birth date and sequence: an ID
    number belongs to one person (without this, ~430 pairs of strangers at 588k persons shared one
    valid number, which no matcher, nor the exact-ID baseline, can tell apart)."""
    seqs = seqs.copy()
    taken: set[tuple[int, int, int]] = set()
    for p in range(len(seqs)):
        key = (int(regions[p]), int(births[p]), int(seqs[p]))
        while key in taken:
            seqs[p] = int(rng.integers(0, 1000))
            key = (int(regions[p]), int(births[p]), int(seqs[p]))
        taken.add(key)
    return seqs


def _tables(cols: dict[str, dict[str, list]]) -> dict[str, pa.Table]:
    sha = {t: hashlib.sha256(f"synth-persons/{t}".encode()).hexdigest() for t in cols}
    out = {}
    a = cols["accounts"]
    n = len(a["name"])
    out["accounts"] = pa.table({
        "account": pa.array([c or f"62990000{i:011d}" for i, c in enumerate(a["card"])], pa.string()),
        "holder_name": a["name"], "holder_id": a["id"], "bank": a["bank"],
        "origin": ["bank"] * n, "src_sha256": [sha["accounts"]] * n, "src_row": list(range(1, n + 1))})
    p = cols["persons"]
    n = len(p["name"])
    out["persons"] = pa.table({"id_number": p["id"], "name": p["name"], "phone": p["phone"], "address": p["address"],
                               "src_sha256": [sha["persons"]] * n, "src_row": list(range(1, n + 1))})
    m = cols["platform_members"]
    n = len(m["name"])
    out["platform_members"] = pa.table({
        "platform": ["synth"] * n, "member_id": [str(100000 + i) for i in range(n)], "real_name": m["name"],
        "id_number": m["id"], "phone": m["phone"], "bank_card": m["card"],
        "src_sha256": [sha["platform_members"]] * n, "src_file": ["members.sql"] * n, "src_row": list(range(1, n + 1))})
    c = cols["travel_crossings"]
    n = len(c["name"])
    out["travel_crossings"] = pa.table({
        "person_key": [f"T{i}" for i in range(n)], "id_number": c["id"], "name": c["name"],
        "birth_date": pa.array(c["birth"], pa.date32()), "hukou": c["address"],
        "src_sha256": [sha["travel_crossings"]] * n, "src_file": ["crossings.csv"] * n,
        "src_row": list(range(1, n + 1))})
    return out
