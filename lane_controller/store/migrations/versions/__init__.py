"""Alembic revisions of the lane store."""
