"""Names of the tech chain's rules (规则名称) in Chinese and English, for every face that lists findings."""

from __future__ import annotations

RULE_NAMES: dict[str, tuple[str, str]] = {
    "inject.title_spider": ("标题劫持（蜘蛛专属或注入的标题）", "title hijack (for spiders, or injected)"),
    "inject.loader_script": ("混淆加载脚本", "obfuscated loader script"),
    "inject.referrer_redirect": ("搜索来源跳转劫持", "search-referrer redirect"),
    "inject.hidden_links": ("隐藏暗链", "hidden links"),
    "cloak.ua": ("按访问身份伪装（Cloaking）", "cloaking by user agent"),
    "inject.parasite": ("寄生页面（泛目录）", "parasite doorway pages"),
    "cloak.fake_error": ("伪造浏览器错误页", "fake browser error page"),
    "gambling.site": ("赌博网站", "gambling site"),
}
