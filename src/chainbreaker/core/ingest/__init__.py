"""Ingest: readers, header mapping, value parsing and quarantine shared by every chain."""
