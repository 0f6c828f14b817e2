"""Links hidden by CSS or script (暗链隐藏手法): the techniques and the blocks they hide.

Inline styles, simple ``.class``/``#id`` rules in ``<style>``, ``<marquee>`` tricks and blocks a
script hides by id. What a browser lays out invisibly whatever the CSS is found by
:mod:`chainbreaker.chains.tech.render` instead.
"""

from __future__ import annotations

import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from chainbreaker.chains.tech.fetch import host_of, safe_join

# ------------------------------------------------------------------------------ hidden CSS
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_PX = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(px|em|rem|pt|%)?\s*(?:!important)?\s*$")
_NAMED = {"white": "#ffffff", "black": "#000000", "red": "#ff0000", "#fff": "#ffffff", "#000": "#000000"}
STRONG_TECHNIQUES = {"offscreen", "text_indent", "zero_size", "font_size_0", "same_color", "overflow_1px", "marquee",
                     "js_hide", "opacity_0"}


def parse_decls(style: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in style.split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip().lower()] = v.strip().lower().replace("!important", "").strip()
    return out


def _px(value: str | None) -> float | None:
    if value is None:
        return None
    m = _PX.match(value)
    if not m:
        return None
    num = float(m.group(1))
    unit = m.group(2) or "px"
    return num * 16 if unit in ("em", "rem") else num if unit != "%" else None


def _colour(value: str | None) -> str | None:
    if not value:
        return None
    v = value.split()[0] if value.split() else value
    v = _NAMED.get(v, v)
    if re.fullmatch(r"#[0-9a-f]{3}", v):
        v = "#" + "".join(c * 2 for c in v[1:])
    return v


def hiding_technique(decls: dict[str, str], tag: str = "", attrs: dict[str, str | None] | None = None) -> str | None:
    """The CSS technique that makes an element invisible, or None."""
    attrs = attrs or {}
    if tag == "marquee":
        h, w = _px(attrs.get("height") or decls.get("height")), _px(attrs.get("width") or decls.get("width"))
        amount = _px(attrs.get("scrollamount")) or 0
        if (h is not None and h <= 5) or (w is not None and w <= 5) or amount >= 200:
            return "marquee"
    if "hidden" in attrs or decls.get("display") == "none":
        return "display_none"
    if decls.get("visibility") in ("hidden", "collapse"):
        return "visibility_hidden"
    if _px(decls.get("opacity")) == 0:
        return "opacity_0"
    if _px(decls.get("font-size")) == 0:
        return "font_size_0"
    if decls.get("position") in ("absolute", "fixed") and any(
            (_px(decls.get(side)) or 0) <= -500 for side in ("left", "top", "right", "bottom")):
        return "offscreen"
    if (_px(decls.get("text-indent")) or 0) <= -500:
        return "text_indent"
    overflow = decls.get("overflow", "") == "hidden"
    w, h = _px(decls.get("width")), _px(decls.get("height"))
    if overflow and (w == 0 or h == 0):
        return "zero_size"
    if overflow and ((w is not None and w <= 1) or (h is not None and h <= 1)):
        return "overflow_1px"
    fg = _colour(decls.get("color"))
    bg = _colour(decls.get("background-color") or decls.get("background"))
    if fg and bg and fg == bg:
        return "same_color"
    return None


def _css_rules(tree: LexborHTMLParser) -> list[tuple[str, dict[str, str]]]:
    rules: list[tuple[str, dict[str, str]]] = []
    for node in tree.css("style")[:50]:
        css = re.sub(r"/\*.*?\*/", "", node.text() or "", flags=re.S)[:200_000]
        for sel_text, body in _CSS_RULE.findall(css):
            decls = parse_decls(body)
            if hiding_technique(decls) is None:
                continue
            for sel in sel_text.split(","):
                sel = sel.strip()
                if re.fullmatch(r"[\w-]*[.#][\w-]+", sel):
                    rules.append((sel, decls))
    return rules


def find_hidden_blocks(tree: LexborHTMLParser, base: str, hidden_ids: list[str], *, source: str = "html",
                       remove: bool = False) -> list[dict[str, Any]]:
    """Blocks hidden by CSS (inline, <style> rules, marquee) or by script, with the links inside."""
    candidates: list[tuple[Any, str]] = []
    for node in tree.css("[style], marquee, [hidden]")[:5000]:
        tech = hiding_technique(parse_decls(node.attributes.get("style") or ""), node.tag or "", node.attributes)
        if tech:
            candidates.append((node, tech))
    for sel, decls in _css_rules(tree):
        tech = hiding_technique(decls)
        for node in tree.css(sel)[:500]:
            candidates.append((node, tech or "css"))
    for ident in hidden_ids:
        target = tree.css_first(f"#{ident}") if re.fullmatch(r"[\w-]+", ident) else None
        if target is not None:
            candidates.append((target, "js_hide"))
    host = host_of(base)
    blocks: list[dict[str, Any]] = []
    for node, tech in candidates:
        links = []
        seen: set[tuple[str, str]] = set()
        for a in node.css("a[href]")[:200]:
            href = safe_join(base, (a.attributes.get("href") or "").strip())
            if not href:
                continue
            text = " ".join((a.text() or "").split())[:80]
            if (href, text) in seen:
                continue
            seen.add((href, text))
            links.append({"href": href, "text": text, "host": host_of(href)})
        if not links:
            continue
        offsite = [ln for ln in links if ln["host"] and ln["host"] != host and ln["href"].startswith("http")]
        blocks.append({"technique": tech, "source": source, "links": links, "offsite": len(offsite),
                       "hosts": sorted({ln["host"] for ln in offsite})})
    if remove:
        for node, _tech in candidates:
            node.decompose()
    return blocks


__all__ = ["STRONG_TECHNIQUES", "find_hidden_blocks", "hiding_technique", "parse_decls"]
