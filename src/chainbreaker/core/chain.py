"""What a chain declares about itself (链条登记): commands, ingest kinds, tables, report and demo parts.

A chain names its faces by reference (``"package.module:attribute"``) instead of importing them,
so the chains layer never imports a face, and ``chainbreaker --help`` imports only what it shows.
``resolve()`` turns a reference into the object; a reference that cannot be imported is an error
that names the chain and the module, never a silently missing command or section.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from chainbreaker.core.errors import ChainbreakerError


class ChainRegistryError(ChainbreakerError):
    """A chain's declared command, report or demo part cannot be loaded (a broken installation)."""


@dataclass(frozen=True)
class IngestKind:
    """One ``chainbreaker ingest KIND`` command: the kind and the command function's reference."""

    kind: str
    command: str
    help_zh: str
    help_en: str


@dataclass(frozen=True)
class ChainSpec:
    """One chain of the platform as the faces see it.

    ``cli`` is the chain's Typer app (``chainbreaker <name> ...``); ``ingest`` its ingest commands;
    ``tables`` the lake tables it owns (writes); ``report_section`` a function
    ``(ws, lang, role) -> dict | None`` for the case report; ``demo_section`` a function
    ``(ws, workdir, lang) -> dict`` for ``chainbreaker demo``. ``None`` means the chain has no such part.
    """

    name: str
    title_zh: str
    title_en: str
    help_zh: str
    cli: str | None = None
    ingest: tuple[IngestKind, ...] = ()
    tables: tuple[str, ...] = ()
    report_section: str | None = None
    demo_section: str | None = None

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en


def resolve(ref: str, chain: str = "") -> Any:
    """The object behind ``"package.module:attribute"``; a clear error if it cannot be loaded."""
    module_name, _, attr = ref.partition(":")
    owner_zh = f"链条 {chain} 的" if chain else ""
    owner_en = f" of chain {chain}" if chain else ""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ChainRegistryError(
            f"无法加载{owner_zh}模块 {module_name}：{type(exc).__name__}: {exc}",
            f"Cannot load module {module_name}{owner_en}: {type(exc).__name__}: {exc}",
            hint="安装不完整或代码有误；请重新安装 chainbreaker（加 --debug 查看调用栈）。"
                 " / The installation is incomplete or broken; reinstall chainbreaker (--debug shows the traceback).",
        ) from exc
    if not attr:
        return module
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ChainRegistryError(
            f"{owner_zh}模块 {module_name} 中没有 {attr}",
            f"Module {module_name}{owner_en} has no attribute {attr}",
        ) from exc
