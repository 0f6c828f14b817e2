"""A workspace direction-code override that is not valid YAML is a clear ConfigError, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank.directions import DirectionTable
from chainbreaker.core.errors import ConfigError


@pytest.mark.parametrize("raw", [b"default: [1, 2\n", b"\xff\xfe\x00bad", b"- a\n- b\n"])
def test_bad_override_is_a_config_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "direction_codes.yaml"
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as exc:
        DirectionTable.load(path)
    assert str(path) in exc.value.zh and exc.value.zh != exc.value.en


def test_missing_override_keeps_the_packaged_table(tmp_path: Path) -> None:
    table = DirectionTable.load(tmp_path / "none.yaml")
    assert table.default
