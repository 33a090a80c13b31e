"""Billing changes: the pending change and its rules, and the service that makes them."""
