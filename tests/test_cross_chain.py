"""Links between chains on real outputs: a platform agent becomes a proposed 招赌人员 in the register."""

from __future__ import annotations

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.ops.register import list_proposals, propose
from chainbreaker.synth.platform import export_platform, generate_platform


def test_platform_agents_are_proposed_as_recruiters(ws, tmp_path):
    platform = generate_platform("pyramid", 400, 3000, seed=5, name="测试平台")
    files = export_platform(platform, tmp_path / "p", formats=("csv",))
    ingest_platform(ws, files["csv"], platform.name)
    analyze(ws)
    propose(ws)
    proposals = list_proposals(ws)
    con = ws.duck()
    agent_ids = {r[0] for r in con.sql("""
        SELECT m.id_number FROM platform_members m JOIN agent_metrics a USING (platform, member_id)
        WHERE m.id_number IS NOT NULL""").fetchall()}
    recruiters = [p for p in proposals if p["role"] == "招赌人员" and p.get("rule_id", "").startswith(("N10", "AGT", "G05"))]
    assert recruiters, "agents with threshold findings must be proposed as 招赌人员"
    # every proposed recruiter is an agent of the platform, identified by a valid resident ID
    for p in recruiters:
        key = p["person_key"]
        assert key.startswith("ID:")
        number = key.removeprefix("ID:")
        assert ResidentID.validate(number) == (True, None)
        assert number in {ResidentID.clean(i) for i in agent_ids}
    # data-structure findings (cycles, orphans) never become a person's role
    assert not [p for p in proposals if str(p.get("rule_id", "")).startswith("TREE-")]
