"""`sync_core.observability.metrics`: a registry per process (nothing shared between two), the store's gauges read at
scrape time, a scrape that answers when the store does not, and the cache in front of /readyz's Slack check."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bot.health import BoundedCheck, CachedCheck, Readiness
from sync_core.google.calls import call_outcome
from sync_core.google.errors import BadRequest, RateLimited, Unreachable
from sync_core.observability.metrics import Census, JobSourceChange, Metrics


def scrape(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def test_two_processes_metrics_never_share_a_counter() -> None:
    one, two = Metrics(), Metrics()
    one.run_finished("ok", "cli", 1.5)
    one.google_call("people.batchCreateContacts", "429", quota_metric="critical_write")
    one.google_call("people.batchCreateContacts", "ok")
    assert scrape(one)[("contactsync_runs_total", (("status", "ok"), ("trigger", "cli")))] == 1
    assert scrape(one)[("contactsync_google_rate_limited_total", (("metric", "critical_write"),))] == 1
    assert ("contactsync_runs_total", (("status", "ok"), ("trigger", "cli"))) not in scrape(two)
    assert ("contactsync_database_up", ()) not in scrape(two)  # no census: no store gauges


def test_the_store_gauges_are_read_at_each_scrape() -> None:
    jobs = {"enabled": 2}
    metrics = Metrics(census=lambda: Census(jobs=dict(jobs), open_alerts={"renamed": 1},
                                            source_changes=[JobSourceChange("A", 1000.0, 12.5),
                                                            JobSourceChange("B", 2000.0, None)]))
    got = scrape(metrics)
    assert got[("contactsync_jobs", (("state", "enabled"),))] == 2
    assert got[("contactsync_jobs", (("state", "deleting"),))] == 0
    assert got[("contactsync_open_alerts", (("kind", "renamed"),))] == 1
    assert got[("contactsync_source_last_change_timestamp_seconds", (("job", "B"),))] == 2000
    assert got[("contactsync_source_change_propagation_seconds", (("job", "A"),))] == 12.5
    assert ("contactsync_source_change_propagation_seconds", (("job", "B"),)) not in got
    jobs["paused"] = 1
    assert scrape(metrics)[("contactsync_jobs", (("state", "paused"),))] == 1


def test_each_enabled_jobs_last_success_is_a_gauge_read_at_each_scrape() -> None:
    successes = {"Partners": 1_700_000_000.0}
    metrics = Metrics(census=lambda: Census(jobs={"enabled": 2}, open_alerts={}, last_successes=dict(successes)))
    got = scrape(metrics)
    assert got[("contactsync_job_last_success_timestamp_seconds", (("job", "Partners"),))] == 1_700_000_000
    assert [key for key in got if key[0] == "contactsync_job_last_success_timestamp_seconds"] == [
        ("contactsync_job_last_success_timestamp_seconds", (("job", "Partners"),))]  # none for a job without one
    successes["Partners"] = 1_700_000_600.0
    successes["Staff"] = 1_700_000_900.0
    got = scrape(metrics)
    assert got[("contactsync_job_last_success_timestamp_seconds", (("job", "Partners"),))] == 1_700_000_600
    assert got[("contactsync_job_last_success_timestamp_seconds", (("job", "Staff"),))] == 1_700_000_900


def test_a_run_that_failed_as_a_whole_is_counted_by_its_reason() -> None:
    metrics = Metrics()
    metrics.run_finished("failed", "schedule", 3.0, error="lease_lost")
    metrics.run_finished("failed", "schedule", 3.0, error="lease_lost")
    metrics.run_finished("failed", "cli", 1.0, error="database")
    metrics.run_finished("partial", "cli", 1.0, error=None)
    metrics.run_finished("ok", "cli", 1.0)
    got = scrape(metrics)
    assert got[("contactsync_run_errors_total", (("error", "lease_lost"),))] == 2
    assert got[("contactsync_run_errors_total", (("error", "database"),))] == 1
    assert sum(v for (name, _), v in got.items() if name == "contactsync_run_errors_total") == 3
    assert got[("contactsync_runs_total", (("status", "failed"), ("trigger", "schedule")))] == 2


def test_a_store_that_does_not_answer_costs_only_its_gauges() -> None:
    def broken() -> Census:
        raise ConnectionError("the database went away")

    metrics = Metrics(census=broken)
    metrics.target_finished("ok")
    got = scrape(metrics)
    assert got[("contactsync_database_up", ())] == 0
    assert got[("contactsync_targets_total", (("status", "ok"),))] == 1
    assert not any(name == "contactsync_jobs" for name, _ in got)


def test_call_outcomes_are_a_few_words_or_a_status_code() -> None:
    assert call_outcome(None) == "ok"
    assert call_outcome(Unreachable("refused")) == "unreachable"
    assert call_outcome(RateLimited("slow down", status_code=429)) == "429"
    assert call_outcome(BadRequest("no")) == "error"


@given(gaps=st.lists(st.floats(0, 200, allow_nan=False), max_size=30), ttl=st.floats(0.5, 100))
def test_the_cached_check_asks_once_per_period(gaps: list[float], ttl: float) -> None:
    now = [0.0]
    asked: list[float] = []

    def check() -> str | None:
        asked.append(now[0])
        return f"answer {len(asked)}"

    cached = CachedCheck(check, ttl, clock=lambda: now[0])
    expected_asks = [0.0]
    assert cached() == "answer 1"
    for gap in gaps:
        now[0] += gap
        if now[0] >= expected_asks[-1] + ttl:
            expected_asks.append(now[0])
        assert cached() == f"answer {len(expected_asks)}"
    assert asked == expected_asks


def test_readiness_names_each_failed_check_and_survives_a_broken_one() -> None:
    def broken() -> str | None:
        raise RuntimeError("boom")

    answers = Readiness({"database": lambda: None, "slack": lambda: "unreachable", "scheduler": broken}).problems()
    assert answers == {"database": None, "slack": "unreachable", "scheduler": "the check failed (RuntimeError)"}


def test_a_hung_check_answers_within_its_bound_and_is_not_asked_again_while_out() -> None:
    release = threading.Event()
    asked: list[int] = []

    def hangs() -> str | None:
        asked.append(1)
        release.wait(30)
        return None

    bounded = BoundedCheck(hangs, timeout=0.05)
    assert bounded() == "no answer within 0.05 s"
    assert bounded() == "no answer within 0.05 s"
    assert len(asked) == 1, "a probe waits for the check still out instead of starting another"
    release.set()
    for thread in [t for t in threading.enumerate() if t.name == "readiness-check"]:
        thread.join(5)  # the check that was out has answered
    assert bounded() is None
    assert len(asked) == 2, "once it has answered, the next probe asks again"


def test_a_bounded_check_that_raises_is_reported_by_readiness() -> None:
    def broken() -> str | None:
        raise RuntimeError("boom")

    assert Readiness({"database": BoundedCheck(broken, 1)}).problems() == {
        "database": "the check failed (RuntimeError)"}


def test_the_readme_metrics_table_lists_every_metric_the_registry_exports() -> None:
    """The README's table under "Health and metrics" names each family as a scrape shows it (a counter with its
    `_total`), read from the registry rather than a list kept by hand."""
    families = Metrics(census=lambda: Census(jobs={}, open_alerts={})).registry.collect()
    exported = {f.name + ("_total" if f.type == "counter" else "") for f in families}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(contactsync_\w+)` \|", readme, re.MULTILINE))
    assert "contactsync_job_last_success_timestamp_seconds" in exported
    assert documented == exported, f"missing: {sorted(exported - documented)}; gone: {sorted(documented - exported)}"
