"""Load the IBM AMLSim sample (``../shared/data/aml/``) into a workspace, for evaluating ``funds learn``.

A benchmark helper, not part of the product (it knows where the shared evaluation data lie);
``bench/bench_funds_learn.py`` and ``tests/funds/test_learn_public_aml.py`` use it.

AMLSim's ``transactions.csv.gz`` is an edge list (tran_id, orig_acct, bene_acct, tx_type, base_amt,
tran_timestamp, is_sar, alert_id). This small loader maps it to the canonical ``transactions``
table (exact DECIMAL(18,2) amounts, UTC times, source file hash and line number as evidence) and
derives account labels from ``sar_accounts.csv`` (an account listed there → 1, every other account
seen in a transfer → 0). The data never goes into the repository; it is read at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.schemas import TRANSACTIONS
from chainbreaker.core.workspace import Workspace

# The shared data sit beside the repository (../shared/data); pass ``data_dir`` to read them elsewhere.
AMLSIM_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "aml" / "amlsim_10k_stock"


@dataclass
class AmlSimLoad:
    transactions: int
    accounts: int
    sar_accounts: int
    labels_path: Path


def load_amlsim(ws: Workspace, data_dir: Path = AMLSIM_DIR, labels_out: Path | None = None,
                sample_accounts: int | None = None, seed: int = 0) -> AmlSimLoad:
    """Write AMLSim transfers as canonical ``transactions`` and a labels CSV (account,label).

    ``sample_accounts`` keeps the transfers among about that many accounts: ordinary accounts and
    whole alerts (all their accounts together) are drawn at the same seeded rate.
    """
    tx_path = data_dir / "transactions.csv.gz"
    sar_path = data_dir / "sar_accounts.csv"
    for path in (tx_path, sar_path):
        if not path.exists():
            raise InputError(f"找不到 AMLSim 文件：{path}", f"AMLSim file not found: {path}")
    sha = ws.store_evidence(tx_path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        """CREATE TABLE raw AS SELECT row_number() OVER () + 1 AS src_row, *
            FROM read_csv(?, header = true, columns = {
              'tran_id': 'BIGINT', 'orig_acct': 'VARCHAR', 'bene_acct': 'VARCHAR', 'tx_type': 'VARCHAR',
              'base_amt': 'DECIMAL(18,2)', 'tran_timestamp': 'TIMESTAMPTZ', 'is_sar': 'BOOLEAN',
              'alert_id': 'BIGINT'})""", [str(tx_path)]
    )
    con.execute("CREATE TABLE sar AS SELECT DISTINCT CAST(ACCOUNT_ID AS VARCHAR) AS account "
                "FROM read_csv(?, header = true)", [str(sar_path)])
    if sample_accounts is not None:
        # Whole alerts and ordinary accounts are drawn at the same rate, so typologies stay intact
        # and the share of SAR accounts stays as in the full data.
        con.execute(
            f"""CREATE TABLE keep AS
                WITH accts AS (SELECT orig_acct AS account FROM raw UNION SELECT bene_acct FROM raw),
                     rate AS (SELECT {int(sample_accounts)} / count(*) AS r FROM accts),
                     alert_accts AS (SELECT alert_id, orig_acct AS account FROM raw WHERE alert_id >= 0
                                     UNION SELECT alert_id, bene_acct FROM raw WHERE alert_id >= 0),
                     picked_alerts AS (SELECT DISTINCT alert_id FROM alert_accts, rate
                                       WHERE hash(alert_id::VARCHAR || '-{seed}') % 1000000 < r * 1000000)
                SELECT account FROM accts, rate
                WHERE account NOT IN (SELECT account FROM alert_accts)
                  AND hash(account || '-{seed}') % 1000000 < r * 1000000
                UNION SELECT account FROM alert_accts WHERE alert_id IN (SELECT alert_id FROM picked_alerts)"""
        )
        con.execute("DELETE FROM raw WHERE orig_acct NOT IN (SELECT account FROM keep) "
                    "OR bene_acct NOT IN (SELECT account FROM keep)")
    table = con.sql(
        f"""SELECT 'amlsim-' || tran_id AS txn_id, CAST(tran_id AS VARCHAR) AS serial_no,
                   orig_acct AS from_account, bene_acct AS to_account,
                   NULL::VARCHAR AS from_name, NULL::VARCHAR AS to_name,
                   NULL::VARCHAR AS from_bank, NULL::VARCHAR AS to_bank,
                   base_amt AS amount, 'USD' AS currency, tran_timestamp AS ts,
                   tx_type AS channel, NULL::VARCHAR AS summary, NULL::VARCHAR AS ip, NULL::VARCHAR AS mac,
                   false AS is_cash, NULL::VARCHAR AS direction_raw,
                   NULL::DECIMAL(18,2) AS from_balance, NULL::DECIMAL(18,2) AS to_balance,
                   'both' AS requested_side, '{sha}' AS src_sha256, 'transactions.csv.gz' AS src_file,
                   src_row
            FROM raw ORDER BY src_row"""
    ).to_arrow_table()
    table = table.cast(TRANSACTIONS)
    labels = con.sql(
        """WITH accts AS (SELECT orig_acct AS account FROM raw UNION SELECT bene_acct FROM raw)
           SELECT account, CASE WHEN account IN (SELECT account FROM sar) THEN 1 ELSE 0 END AS label
           FROM accts ORDER BY account"""
    ).to_arrow_table()
    with ws.transaction("funds.load_amlsim", inputs=[sha], settings={"sample_accounts": sample_accounts,
                                                                     "seed": seed}) as tx:
        tx.write("transactions", table)
        tx.counts["transactions"] = table.num_rows
    labels_out = labels_out or (ws.root / "amlsim_labels.csv")
    import pyarrow.csv as pacsv

    pacsv.write_csv(labels, labels_out, pacsv.WriteOptions(quoting_style="none"))
    positives = int(pa.compute.sum(labels.column("label")).as_py() or 0)
    return AmlSimLoad(transactions=table.num_rows, accounts=labels.num_rows, sar_accounts=positives,
                      labels_path=labels_out)


def write_amlsim_labels(ws: Workspace, data_dir: Path = AMLSIM_DIR, labels_out: Path | None = None) -> AmlSimLoad:
    """Labels CSV for the accounts of the workspace's ``transactions`` (however they were loaded,
    e.g. by ``chainbreaker ingest bank``): listed in ``sar_accounts.csv`` → 1, else 0."""
    import pyarrow.csv as pacsv

    sar_path = data_dir / "sar_accounts.csv"
    if not sar_path.exists():
        raise InputError(f"找不到 AMLSim 文件：{sar_path}", f"AMLSim file not found: {sar_path}")
    con = ws.duck()
    labels = con.sql(
        """WITH sar AS (SELECT DISTINCT CAST(ACCOUNT_ID AS VARCHAR) AS account FROM read_csv($1, header = true)),
                accts AS (SELECT from_account AS account FROM transactions UNION SELECT to_account FROM transactions)
           SELECT account, CASE WHEN account IN (SELECT account FROM sar) THEN 1 ELSE 0 END AS label
           FROM accts WHERE account IS NOT NULL ORDER BY account""", params=[str(sar_path)]
    ).to_arrow_table()
    n_tx = int(con.sql("SELECT count(*) FROM transactions").fetchall()[0][0])
    labels_out = labels_out or (ws.root / "amlsim_labels.csv")
    pacsv.write_csv(labels, labels_out, pacsv.WriteOptions(quoting_style="none"))
    positives = int(pa.compute.sum(labels.column("label")).as_py() or 0)
    return AmlSimLoad(transactions=n_tx, accounts=labels.num_rows, sar_accounts=positives, labels_path=labels_out)
