"""Canonical model: identifiers, table schemas and the Finding shape shared by every chain."""
