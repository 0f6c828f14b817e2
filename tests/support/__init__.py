"""Test support: obfuscators, the kit corpus and loopback servers written for the tests (not product code)."""
