"""Alerts: every alert kind once, the pure decisions after a run, and the notifier protocol."""
