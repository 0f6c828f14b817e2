"""The chains of the platform, in the order the faces show them (the one chain registry).

Faces read this list to attach commands (``chainbreaker <chain> ...``, ``chainbreaker ingest KIND``),
to assemble the case report and the demo. A new chain adds one ``ChainSpec`` here; see
docs/architecture.md ("where does X go").
"""

from __future__ import annotations

from chainbreaker.core.chain import ChainSpec, IngestKind

_CLI = "chainbreaker.faces.cli"
_DEMO = "chainbreaker.faces.reports.demo"

CHAINS: tuple[ChainSpec, ...] = (
    ChainSpec(
        name="funds",
        title_zh="资金链：调单筛查、穿透、建议调单", title_en="Funds chain: screening, tracing, next requests",
        help_zh="资金链：筛查、穿透、建议调单、模型学习。",
        cli=f"{_CLI}.funds:app",
        ingest=(IngestKind("bank", f"{_CLI}.funds:ingest_bank_command", "导入银行调单。", "Ingest bank statements."),),
        tables=("transactions", "accounts", "persons", "bank_account_aliases", "transaction_sources",
                "account_risk", "funds_features", "funds_coverage", "funds_suggestions", "account_model_scores",
                # incremental screening's state (funds/screen_state.py: STATE, STATE_TABLES): holds account numbers;
                # _days is format 1's: present in workspaces not screened since format 2 (a format-2 state drops it)
                "funds_screen_state", "funds_screen_state_codes", "funds_screen_state_facts",
                "funds_screen_state_pairs", "funds_screen_state_pairs_added", "funds_screen_state_devices",
                "funds_screen_state_days"),
        # The funds part is the frame of the case report and of the demo (faces/reports/case_report.py,
        # faces/reports/demo/pipeline.py), not a section of them.
    ),
    ChainSpec(
        name="people",
        title_zh="人员链：滞留境外与团伙出行", title_en="People chain: stranded persons and organised groups",
        help_zh="人员链：出入境分析、滞留人员、团伙出行、重点人员库。",
        cli=f"{_CLI}.people:app",
        ingest=(IngestKind("travel", f"{_CLI}.people:ingest_travel_command", "导入出入境与出行记录。",
                           "Ingest travel records."),),
        tables=("travel_crossings", "travel_flights", "travel_trains", "travel_hotels", "travel_kin",
                "travel_record_sources", "travel_trips", "travel_person_metrics", "travel_groups", "travel_pairs"),
        report_section=f"{_DEMO}.people:report_section",
        demo_section=f"{_DEMO}.people:run_demo",
    ),
    ChainSpec(
        name="promotion",
        title_zh="推广链：代理层级与定罪量刑标准", title_en="Promotion chain: agent tree and legal thresholds",
        help_zh="推广链：代理层级、伞下统计、定罪量刑标准。",
        cli=f"{_CLI}.promotion:app",
        ingest=(IngestKind("platform", f"{_CLI}.promotion:ingest_platform_command", "导入赌博平台数据库。",
                           "Ingest a gambling-platform database."),),
        tables=("platform_members", "platform_bets", "platform_deposits", "platform_withdrawals", "platform_rebates", "platform_payments",
                "agent_metrics", "promotion_member_totals", "promotion_person_merges"),
        report_section=f"{_DEMO}.promotion:report_section",
        demo_section=f"{_DEMO}.promotion:run_demo",
    ),
    ChainSpec(
        name="tech",
        title_zh="技术链：网站扫描（暗链、劫持、伪装检测）",
        title_en="Tech chain: website scan (hidden links, hijacking, cloaking)",
        help_zh="技术链：网站扫描、暗链与劫持检测、封堵清单。",
        cli=f"{_CLI}.tech:app",
        tables=("tech_captures", "tech_pages", "tech_domains", "tech_indicators", "tech_clusters"),
        report_section=f"{_DEMO}.tech:report_section",
        demo_section=f"{_DEMO}.tech:run_demo",
    ),
)

# Tables every chain writes into (each with a ``chain`` or ``source_kind`` column saying whose rows are whose).
SHARED_TABLES = ("findings", "quarantine", "ingested_files")


def chain(name: str) -> ChainSpec:
    """The chain called ``name``."""
    for spec in CHAINS:
        if spec.name == name:
            return spec
    raise KeyError(name)
