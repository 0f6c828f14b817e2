"""Tip attachments (举报附件): what may come in, judged by content, never by name.

Accepted: photos (JPEG, PNG, GIF, WebP), PDF, MP4 video, plain text, and ZIP archives whose
directory looks safe. Refused, each with a Chinese and an English reason: files over the size limit
(read no further than the limit), types not on the list (programs, scripts, Office files with
macros …), HTML/SVG/XML or text with script (active content), an extension that does not match the
content, and ZIP archives with too many members, a total or ratio typical of a zip bomb, names that
climb out of a folder, or active or executable members. Archives are never unpacked, so a forged
size in their directory cannot hurt. An accepted file is stored unchanged in the evidence store
under its SHA-256, with no extension and not executable; its name is kept only as cleaned display
text (folders, control and bidi characters removed) and never used as a path.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
ZIP_MAX_MEMBERS = 200
ZIP_MAX_TOTAL = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100
NAME_LIMIT = 120

EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), "image/gif": (".gif",), "image/webp": (".webp",),
    "application/pdf": (".pdf",), "video/mp4": (".mp4", ".m4v", ".mov"), "text/plain": (".txt", ".text", ""),
    "application/zip": (".zip",),
}
ACTIVE_MARKERS = re.compile(rb"<\s*(?:script|html|!doctype|svg|iframe|object|embed|body|meta)\b|javascript:|<\?xml",
                            re.IGNORECASE)
RISKY_MEMBER = re.compile(r"\.(?:html?|xhtml|svg|js|mjs|vbs|wsf|hta|exe|dll|scr|com|bat|cmd|ps1|sh|jar|apk|msi|lnk|"
                          r"docm|xlsm|pptm|zip|rar|7z)$", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

REASONS = {
    "too_large": ("文件超过大小上限（{limit} MB），未接收。", "The file is over the size limit ({limit} MB); not accepted."),
    "empty": ("文件为空，未接收。", "The file is empty; not accepted."),
    "type_not_allowed": ("文件类型不在允许范围内（仅接收图片、PDF、MP4 视频、纯文本、ZIP 压缩包），未接收。",
                         "File type not allowed (photos, PDF, MP4 video, plain text and ZIP only); not accepted."),
    "active_content": ("文件含网页或脚本内容，可能被执行，未接收；请截图后上传。",
                       "The file holds web page or script content that could run; not accepted. Send a screenshot."),
    "extension_mismatch": ("文件扩展名与实际内容不符（内容为 {media}），未接收；请按实际类型命名后重新上传。",
                           "The file's extension does not match its content ({media}); not accepted. Rename it and resend."),
    "zip_bomb": ("压缩包解压后过大或压缩比异常（疑似“压缩炸弹”），未接收。",
                 "The archive would expand far too much (a likely zip bomb); not accepted."),
    "zip_unsafe": ("压缩包内含越出目录的路径、可执行文件或网页脚本，未接收。",
                   "The archive holds paths leaving its folder, programs or web scripts; not accepted."),
    "zip_damaged": ("压缩包已损坏或加密，无法检查，未接收。", "The archive is damaged or encrypted and cannot be checked; not accepted."),
    "name_cleaned": ("文件名含路径或不可见字符，已清理后保存（文件按内容哈希存放，不使用原名）。",
                     "The file name held folders or invisible characters; it was cleaned (files are stored by hash, never by name)."),
}


@dataclass
class AttachmentCheck:
    name: str  # cleaned display name
    size: int
    media_type: str | None
    reason: str | None  # None: accepted
    name_cleaned: bool
    data: bytes | None = None  # the content when accepted

    @property
    def accepted(self) -> bool:
        return self.reason is None

    def message(self, lang: str = "zh") -> str:
        parts = []
        if self.reason:
            zh, en = REASONS[self.reason]
            parts.append((zh if lang == "zh" else en).format(limit=MAX_BYTES // (1024 * 1024), media=self.media_type))
        if self.name_cleaned:
            parts.append(REASONS["name_cleaned"][0 if lang == "zh" else 1])
        return " ".join(parts) or ("已接收。" if lang == "zh" else "Accepted.")


def clean_name(raw: str) -> str:
    """The last path part, without control or bidi characters (``photo\u202egpj.exe`` tricks), shortened."""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", raw))[-1]
    name = _INVISIBLE.sub("", name).strip().lstrip(".") or "附件"
    if len(name) > NAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: NAME_LIMIT - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else name[:NAME_LIMIT]
    return name


def sniff(data: bytes) -> str | None:
    """The media type from the first bytes (and, for text, from all of it); None when not allowed."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    if b"\x00" not in data:
        for enc in ("utf-8", "gb18030"):
            try:
                data.decode(enc)
            except UnicodeDecodeError:
                continue
            return "text/html" if ACTIVE_MARKERS.search(data) else "text/plain"
    return None


def _zip_problem(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "zip_damaged"
    if len(infos) > ZIP_MAX_MEMBERS:
        return "zip_bomb"
    total = sum(i.file_size for i in infos)
    if total > ZIP_MAX_TOTAL:
        return "zip_bomb"
    for i in infos:
        if i.flag_bits & 0x1:
            return "zip_damaged"  # encrypted: its content cannot be checked
        if i.file_size > ZIP_MAX_RATIO * max(i.compress_size, 1) and i.file_size > 1024 * 1024:
            return "zip_bomb"
        parts = re.split(r"[\\/]", i.filename)
        if i.filename.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", i.filename):
            return "zip_unsafe"
        if RISKY_MEMBER.search(i.filename.rstrip("/")):
            return "zip_unsafe"
    return None


def check_attachment(path: Path, *, display_name: str | None = None, max_bytes: int = MAX_BYTES) -> AttachmentCheck:
    """Judge one file; reads at most ``max_bytes + 1`` bytes of it."""
    raw_name = display_name or path.name
    name = clean_name(raw_name)
    cleaned = name != raw_name
    size = path.stat().st_size
    if size > max_bytes:
        return AttachmentCheck(name, size, None, "too_large", cleaned)
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we looked
        return AttachmentCheck(name, len(data), None, "too_large", cleaned)
    if not data:
        return AttachmentCheck(name, 0, None, "empty", cleaned)
    media = sniff(data)
    if media is None:
        return AttachmentCheck(name, len(data), None, "type_not_allowed", cleaned)
    if media == "text/html":
        return AttachmentCheck(name, len(data), media, "active_content", cleaned)
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS[media]:
        return AttachmentCheck(name, len(data), media, "extension_mismatch", cleaned)
    if media == "application/zip":
        problem = _zip_problem(data)
        if problem:
            return AttachmentCheck(name, len(data), media, problem, cleaned)
    return AttachmentCheck(name, len(data), media, None, cleaned, data)
