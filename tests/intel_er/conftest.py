"""A workspace with persons across four sources: a synthetic background (so the model has data to
estimate its parameters from) and a few hand-written people spelled the way sources spell them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.core.workspace import Workspace
from chainbreaker.synth.persons import generate_persons

SHA = "ab" * 32
# 王小明: bank holder with his ID; KYC row with the 15-digit form; platform member 王晓明 without ID
# but with his phone; traveller 王曉明 with a mistyped ID and no phone (only the model can link him).
WANG_ID = "530102198503071236"
ZHANG_ID = "530103199011230021"


def _valid(first17: str) -> str:
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * k for d, k in zip(first17, w, strict=True)) % 11]


WANG = _valid(WANG_ID[:17])
ZHANG = _valid(ZHANG_ID[:17])
WANG_TYPO = WANG[:14] + str((int(WANG[14]) + 3) % 10) + WANG[15:]


def hand_tables() -> dict[str, pa.Table]:
    return {
        "accounts": pa.table({"account": ["6222020200112233445", "6217000011112222333"],
                              "holder_name": ["王小明", "张丽"], "holder_id": [WANG, ZHANG],
                              "bank": ["中国工商银行", "中国建设银行"], "origin": ["bank", "bank"],
                              "src_sha256": [SHA, SHA], "src_row": [900001, 900002]}),
        "persons": pa.table({"id_number": [WANG[:6] + WANG[8:17]], "name": ["王 小明"],
                             "phone": ["13800138000"], "address": ["云南省昆明市人民路8号"],
                             "src_sha256": [SHA], "src_row": [900003]}),
        "platform_members": pa.table({"platform": ["hg"], "member_id": ["88001"], "real_name": ["王晓明"],
                                      "id_number": [None], "phone": ["+86 138-0013-8000"],
                                      "bank_card": [None], "src_sha256": [SHA], "src_file": ["members.sql"],
                                      "src_row": [900004]}, schema=pa.schema([
                                          ("platform", pa.string()), ("member_id", pa.string()),
                                          ("real_name", pa.string()), ("id_number", pa.string()),
                                          ("phone", pa.string()), ("bank_card", pa.string()),
                                          ("src_sha256", pa.string()), ("src_file", pa.string()),
                                          ("src_row", pa.int64())])),
        "travel_crossings": pa.table({"person_key": ["BADID:" + WANG_TYPO], "id_number": [WANG_TYPO],
                                      "name": ["王曉明"], "birth_date": pa.array([None], pa.date32()),
                                      "hukou": ["云南省昆明市人民路8号"], "src_sha256": [SHA],
                                      "src_file": ["crossings.csv"], "src_row": [900005]}),
    }


@pytest.fixture(scope="session")
def er_workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chainbreaker.intel.er.service import match

    root = tmp_path_factory.mktemp("er") / "ws"
    ws = Workspace(root)
    world = generate_persons(6000, seed=11)
    hand = hand_tables()
    with ws.transaction("fixture") as tx:
        for name, table in world.tables.items():
            extra = hand[name].select([c for c in table.column_names if c in hand[name].column_names])
            tx.write(name, pa.concat_tables([table, extra.cast(table.select(extra.column_names).schema)],
                                            promote_options="default"))
    match(ws)
    return root


@pytest.fixture
def er_ws(er_workspace_template: Path, tmp_path: Path) -> Workspace:
    import shutil

    shutil.copytree(er_workspace_template, tmp_path / "ws")
    return Workspace(tmp_path / "ws")
