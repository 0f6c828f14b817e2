"""Ingest of bank statements returned by 资金查控 (调单) and payment exports."""
