"""Simulated serial RFID and e-seal readers on real ptys: an independent peer of the controller's drivers,
written from hardware_profiles/readers/README.md (it re-implements the framings and checksums)."""
