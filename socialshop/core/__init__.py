"""Plumbing with no domain knowledge: job locks and task defaults (jobs.py)."""
