"""Secrets: the OS keyring, integ's private files, fingerprints of applied values, and redaction."""
