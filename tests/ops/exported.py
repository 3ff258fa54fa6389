"""The metric names ContactSync exports, read from the code's own registry (sync_core/observability/metrics.py),
never from a hand-kept list: what the alert rules and the README's metrics table may name."""

from __future__ import annotations

from sync_core.observability.metrics import Census, Metrics

# The series each family type carries in Prometheus's text format (a counter `x` is scraped as `x_total`...).
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def families() -> dict[str, str]:
    """Every metric family a scrape can carry, name -> type: the process's counters and histograms, and the
    store's gauges (a census that reads nothing still yields every gauge family)."""
    metrics = Metrics(census=lambda: Census(jobs={}, open_alerts={}))
    return {family.name: family.type for family in metrics.registry.collect()}


def series_names() -> frozenset[str]:
    """Every series name a scrape can carry, as PromQL names them."""
    return frozenset(name + suffix for name, kind in families().items() for suffix in SERIES_SUFFIXES[kind])
