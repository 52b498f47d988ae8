"""Cameras, the OCR engine and the plate and container readers (a library: imports domain at most)."""
