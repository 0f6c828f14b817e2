"""Intel outputs as a role may see them: personal values masked by kind, written via ``output_file``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from chainbreaker.core.exports import output_file
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.timefmt import configured_zone

# entity type -> kind of personal data its key is
ENTITY_KIND = {"person": "id_number", "account": "card", "phone": "phone"}
_KEY_KIND = {"label": None, "holder_name": "name", "name": "name", "real_name": "name"}


def mask_doc(value: Any, role: str, kind: str | None = None) -> Any:
    """Every string in a JSON-like document as ``role`` may see it (identifiers inside text masked too).

    A dict with ``type`` ``person`` has its ``label`` masked as a name.
    """
    if isinstance(value, dict):
        label_kind = "name" if value.get("type") == "person" else None
        return {k: mask_doc(v, role, label_kind if k == "label" else _KEY_KIND.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_doc(v, role, kind) for v in value]
    if isinstance(value, str):
        return mask_text(value, role, kind)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(configured_zone()).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(ws: Any, doc: dict[str, Any], out: Path | str, action: str, role: str, default_name: str,
               **detail: Any) -> Path:
    """Mask ``doc`` for ``role`` and write it as JSON (times in Asia/Shanghai); audited."""
    shown = mask_doc(doc, role)
    with output_file(ws, out, action, default_name=default_name, role=role, **detail) as target:
        target.path.write_text(json.dumps(shown, ensure_ascii=False, indent=2, default=_json_default), "utf-8")
    return target.target
