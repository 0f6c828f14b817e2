"""Indicators on pages, and bank cards found on a gambling page becoming accounts the funds chain sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from chainbreaker.chains.tech.indicators import extract_indicators
from chainbreaker.core.model.identifiers import BankCard
from chainbreaker.core.model.schemas import ACCOUNTS, TRANSACTIONS
from chainbreaker.intel.link import link_in

CARD = "6222021234567890128"  # Luhn-valid ICBC-style number written for this test
TRON = "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"

PAYMENT_PAGE = f"""<html><head><title>大发彩票 充值中心</title>
<script src="https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef"></script>
<script src="https://s96.cnzz.com/z_stat.php?id=1280012345&web_id=1280012345"></script>
<script src="//js.users.51.la/21234567.js"></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-AB12CD34EF"></script>
<script src="http://cdn.jsloader-xpj.com/ad/g.js"></script>
<script src="/static/jquery-1.12.4.1.js"></script>
<script>OneSignal.init({{ appId: "5eb5a37e-b458-11e3-ac11-000c2940e62c" }});</script>
</head><body>
<div class="bank">收款人：王小明 开户行：中国工商银行 卡号：6222 0212 3456 7890 128</div>
<p>USDT(TRC20) 充值地址 {TRON}</p>
<p>客服 QQ: 2851234567 微信: dafa_kf888 飞机 @dafa_kefu8 客服电话 138-1234-5678 备用线路 103.45.67.89 内网 192.168.1.10</p>
<a href="https://t.me/dafa_vip_group">Telegram 群</a> <a href="tencent://message/?uin=3012345678">QQ 客服</a>
<a href="/download/dafa_v2.apk">安卓下载</a>
<a href="itms-services://?action=download-manifest&url=https://dl.qlx7305-pay.com/m.plist">iOS 下载</a>
</body></html>"""


def _kinds(indicators):
    out: dict[str, set[str]] = {}
    for ind in indicators:
        out.setdefault(ind.kind, set()).add(ind.value)
    return out


def test_extracts_payment_contact_tracker_and_infrastructure_indicators():
    found = _kinds(extract_indicators(PAYMENT_PAGE, "", "https://www.qlx7305-pay.com/pay/index.html"))
    assert found["bank_card"] == {CARD}
    assert found["payee_name"] == {"王小明"}
    assert found["crypto_tron"] == {TRON}
    assert found["qq"] == {"2851234567", "3012345678"}
    assert found["wechat"] == {"dafa_kf888"}
    assert found["telegram"] == {"dafa_kefu8", "dafa_vip_group"}
    assert found["phone"] == {"13812345678"}
    assert found["analytics_baidu"] == {"0123456789abcdef0123456789abcdef"}
    assert found["analytics_cnzz"] == {"1280012345"}
    assert found["analytics_51la"] == {"21234567"}
    assert found["analytics_google"] == {"G-AB12CD34EF"}
    assert found["push_key"] == {"5eb5a37e-b458-11e3-ac11-000c2940e62c"}
    assert "https://www.qlx7305-pay.com/download/dafa_v2.apk" in found["app_download"]
    assert any(v.startswith("itms-services://") for v in found["app_download"])
    assert "cdn.jsloader-xpj.com" in found["loader_host"]
    # Only public IPs; a jQuery version string is no IP; the page's own host is no loader host.
    assert found["ip"] == {"103.45.67.89"}
    assert "www.qlx7305-pay.com" not in found["loader_host"]


def test_context_and_cleaning_match_the_identifier_classes():
    inds = extract_indicators(PAYMENT_PAGE, "", "https://www.qlx7305-pay.com/")
    card = next(i for i in inds if i.kind == "bank_card")
    assert BankCard.clean(card.value) == card.value and "卡号" in card.context


def test_honest_page_has_no_payment_indicators(pages):
    found = _kinds(extract_indicators(pages["honest_welfare_lottery"], "", "https://www.cwl.gov.cn/"))
    assert not {"bank_card", "crypto_tron", "qq", "wechat", "telegram"} & set(found)


def _scan_rows(url: str, sha: str) -> pa.Table:
    rows = [{"host": "www.qlx7305-pay.com", "url": url, "persona": "desktop", "kind": i.kind, "value": i.value,
             "context": i.context, "capture_sha256": sha} for i in extract_indicators(PAYMENT_PAGE, "", url)]
    return pa.Table.from_pylist(rows)


def test_bank_card_on_gambling_page_is_visible_to_the_funds_chain(ws):
    url = "https://www.qlx7305-pay.com/pay/index.html"
    sha = ws.store_evidence_bytes(PAYMENT_PAGE.encode())
    ts = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    # Bank-side data first: the player's card paid into the card the page shows, plus an account of another origin.
    with ws.transaction("test.bank") as tx:
        tx.write("transactions", pa.Table.from_pylist([{
            "txn_id": "t1", "from_account": "6217001234567890", "to_account": CARD, "from_name": "赵六",
            "to_name": "王小明", "amount": Decimal("5000.00"), "currency": "CNY", "ts": ts, "requested_side": "from",
        }], schema=TRANSACTIONS))
        tx.write("accounts", pa.Table.from_pylist([{"account": "6217001234567890", "holder_name": "赵六",
                                                     "requested": True, "origin": "bank"}], schema=ACCOUNTS))
    with ws.transaction("test.scan") as tx:
        tx.write("tech_indicators", _scan_rows(url, sha))
        assert link_in(tx).accounts == {"web_indicator": 2}  # the card and the TRON address
    # A funds-side query: money sent to accounts that were found on gambling pages.
    con = ws.duck()
    rows = con.sql("""SELECT t.from_account, t.to_account, t.amount, a.holder_name, a.requested, a.src_sha256
                      FROM transactions t JOIN accounts a ON a.account = t.to_account
                      WHERE a.origin = 'web_indicator'""").fetchall()
    assert rows == [("6217001234567890", CARD, Decimal("5000.00"), "王小明", False, sha)]
    origins = dict(con.sql("SELECT origin, count(*) FROM accounts GROUP BY origin").fetchall())
    assert origins == {"bank": 1, "web_indicator": 2}  # the bank row is kept
    bank_of_card = con.sql(f"SELECT bank FROM accounts WHERE account = '{CARD}'").fetchall()[0][0]
    assert bank_of_card == BankCard.issuer(CARD)
    con.close()
    # Linking again changes nothing.
    before = ws.read_arrow("accounts")
    with ws.transaction("test.scan2") as tx:
        assert link_in(tx).accounts == {"web_indicator": 2}
    assert ws.read_arrow("accounts").equals(before)


def test_card_on_an_honest_page_does_not_become_an_account(ws):
    """A card quoted on a page not classified as gambling (e.g. a police notice) is not linked."""
    gambling_url, honest_url = "https://www.qlx7305-pay.com/pay/index.html", "https://police.example.gov.cn/notice"
    gambling_sha = ws.store_evidence_bytes(PAYMENT_PAGE.encode())
    honest_sha = ws.store_evidence_bytes(b"notice")
    pages = pa.Table.from_pylist([
        {"url": gambling_url, "capture_sha256": gambling_sha, "is_gambling": True},
        {"url": honest_url, "capture_sha256": honest_sha, "is_gambling": False},
    ])
    with ws.transaction("test.scan") as tx:
        tx.write("tech_pages", pages)
        rows = pa.concat_tables([_scan_rows(gambling_url, gambling_sha), _scan_rows(honest_url, honest_sha)])
        tx.write("tech_indicators", rows)
        assert link_in(tx).accounts == {"web_indicator": 2}
    linked = ws.duck().sql("SELECT DISTINCT src_sha256 FROM accounts WHERE origin = 'web_indicator'").fetchall()
    assert linked == [(gambling_sha,)]


def test_link_without_indicators_is_a_no_op(ws):
    with ws.transaction("test.none") as tx:
        assert link_in(tx).accounts == {}
    assert not ws.has_table("accounts")


def test_loader_hosts_on_a_page_served_by_ip_address():
    html = ("<html><head><script src='http://cdn.tj-xpj8866.test/tj.js'></script>"
            "<script src='/local.js'></script><iframe src='//vip.hg0088.com/x.html'></iframe></head></html>")
    found = _kinds(extract_indicators(html, "", "http://127.0.0.1:8080/index.html"))
    assert found["loader_host"] == {"cdn.tj-xpj8866.test", "vip.hg0088.com"}
