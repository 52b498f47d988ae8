"""Barrier PLC driver tests."""
