"""Indicators on web pages (网页线索): payment channels, contacts, trackers and infrastructure.

``extract_indicators(html, text, base_url)`` returns typed, cleaned values with a short context:
bank cards and payee names, crypto addresses (TRON/USDT, Ethereum, Bitcoin), Telegram, QQ,
WeChat, mobile numbers, e-mail, APK/IPA/enterprise-profile downloads, analytics ids (Baidu Tongji,
CNZZ, 51.la, Google Analytics/gtag/GTM), push-service keys, hosts of external scripts/iframes
(loader hosts) and public IP addresses. Cleaning and validation come from
:mod:`chainbreaker.core.model.identifiers`, the same classes the bank ingest uses, so a card on a page
and the same card in a 调单 statement get the same key.

The bank cards and crypto addresses (:data:`ACCOUNT_KINDS`) reach the funds chain's ``accounts``
through :mod:`chainbreaker.intel.web_accounts` (``chainbreaker intel link``), never from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from chainbreaker.core.model.identifiers import (
    QQ,
    URL,
    BankCard,
    CryptoAddress,
    Domain,
    Email,
    IPAddress,
    Mobile,
    Telegram,
    WeChat,
)

# Kinds that are payment channels: they become accounts visible to the funds chain.
ACCOUNT_KINDS = ("bank_card", "crypto_tron", "crypto_ethereum", "crypto_bitcoin")
_CONTEXT = 30
_MAX_SCAN = 2_000_000  # characters of HTML scanned per page (bounded time on hostile pages)


@dataclass(frozen=True)
class Indicator:
    kind: str
    value: str
    context: str


_PAYEE = re.compile(r"(?:收款人|收款户名|收款姓名|收款人姓名|开户名|户名|账户名|持卡人)\s*[:：]?\s*([\u4e00-\u9fa5·]{2,6}?)(?=[\s,，;；。、|<(（]|开户|银行|卡号|$)")
_CARD_LABELLED = re.compile(r"(?:卡号|银行卡号|收款卡号|收款账号|账号)\s*[:：]?\s*(\d[\d\s-]{11,24}\d)")
_BAIDU = re.compile(r"hm\.baidu\.com/hm\.js\?([0-9a-f]{32})", re.I)
_CNZZ = re.compile(r"(?:cnzz\.com/(?:z_stat\.php|stat\.php|core)\?[^\"'\s]*?(?:id|web_id)=(\d{5,12})|CNZZ_DATA_(\d{5,12}))", re.I)
_LA51 = re.compile(r"(?:js\.users\.51\.la/(\d{5,12})\.js|LA\.init\(\s*\{\s*id\s*:\s*[\"']([A-Za-z0-9]{8,32})[\"'])", re.I)
_GOOGLE = re.compile(r"(?<![A-Za-z0-9])(UA-\d{4,10}-\d{1,4}|G-[A-Z0-9]{8,12}|GTM-[A-Z0-9]{5,8})(?![A-Za-z0-9])")
_PUSH = re.compile(
    r"(?:OneSignal[\s\S]{0,80}?appId|jpush[\s\S]{0,80}?app_?key|getui[\s\S]{0,80}?app_?(?:id|key)|"
    r"push_?key|pushKey)\s*[\"']?\s*[:=]\s*[\"']([A-Za-z0-9-]{16,40})[\"']", re.I)
_APP = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+?\.(?:apk|ipa|mobileconfig)(?:\?[^"']*)?)["']|(itms-services://[^"'\s<>]+)""", re.I)
_QQ_LINK = re.compile(r"(?:tencent://message/\?uin=|wpa\.qq\.com/msgrd\?[^\"'\s]*?uin=)(\d{5,11})", re.I)
_SRC = re.compile(r"""<(?:script|iframe|frame|embed)\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I)


def _context(text: str, start: int, end: int) -> str:
    return re.sub(r"\s+", " ", text[max(0, start - _CONTEXT):end + _CONTEXT]).strip()


def _visible_text(html: str) -> str:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, template"):
        node.decompose()
    return tree.body.text(separator=" ", strip=True) if tree.body else ""


def extract_indicators(html: str, text: str, base_url: str) -> list[Indicator]:
    """Indicators in a page. ``text`` is the visible text (taken from ``html`` when empty)."""
    html = (html or "")[:_MAX_SCAN]
    text = (text or _visible_text(html))[:_MAX_SCAN]
    base_host = (urlsplit(base_url).hostname or "").lower()
    # Cheap substring checks decide which of the costlier patterns can match at all.
    low = html.lower() + "\n" + text.lower()

    def maybe(*needles: str) -> bool:
        return any(n in low for n in needles)
    out: dict[tuple[str, str], Indicator] = {}

    def add(kind: str, value: str | None, source: str, start: int, end: int) -> None:
        if value and (kind, value) not in out:
            out[(kind, value)] = Indicator(kind, value, _context(source, start, end))

    # Payment channels.
    for m in BankCard.PATTERN.finditer(text):
        for card in BankCard.find_all(m.group(0)):
            add("bank_card", card, text, m.start(), m.end())
    for m in _CARD_LABELLED.finditer(text):
        labelled = BankCard.clean(re.sub(r"[\s-]", "", m.group(1)))
        if labelled and BankCard.validate(labelled)[0]:
            add("bank_card", labelled, text, m.start(), m.end())
    for m in _PAYEE.finditer(text):
        add("payee_name", m.group(1), text, m.start(), m.end())
    for source in (text, html):
        for m in CryptoAddress.PATTERN.finditer(source):
            value = CryptoAddress.clean(m.group(1))
            if value:
                add(f"crypto_{CryptoAddress.kind(value)}", value, source, m.start(), m.end())
    # Contacts.
    for source in (text, html) if maybe("t.me/", "telegram", "飞机", "tg") else ():
        for m in Telegram.PATTERN.finditer(source):
            add("telegram", Telegram.clean(m.group(1) or m.group(2)), source, m.start(), m.end())
    for m in QQ.PATTERN.finditer(text):
        add("qq", QQ.clean(m.group(1)), text, m.start(), m.end())
    for m in _QQ_LINK.finditer(html) if maybe("uin=") else ():
        add("qq", QQ.clean(m.group(1)), html, m.start(), m.end())
    for m in WeChat.PATTERN.finditer(text):
        add("wechat", WeChat.clean(m.group(1)), text, m.start(), m.end())
    for m in Mobile.PATTERN.finditer(text):
        add("phone", Mobile.clean(m.group(1)), text, m.start(), m.end())
    for m in Email.PATTERN.finditer(text) if "@" in text else ():
        add("email", Email.clean(m.group(1)), text, m.start(), m.end())
    # Apps, trackers, push services.
    for m in _APP.finditer(html) if maybe(".apk", ".ipa", "itms-services", ".mobileconfig") else ():
        link = m.group(1) or m.group(2)
        add("app_download", link if link.startswith("itms-services") else urljoin(base_url, link), html, m.start(), m.end())
    for m in _BAIDU.finditer(html) if maybe("hm.baidu.com") else ():
        add("analytics_baidu", m.group(1).lower(), html, m.start(), m.end())
    for m in _CNZZ.finditer(html) if maybe("cnzz") else ():
        add("analytics_cnzz", m.group(1) or m.group(2), html, m.start(), m.end())
    for m in _LA51.finditer(html) if maybe("51.la", "la.init") else ():
        add("analytics_51la", m.group(1) or m.group(2), html, m.start(), m.end())
    for m in _GOOGLE.finditer(html) if maybe("ua-", "g-", "gtm-") else ():
        add("analytics_google", m.group(1), html, m.start(), m.end())
    for m in _PUSH.finditer(html) if maybe("onesignal", "jpush", "getui", "pushkey", "push_key") else ():
        add("push_key", m.group(1), html, m.start(), m.end())
    # Infrastructure: hosts other than the page's own that serve scripts/frames, and public IPs.
    for m in _SRC.finditer(html):
        url = urljoin(base_url, m.group(1).strip())
        host = URL.host(url) if url.lower().startswith(("http://", "https://")) else None
        if host and host != base_host and (Domain.registrable(host) or host) != (Domain.registrable(base_host) or base_host):
            add("loader_host", host, html, m.start(), m.end())
    for source in (text, html):
        for m in IPAddress.PATTERN.finditer(source):
            ip = IPAddress.clean(m.group(1))
            if ip and IPAddress.is_public(ip) and not _looks_like_version(source, m.start(), m.end()):
                add("ip", ip, source, m.start(), m.end())
    return list(out.values())


def _looks_like_version(source: str, start: int, end: int) -> bool:
    """``jquery-1.12.4.1.js`` or ``v2.3.4.5`` are versions, not IP addresses."""
    before, after = source[max(0, start - 2):start], source[end:end + 3]
    return bool(re.search(r"[vV\-_@]$", before) or re.match(r"\.(?:js|css|min)", after))
