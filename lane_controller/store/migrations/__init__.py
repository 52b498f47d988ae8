"""Alembic migration environment of the lane store (run through ``lane_controller.store.migrate``)."""
