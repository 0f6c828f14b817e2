"""Opaque references (不透明引用) for values a role may not see in clear, valid in every worker process.

Search hits and link-chart nodes point at ``r-<token>`` instead of a number the role sees masked;
the dossier route turns the token back into the value. The token is the value under deterministic
authenticated encryption (AES-SIV) with a key kept in the workspace, so any worker process, and
the server after a restart, resolves a reference another one handed out, no process keeps a table
of them, the browser never learns the value, and a forged or altered token is refused.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.services import NotFound

PREFIX = "r-"
KEY_FILE = "web-ref.key"  # under <workspace>/.secrets/, mode 0600
_CONTEXT = [b"chainbreaker.web.ref.v1"]  # associated data: a token of another purpose does not decrypt here


class RefExpired(NotFound):
    """A reference that does not decrypt under this workspace's key (forged, altered or from elsewhere)."""


def workspace_key(ws: Workspace, name: str = KEY_FILE, size: int = 64) -> bytes:
    """The workspace's secret ``name`` (created on first use; every process of one server reads the same).

    Created with ``O_EXCL`` beside its final name and linked into place, so two workers starting at
    once end with one key: the loser of the race reads the winner's.
    """
    folder = ws.root / ".secrets"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        tmp = folder / f".{name}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(size))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = Path(path).read_bytes()
    if len(key) != size:
        raise InputError(f"工作区密钥文件 {path} 已损坏（长度不对）；删除它后重启服务（已发出的引用将失效）。",
                         f"The workspace key file {path} is damaged (wrong length); delete it and restart the "
                         "server (references already handed out stop working).")
    return key


class RefBook:
    """``ref(value)`` → ``r-<token>`` when the role sees ``value`` masked; ``resolve(token)`` → value."""

    def __init__(self, key: bytes) -> None:
        self._siv = AESSIV(key)

    @classmethod
    def for_workspace(cls, ws: Workspace) -> RefBook:
        return cls(workspace_key(ws))

    def ref(self, value: str, role: str, kind: str | None) -> str:
        if mask_text(value, role, kind) == value:
            return value
        token = self._siv.encrypt(value.encode("utf-8"), _CONTEXT)
        return PREFIX + base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def resolve(self, ident: str) -> str:
        if not ident.startswith(PREFIX):
            return ident
        body = ident[len(PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._siv.decrypt(raw, _CONTEXT).decode("utf-8")
        except (ValueError, InvalidTag, UnicodeDecodeError):
            raise RefExpired("该引用无效或已失效，请重新检索。", "This reference is invalid or has expired; search again.") from None
