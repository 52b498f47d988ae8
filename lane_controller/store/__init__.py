"""Persistence: SQLAlchemy models, migrations, the hash-chained audit log and the customs outbox."""
