"""Watching the bill: anomalies in the daily cost of each MK.IO meter and Contro usage type."""
