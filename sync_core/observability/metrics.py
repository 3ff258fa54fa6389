"""The process's Prometheus metrics: what the engine, the Google executor and the quota pacer count as they
work, and what a scrape reads from the store (jobs, open alerts, how fast source changes travel, when each
job last succeeded).

One `Metrics` per process (the `Runtime` owns it), each with its own `CollectorRegistry`: nothing is
registered in prometheus_client's global registry, so two runtimes (two tests) never share a counter.
Labels stay bounded: statuses, triggers, Google method names, quota metric names, job names; never an
address. The bot serves `render()` at /metrics; nothing here knows Slack or HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# A run takes from a second (nothing changed) to an hour (a first sync of a big job, paced by quota).
RUN_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
# A target in sync costs two reads (a fraction of a second); a first sync of thousands of contacts, minutes.
TARGET_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


@dataclass(frozen=True)
class JobSourceChange:
    """One job's latest source change, as the gauges show it."""

    job: str
    changed_at: float  # Unix seconds
    propagation_seconds: float | None  # None: not at every target yet


@dataclass(frozen=True)
class Census:
    """What a scrape reads from the store: jobs by state, open alerts by kind, source changes per job, and
    when each enabled job last ran successfully."""

    jobs: Mapping[str, int]  # "enabled" / "paused" / "deleting" -> count
    open_alerts: Mapping[str, int]  # alert kind -> open (posted or kept) alerts
    source_changes: Sequence[JobSourceChange] = field(default_factory=tuple)
    # job name -> when its latest `ok` run finished (Unix seconds): enabled jobs that have had one. A paused
    # job is left out, so an alert on a stale job never fires for one an admin stopped on purpose.
    last_successes: Mapping[str, float] = field(default_factory=dict)


JOB_STATES = ("enabled", "paused", "deleting")


class Metrics:
    """Counters and histograms fed by hooks in the engine, the executor and the pacer, plus the store's
    gauges, read at scrape time through `census` (None: no store gauges)."""

    def __init__(self, census: Callable[[], Census] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.census = census
        r = self.registry
        self.runs = Counter("contactsync_runs", "Runs finished, by status and trigger (dry runs not counted)",
                            ["status", "trigger"], registry=r)
        self.run_errors = Counter("contactsync_run_errors",
                                  "Runs that failed as a whole, by the reason they name (the result vocabulary: "
                                  "source_empty, database, lease_lost, ...)", ["error"], registry=r)
        self.targets = Counter("contactsync_targets", "Targets a run finished, by status", ["status"], registry=r)
        self.google_calls = Counter("contactsync_google_calls",
                                    "Google API requests sent, by method and outcome (ok, an HTTP status code, "
                                    "unreachable or error); each retry is a request", ["method", "outcome"],
                                    registry=r)
        self.rate_limited = Counter("contactsync_google_rate_limited",
                                    "429 answers from Google, by the quota metric they named (unknown: none)",
                                    ["metric"], registry=r)
        self.quota_wait = Counter("contactsync_quota_wait_seconds",
                                  "Seconds calls waited in the quota pacer for a user's quota", registry=r)
        self.run_seconds = Histogram("contactsync_run_duration_seconds", "How long a run took",
                                     buckets=RUN_BUCKETS, registry=r)
        self.target_seconds = Histogram("contactsync_target_duration_seconds", "How long one target of a run took",
                                        buckets=TARGET_BUCKETS, registry=r)
        r.register(_StoreCollector(self))

    # --- hooks ------------------------------------------------------------------------------------
    def run_finished(self, status: str, trigger: str, seconds: float, *, error: str | None = None) -> None:
        """One run ended; `error`: why a run that failed as a whole failed (a lost lease is counted only here:
        its row is the next lease holder's to close)."""
        self.runs.labels(status=status, trigger=trigger).inc()
        self.run_seconds.observe(seconds)
        if status == "failed" and error:
            self.run_errors.labels(error=error).inc()

    def target_finished(self, status: str) -> None:
        self.targets.labels(status=status).inc()

    def target_took(self, seconds: float) -> None:
        self.target_seconds.observe(seconds)

    def google_call(self, method: str, outcome: str, *, quota_metric: str | None = None) -> None:
        """One request answered (or not). `quota_metric`: for a 429, the metric Google named ("" if none)."""
        self.google_calls.labels(method=method, outcome=outcome).inc()
        if quota_metric is not None:
            self.rate_limited.labels(metric=quota_metric or "unknown").inc()

    def quota_waited(self, seconds: float) -> None:
        self.quota_wait.inc(seconds)

    # --- exposition ---------------------------------------------------------------------------------
    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _StoreCollector(Collector):
    """The store's gauges, read when scraped. A store that does not answer costs the scrape only these
    gauges (contactsync_database_up 0), never the counters."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        read = self.metrics.census
        if read is None:
            return
        up = GaugeMetricFamily("contactsync_database_up", "1 if the store answered this scrape's queries, else 0")
        try:
            census = read()
        except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever the store does
            log.warning("metrics: the store did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("contactsync_jobs", "Sync jobs, by state", labels=["state"])
        for state in JOB_STATES:
            jobs.add_metric([state], census.jobs.get(state, 0))
        yield jobs
        alerts = GaugeMetricFamily("contactsync_open_alerts", "Alerts posted (or kept) and not closed, by kind",
                                   labels=["kind"])
        for kind, count in sorted(census.open_alerts.items()):
            alerts.add_metric([kind], count)
        yield alerts
        changed = GaugeMetricFamily("contactsync_source_last_change_timestamp_seconds",
                                    "When the job's source last changed (Unix time)", labels=["job"])
        took = GaugeMetricFamily("contactsync_source_change_propagation_seconds",
                                 "How long the source's last change took to reach the job's last target (absent "
                                 "until it has)", labels=["job"])
        for change in census.source_changes:
            changed.add_metric([change.job], change.changed_at)
            if change.propagation_seconds is not None:
                took.add_metric([change.job], change.propagation_seconds)
        yield changed
        yield took
        succeeded = GaugeMetricFamily("contactsync_job_last_success_timestamp_seconds",
                                      "When the job's last successful run (status ok) finished (Unix time); "
                                      "enabled jobs that have had one", labels=["job"])
        for job, at in sorted(census.last_successes.items()):
            succeeded.add_metric([job], at)
        yield succeeded
