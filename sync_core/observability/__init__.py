"""Metrics, the log context of a run and the log rewriting under every handler."""
