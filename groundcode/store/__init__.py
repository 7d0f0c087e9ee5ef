"""The bottom layer: tables, engines, schema migrations and in-transaction helpers."""

from groundcode.store.engine import Database, redact_url, to_url

__all__ = ["Database", "redact_url", "to_url"]
