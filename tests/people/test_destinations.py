from __future__ import annotations

import pytest

from chainbreaker.chains.people.destinations import OVERRIDE_NAME, load_destinations
from chainbreaker.core.errors import ConfigError


def test_match_countries_towns_and_codes():
    d = load_destinations()
    m = d.match("缅甸（小勐拉）")
    assert (m.code, m.listed, m.town) == ("MMR", True, "小勐拉")
    assert d.match("Cambodia").code == "KHM"
    assert d.match("KHM").listed
    assert d.match("柬埔寨西哈努克港").town == "西哈努克港"
    assert d.match("日本").listed is False
    assert d.match("不存在的国家") is None
    assert d.code_for("中华人民共和国") == "CHN"


def test_every_listed_entry_has_source_and_date():
    d = load_destinations()
    listed = d.listed_countries()
    assert {c.code for c in listed} >= {"KHM", "MMR", "LAO", "PHL", "VNM", "THA"}
    for c in listed:
        assert c.source and c.date
        for t in c.towns:
            assert t.source and t.date


def test_workspace_override_replaces_default(ws):
    (ws.config_dir / OVERRIDE_NAME).write_text(
        'version: "2026-11-20"\ncountries:\n  - {code: JPN, name_zh: 日本, aliases: [日本], listed: true, '
        'source: "测试", date: "2026-11-20"}\n', "utf-8")
    d = load_destinations(ws.config_dir)
    assert d.version == "2026-11-20"
    assert d.match("日本").listed
    assert d.match("柬埔寨") is None


@pytest.mark.parametrize("entry", [
    "{code: KHM, name_zh: 柬埔寨, listed: true, date: '2026-11-01'}",  # no source
    "{code: KHM, name_zh: 柬埔寨, listed: true, source: x, date: 'soon'}",  # bad date
])
def test_listed_entry_without_source_or_date_is_refused(ws, entry):
    (ws.config_dir / OVERRIDE_NAME).write_text(f'version: "2026-11-01"\ncountries:\n  - {entry}\n', "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_destinations(ws.config_dir)
    assert "目的地表" in exc.value.zh and "Destination table" in exc.value.en
