"""Transport-note (CN) ingestion, matching and the uplink to the customs platform."""
