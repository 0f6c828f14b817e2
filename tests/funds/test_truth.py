"""Must show: on H2's synthetic province, the operation's accounts rank on top and look-alikes stay below 0.5."""

from __future__ import annotations

import math

import pytest

from chainbreaker.chains.funds.screen import screen

N_TRANSACTIONS = 150_000


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory):
    synth = pytest.importorskip("chainbreaker.synth.bank")
    from chainbreaker.core.workspace import Workspace

    tables = synth.generate_transactions_table(N_TRANSACTIONS, seed=11)
    ws = Workspace(tmp_path_factory.mktemp("truth") / "ws")
    with ws.transaction("test.lake") as tx:
        tx.write("transactions", tables.transactions)
        tx.write("accounts", tables.accounts)
    result = screen(ws)
    truth = {r["account"]: r for r in tables.truth.to_pylist()}
    risk = ws.read_arrow("account_risk").to_pylist()
    return result, truth, risk


def test_recall_in_top_ranked_and_precision_above_half(province) -> None:
    result, truth, risk = province
    ops = {a for a, r in truth.items() if r["is_gambling_op"] == 1}
    assert len(ops) >= 10
    top = [r["account"] for r in sorted(risk, key=lambda r: r["rank"])[: math.ceil(1.2 * len(ops))]]
    recall = len(ops & set(top)) / len(ops)
    flagged = [r["account"] for r in risk if r["score"] >= 0.5]
    precision = sum(a in ops for a in flagged) / len(flagged)
    print(f"ops={len(ops)} recall@top{len(top)}={recall:.3f} flagged={len(flagged)} precision={precision:.3f}")
    assert recall >= 0.9
    assert precision >= 0.8
    assert result.flagged == len(flagged)


def test_lookalikes_stay_below_half(province) -> None:
    _, truth, risk = province
    kinds: dict[str, float] = {}
    for r in risk:
        kind = (truth.get(r["account"]) or {}).get("lookalike") or ""
        if kind:
            kinds[kind] = max(kinds.get(kind, 0.0), r["score"])
    assert {"payroll", "shop", "family"} <= set(kinds)
    for kind, worst in kinds.items():
        assert worst < 0.5, (kind, worst)


def test_every_operation_role_is_found(province) -> None:
    _, truth, risk = province
    scores = {r["account"]: r["score"] for r in risk}
    roles: dict[str, list[float]] = {}
    for account, t in truth.items():
        if t["is_gambling_op"] == 1 and account in scores:
            roles.setdefault(t["role"], []).append(scores[account])
    assert {"collection", "mule", "settlement", "payout"} <= set(roles)
    for role, values in roles.items():
        assert sum(v >= 0.5 for v in values) / len(values) >= 0.8, (role, values)
