"""Provider documents: reading, references, payloads and validation, one pipeline for all."""
