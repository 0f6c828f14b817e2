"""Vectorised building blocks of the synthetic province: banks, people, account numbers, devices.

Everything here is deterministic given a ``numpy.random.Generator``. Per-entity strings (a few
hundred thousand at most) are built in Python; per-transaction strings never are (see
:func:`digit_strings`, which builds an Arrow string column straight from a byte matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Bank:
    name: str  # 银行全称 as it appears in file names (``{银行全称}交易明细信息.csv``)
    short: str  # code used in branch names / serials
    card_bins: tuple[str, ...]  # 6-digit BINs of its debit cards
    corp_prefix: str  # leading digits of its corporate (对公) account numbers
    corp_len: int
    share: float  # market share among the province's personal accounts
    in_province: bool = True


# Real BINs of the banks' debit cards (public card-BIN tables); corporate account number lengths
# follow what each bank issues (ICBC 19, CCB 20, ABC 17/19, BOC 12, CMB 15, BOCOM 21, PSBC 18).
BANKS: tuple[Bank, ...] = (
    Bank("中国工商银行", "ICBC", ("622202", "621226", "622208"), "2502", 19, 0.21),
    Bank("中国建设银行", "CCB", ("621700", "622700", "436742"), "5305", 20, 0.18),
    Bank("中国农业银行", "ABC", ("622848", "622845", "622841"), "2401", 17, 0.17),
    Bank("中国银行", "BOC", ("621661", "621785", "456351"), "1340", 12, 0.10),
    Bank("招商银行", "CMB", ("621483", "621485", "622588"), "8719", 15, 0.08),
    Bank("交通银行", "BOCOM", ("622262", "622260", "601428"), "5310", 21, 0.07),
    Bank("中国邮政储蓄银行", "PSBC", ("621799", "622188", "621098"), "9530", 18, 0.12),
    Bank("昆明农村商业银行", "KMRCB", ("623190", "622369"), "2000", 20, 0.07),
)
# Out-of-province banks: their accounts are never requested in this province's 调单.
EXTERNAL_BANKS: tuple[Bank, ...] = (
    Bank("广东南粤银行", "GDNY", ("623506",), "9001", 18, 0.4, False),
    Bank("浙江泰隆商业银行", "ZJTL", ("623522",), "3301", 18, 0.3, False),
    Bank("福建海峡银行", "FJHX", ("622399",), "1001", 17, 0.3, False),
)
ALL_BANKS: tuple[Bank, ...] = BANKS + EXTERNAL_BANKS
N_PROVINCE_BANKS = len(BANKS)

# Yunnan county codes (GB/T 2260): residents' 身份证 regions and branch towns.
REGIONS: tuple[tuple[str, str], ...] = (
    ("530102", "昆明市五华区"), ("530103", "昆明市盘龙区"), ("530111", "昆明市官渡区"),
    ("530112", "昆明市西山区"), ("530302", "曲靖市麒麟区"), ("530402", "玉溪市红塔区"),
    ("530502", "保山市隆阳区"), ("532502", "红河州个旧市"), ("532801", "西双版纳州景洪市"),
    ("533102", "德宏州瑞丽市"), ("530602", "昭通市昭阳区"), ("532901", "大理州大理市"),
)
EXTERNAL_REGIONS: tuple[tuple[str, str], ...] = (
    ("440104", "广州市越秀区"), ("350102", "福州市鼓楼区"), ("330106", "杭州市西湖区"),
)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁欣雪梅琳晨思雨佳嘉子轩文博天一鑫婷颖慧志国庆建春海亮云飞龙福贵祥")
COMPANY_WORDS = list("鑫盛恒通达华隆泰丰源宏远昌瑞祥兴宇辰创新")
COMPANY_KINDS = ("商贸有限公司", "建筑工程有限公司", "物流有限公司", "餐饮管理有限公司", "科技有限公司",
                 "农业开发有限公司", "酒店管理有限公司", "汽车服务有限公司")
SHOP_KINDS = ("便利店", "水果店", "烧烤店", "米线店", "五金店", "理发店", "药店", "超市", "茶叶店", "服装店")

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """``values`` (non-negative ints) as a ``(n, width)`` uint8 matrix of ASCII digits."""
    v = values.astype(np.uint64, copy=True)
    out = np.empty((len(v), width), dtype=np.uint8)
    for j in range(width - 1, -1, -1):
        out[:, j] = (v % np.uint64(10)).astype(np.uint8) + 48
        v //= np.uint64(10)
    return out


def byte_rows_to_strings(rows: np.ndarray) -> pa.StringArray:
    """A ``(n, w)`` uint8 matrix of ASCII bytes as an Arrow string array of fixed-width rows."""
    n, w = rows.shape
    offsets = (np.arange(n + 1, dtype=np.int64) * w)
    if offsets[-1] < 2**31:
        offsets_buf = pa.py_buffer(offsets.astype(np.int32))
        typ = pa.string()
    else:
        offsets_buf = pa.py_buffer(offsets)
        typ = pa.large_string()
    arr = pa.Array.from_buffers(typ, n, [None, offsets_buf, pa.py_buffer(np.ascontiguousarray(rows).tobytes())])
    return arr.cast(pa.string()) if typ != pa.string() else arr


def digit_strings(values: np.ndarray, width: int, prefix: str = "") -> pa.StringArray:
    """``prefix`` + zero-padded decimal of each value, built without a per-row Python loop."""
    digits = digit_matrix(values, width)
    if prefix:
        head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
        digits = np.hstack([np.broadcast_to(head, (len(values), len(head))), digits])
    return byte_rows_to_strings(digits)


def luhn_complete(body: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of a digit matrix (values 0–9)."""
    n, w = body.shape
    d = body[:, ::-1].astype(np.int64)
    # Positions 0, 2, 4... from the right of the body are doubled (the check digit goes right).
    doubled = d[:, 0::2] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + d[:, 1::2].sum(axis=1)
    check = (10 - total % 10) % 10
    return np.hstack([body, check[:, None]])


