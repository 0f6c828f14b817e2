"""Personas (访问身份): who the scanner pretends to be when it fetches a page.

Injected gambling content hides from the site's owner: kits show the gambling title only to
search-engine spiders, redirect only visitors who arrive from a search engine, or answer
Googlebot with a 404. Fetching the same URL as several personas and comparing the answers is
what exposes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

SEARCH_REFERER = "https://www.baidu.com/s?wd="


@dataclass(frozen=True)
class Persona:
    """One user agent, with or without a search-engine Referer."""

    name: str
    user_agent: str
    kind: str  # browser | spider
    referer: str | None = None

    @property
    def is_spider(self) -> bool:
        return self.kind == "spider"

    @property
    def has_referer(self) -> bool:
        return self.referer is not None

    @property
    def agent(self) -> str:
        """The persona name without the referer suffix (``baiduspider+ref`` -> ``baiduspider``)."""
        return self.name.split("+", 1)[0]

    def headers(self) -> dict[str, str]:
        h = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6",
            "Accept-Encoding": "gzip, deflate",
        }
        if self.referer:
            h["Referer"] = self.referer
        return h


_AGENTS: list[tuple[str, str, str]] = [
    ("desktop", "browser",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36"),
    ("wechat", "browser",
     "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
     "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 "
     "Weixin NetType/WIFI Language/zh_CN ABI/arm64"),
    ("baiduspider", "spider",
     "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"),
    ("baiduspider-render", "spider",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 9_1 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) "
     "Version/9.0 Mobile/13B143 Safari/601.1 (compatible; Baiduspider-render/2.0; "
     "+http://www.baidu.com/search/spider.html)"),
    ("sogou", "spider",
     "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)"),
    ("360spider", "spider",
     "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0); 360Spider"),
    ("googlebot", "spider",
     "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
]


def search_referer(keyword: str = "澳门新葡京") -> str:
    return SEARCH_REFERER + quote(keyword)


def default_personas(keyword: str = "澳门新葡京") -> list[Persona]:
    """Every agent twice: arriving directly, and arriving from a Baidu search result."""
    out: list[Persona] = []
    ref = search_referer(keyword)
    for name, kind, ua in _AGENTS:
        out.append(Persona(name, ua, kind))
        out.append(Persona(f"{name}+ref", ua, kind, ref))
    return out


def persona_by_name(name: str, personas: list[Persona] | None = None) -> Persona:
    for p in personas or default_personas():
        if p.name == name:
            return p
    raise KeyError(name)


# Regular expression used by injection kits to tell spiders from people (for reference and tests).
SPIDER_UA_PATTERN = r"baiduspider|sogou|360spider|googlebot|bingbot|yisouspider|bytespider"
