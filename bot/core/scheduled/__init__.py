"""Scheduled reports and budgets: their models, stores and the clock-driven loop."""