def card_numbers(rng: np.random.Generator, bins: list[str], length: int = 19) -> list[str]:
    """Debit card numbers with real BINs and a valid Luhn digit."""
    n = len(bins)
    if n == 0:
        return []
    bin_digits = np.array([[int(c) for c in b] for b in bins], dtype=np.int64)
    rest = rng.integers(0, 10, size=(n, length - 7))
    body = np.hstack([bin_digits, rest])
    full = luhn_complete(body)
    return ["".join(map(str, row)) for row in full.tolist()]


def corporate_numbers(rng: np.random.Generator, banks: list[Bank]) -> list[str]:
    out = []
    for bank in banks:
        rest = bank.corp_len - len(bank.corp_prefix)
        out.append(bank.corp_prefix + "".join(map(str, rng.integers(0, 10, size=rest))))
    return out


def resident_ids(rng: np.random.Generator, n: int, regions: tuple[tuple[str, str], ...] = REGIONS) -> list[str]:
    """18-digit PRC resident IDs with a valid GB 11643 check digit and a real birth date."""
    if n == 0:
        return []
    region_idx = rng.integers(0, len(regions), size=n)
    birth = np.datetime64("1960-01-01") + rng.integers(0, 365 * 45, size=n).astype("timedelta64[D]")
    births = birth.astype("datetime64[D]").astype(str)
    seq = rng.integers(0, 1000, size=n)
    bodies = [regions[r][0] + b.replace("-", "") + f"{s:03d}" for r, b, s in zip(region_idx, births, seq, strict=True)]
    digits = np.array([[int(c) for c in b] for b in bodies], dtype=np.int64)
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    return [b + chr(c) for b, c in zip(bodies, check, strict=True)]


def person_names(rng: np.random.Generator, n: int, surnames: np.ndarray | None = None) -> list[str]:
    if surnames is None:
        surnames = rng.integers(0, len(SURNAMES), size=n)
    g1 = rng.integers(0, len(GIVEN), size=n)
    g2 = rng.integers(0, len(GIVEN), size=n)
    two = rng.random(n) < 0.3
    return [SURNAMES[s] + GIVEN[a] + ("" if t else GIVEN[b]) for s, a, b, t in zip(surnames, g1, g2, two, strict=True)]


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = ("138", "139", "137", "150", "151", "158", "187", "188", "133", "153", "180", "189", "130", "186", "199")
    p = rng.integers(0, len(prefixes), size=n)
    rest = rng.integers(0, 10**8, size=n)
    return [prefixes[a] + f"{b:08d}" for a, b in zip(p, rest, strict=True)]


# Yunnan telecom/unicom/mobile ranges for home devices; overseas ranges for card-pool studios.
_HOME_NETS = ((112, 112), (116, 52), (116, 53), (222, 172), (182, 247), (220, 163), (39, 128), (14, 204))
_STUDIO_NETS = ((103, 85), (45, 119), (103, 216), (202, 58), (180, 178))


def ip_addresses(rng: np.random.Generator, n: int, studio: bool = False) -> list[str]:
    nets = _STUDIO_NETS if studio else _HOME_NETS
    k = rng.integers(0, len(nets), size=n)
    c = rng.integers(0, 256, size=n)
    d = rng.integers(1, 255, size=n)
    return [f"{nets[a][0]}.{nets[a][1]}.{b}.{e}" for a, b, e in zip(k, c, d, strict=True)]


def mac_addresses(rng: np.random.Generator, n: int) -> list[str]:
    octets = rng.integers(0, 256, size=(n, 6))
    octets[:, 0] = (octets[:, 0] & 0xFC) | 0x00  # unicast, globally administered
    return [":".join(f"{o:02X}" for o in row) for row in octets.tolist()]


def company_names(rng: np.random.Generator, n: int, region_names: list[str]) -> list[str]:
    w = rng.integers(0, len(COMPANY_WORDS), size=(n, 2))
    k = rng.integers(0, len(COMPANY_KINDS), size=n)
    r = rng.integers(0, len(region_names), size=n)
    return [f"{region_names[c][:2]}{COMPANY_WORDS[a]}{COMPANY_WORDS[b]}{COMPANY_KINDS[d]}"
            for (a, b), d, c in zip(w.tolist(), k, r, strict=True)]


def branch_names(bank: Bank, region: str) -> str:
    return f"{bank.name}{region}支行"
