"""Hardware simulator: independent protocol peers for the PLC, serial readers, cameras and customs."""
