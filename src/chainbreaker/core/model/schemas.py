"""Arrow schemas of the canonical tables shared across chains.

Money is exact (DECIMAL(18,2)); times are timezone-aware and stored in UTC (display in
Asia/Shanghai unless the source says otherwise). Every canonical row keeps where it came from.
"""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
TS = pa.timestamp("us", tz="UTC")

TRANSACTIONS = pa.schema(
    [
        ("txn_id", pa.string()),  # stable id of the transfer (hash of the de-duplication key)
        ("serial_no", pa.string()),  # 交易流水号 when the bank gave one
        ("from_account", pa.string()),
        ("to_account", pa.string()),
        ("from_name", pa.string()),
        ("to_name", pa.string()),
        ("from_bank", pa.string()),
        ("to_bank", pa.string()),
        ("amount", MONEY),  # always positive
        ("currency", pa.string()),
        ("ts", TS),
        ("channel", pa.string()),  # 交易类型 / 渠道
        ("summary", pa.string()),  # 摘要说明 / 备注
        ("ip", pa.string()),
        ("mac", pa.string()),
        ("is_cash", pa.bool_()),
        ("direction_raw", pa.string()),  # 收付标志 / 借贷标志 exactly as the bank wrote it
        ("from_balance", MONEY),  # balance of from_account after the transfer, when known
        ("to_balance", MONEY),
        ("requested_side", pa.string()),  # from | to | both: whose statement it came from
        ("src_sha256", pa.string()),
        ("src_file", pa.string()),
        ("src_row", pa.int64()),
    ]
)

# Both source rows of a transfer seen from the two sides (evidence of the de-duplication).
TRANSACTION_SOURCES = pa.schema(
    [
        ("txn_id", pa.string()),
        ("side", pa.string()),
        ("src_sha256", pa.string()),
        ("src_file", pa.string()),
        ("src_row", pa.int64()),
    ]
)

ACCOUNTS = pa.schema(
    [
        ("account", pa.string()),  # cleaned key used by transactions
        ("account_raw", pa.string()),
        ("card_no", pa.string()),
        ("holder_name", pa.string()),
        ("holder_id", pa.string()),
        ("bank", pa.string()),
        ("branch", pa.string()),
        ("open_date", pa.date32()),
        ("close_date", pa.date32()),
        ("status", pa.string()),
        ("balance", MONEY),
        ("last_login_ip", pa.string()),
        ("requested", pa.bool_()),  # a statement for it was returned (调单 subject)
        ("origin", pa.string()),  # bank | platform_deposit | platform_withdrawal | web_indicator ...
        ("src_sha256", pa.string()),
        ("src_row", pa.int64()),
    ]
)

PERSONS = pa.schema(
    [
        ("id_number", pa.string()),
        ("name", pa.string()),
        ("phone", pa.string()),
        ("address", pa.string()),
        ("workplace", pa.string()),
        ("src_sha256", pa.string()),
        ("src_row", pa.int64()),
    ]
)

QUARANTINE = pa.schema(
    [
        ("source_kind", pa.string()),  # bank | platform | travel | ...
        ("file_name", pa.string()),
        ("file_sha256", pa.string()),
        ("row", pa.int64()),  # 1-based line/row in the file; 0 for a whole-file problem
        ("reason_code", pa.string()),
        ("reason", pa.string()),  # human-readable, Chinese
        ("raw", pa.string()),  # JSON of the original values
        ("run_id", pa.string()),
    ]
)

INGESTED_FILES = pa.schema(
    [
        ("file_sha256", pa.string()),
        ("file_name", pa.string()),
        ("path", pa.string()),
        ("source_kind", pa.string()),
        ("layout", pa.string()),
        ("encoding", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_kept", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("run_id", pa.string()),
        ("ingested_at", TS),
    ]
)

# Columns known to hold personal data, by kind. A hint for masking and auditing, not the only source:
# ``model/personal.py`` also reads column names by pattern and classifies the values themselves.
PERSONAL_COLUMNS: dict[str, str] = {
    "holder_id": "id_number",
    "id_number": "id_number",
    "counterparty_id": "id_number",
    "kin_id_number": "id_number",
    "doc_no": "passport",
    "real_name": "name",
    "holder_name": "name",
    "name": "name",
    "kin_name": "name",
    "name_raw": "name",  # intel/er person_records: the name as the source wrote it, and its pinyin
    "name_py": "name",
    "surname_py": "name",
    "given_py": "name",
    "given_py_sorted": "name",
    "from_name": "name",
    "to_name": "name",
    "phone": "phone",
    "mobile": "phone",
    "address": "address",
    "hukou": "address",
    "account": "card",
    "account_raw": "card",
    "card_no": "card",
    "from_account": "card",
    "to_account": "card",
    "bank_card": "card",
    "bank_card_raw": "card",
    "payee_account": "card",
    "payee_account_raw": "card",
}
