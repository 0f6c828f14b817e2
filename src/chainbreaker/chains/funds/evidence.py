"""The flagged accounts' events behind each rule, from their transfers in one sort (证据行, numpy).

:func:`~chainbreaker.chains.funds.typologies.evidence_rows` lists, per flagged account and rule,
the transfers that support the finding. Those few accounts' events were a window statement over
the flagged accounts' transfers (tens of thousands of events, a sort of wide rows per account
number); here the same events and flags come from one numpy sort of integer keys, as
:func:`~chainbreaker.chains.funds.typologies.sorted_account_facts` does for every account: the
engine computes the transfers (amounts in fen, epoch seconds, the card pool's device match), so
their values are the engine's on every engine. The tests compare both formulations.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds.events import EP_BITS as _EP_BITS
from chainbreaker.chains.funds.events import fast_flags

TRANSFER_COLUMNS = ("fa", "ta", "fen", "ep", "txn_id", "pool_hit")


def evidence_events(tr: pa.Table, flagged: pa.Table, p: dict[str, Any], rules: tuple[str, ...],
                    keys: tuple[str, str] = ("account", "loop_partner")) -> pa.Table | None:
    """Per event of a ``flagged`` account: account, txn_id, fen, ep and ``hit_<rule>`` per rule of ``rules``.

    ``tr`` has :data:`TRANSFER_COLUMNS`: the transfers with a flagged account on either side,
    accounts as numbers, ``pool_hit`` true when the transfer was made from the device its payer's
    card pool names (only for payers that fired ``card_pool``). ``flagged`` has columns account,
    rules (",rule,rule,"), wake_day, loop_partner. The events, flags and hits are those of
    ``event_flags`` and ``_evidence_conditions`` in :mod:`~chainbreaker.chains.funds.typologies`
    (inbound before outbound within a second; ``next_out``/``prev_in`` as running minima/maxima of
    that order). Rows come in any order (:func:`~chainbreaker.chains.funds.typologies.cap_evidence`
    sorts them). None when the times do not fit the key (before 1970 or after 2242): the caller
    then uses the engine's statement. ``keys``: the columns of ``flagged`` that hold what ``fa`` and
    ``ta`` hold (account numbers, or account codes) for the account and its loop partner; the
    events name the account by ``flagged``'s ``account``.
    """
    import numpy as np

    offset = int(p["time"]["utc_offset_hours"] * 3600)
    accounts = flagged.column("account").combine_chunks()
    own_keys = flagged.column(keys[0]).combine_chunks()
    ep_all = tr.column("ep").to_numpy()
    if len(ep_all) and (int(ep_all.min()) < max(0, -offset) or int(ep_all.max()) >= (1 << _EP_BITS) - 1):
        return None
    payer = pc.index_in(tr.column("fa"), value_set=own_keys).fill_null(-1).to_numpy(zero_copy_only=False)
    payee = pc.index_in(tr.column("ta"), value_set=own_keys).fill_null(-1).to_numpy(zero_copy_only=False)
    ins, outs = np.flatnonzero(payee >= 0), np.flatnonzero(payer >= 0)
    row = np.concatenate([ins, outs])  # the transfer of each event
    acc = np.concatenate([payee[ins], payer[outs]]).astype(np.int64)
    outbound = np.concatenate([np.zeros(len(ins), np.int64), np.ones(len(outs), np.int64)])
    ep = ep_all[row].astype(np.int64)
    order = np.argsort((acc << (_EP_BITS + 1)) | (ep << 1) | outbound, kind="stable")
    row, acc, ep, outbound = row[order], acc[order], ep[order], outbound[order]
    is_in = outbound == 0
    t = (acc << _EP_BITS) | ep  # increasing within an account, and from one account to the next
    fast_out, fast_in, _ = fast_flags(t, is_in, int(p["fast_in_out"]["window_minutes"] * 60))
    local = ep + offset
    day, hour = local // 86400, (local % 86400) // 3600
    fen = tr.column("fen").to_numpy()[row].astype(np.int64)
    nh = p["night"]
    idx = pa.array(row)
    # the counterparty of each event (the payer of an inbound transfer, the payee of an outbound one)
    # as an index among the flagged accounts, and among their loop partners: no text per event
    cp_flagged = np.where(is_in, payer[row], payee[row]) >= 0
    partners = flagged.column(keys[1]).combine_chunks()
    known = pc.unique(partners.drop_null())
    own = pc.index_in(partners, value_set=known).fill_null(-1).to_numpy(zero_copy_only=False)[acc]

    def partner_index(side: str) -> Any:
        return pc.index_in(tr.column(side), value_set=known).fill_null(-1).to_numpy(zero_copy_only=False)[row]
    loop = (own >= 0) & (np.where(is_in, partner_index("fa"), partner_index("ta")) == own)
    pool = tr.column("pool_hit").take(idx).fill_null(False).to_numpy(zero_copy_only=False) & ~is_in
    wake = flagged.column("wake_day").combine_chunks().take(pa.array(acc))
    woke = wake.is_valid().to_numpy(zero_copy_only=False) & (day >= wake.fill_null(0).to_numpy(zero_copy_only=False))
    conditions = {
        "paofen": fast_in | fast_out, "fast_in_out": fast_in | fast_out, "fan_in": is_in, "fan_out": ~is_in,
        "card_pool": pool, "dormant": woke, "network": is_in & cp_flagged, "upstream": is_in & cp_flagged,
        "night": (hour >= nh["start_hour"]) & (hour < nh["end_hour"]),
        "round_amount": fen % int(p["round_amount"]["modulus"] * 100) == 0,
        "loop": loop, "transit": np.ones(len(acc), bool),
    }
    texts = flagged.column("rules").to_pylist()
    out = {"account": accounts.take(pa.array(acc)), "txn_id": tr.column("txn_id").take(idx),
           "fen": pa.array(fen), "ep": pa.array(ep)}
    for rule in rules:
        fired = np.array([f",{rule}," in (text or "") for text in texts], bool)
        out[f"hit_{rule}"] = pa.array(conditions[rule] & fired[acc])
    return pa.table(out)
