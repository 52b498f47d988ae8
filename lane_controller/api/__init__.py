"""FastAPI app factory, REST API and the lane-status page."""
