"""docs/prometheus-rules.yml: it parses, each rule is complete, every metric it names is one the product
exports (read from sync_core/observability/metrics.py's registry), and every runbook link lands on an entry of
docs/operations.md. The rules the issue asks for are there: failing jobs, stale runs, lease loss, 429 storms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.ops.exported import families, series_names
from tests.ops.markdown import anchors

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "prometheus-rules.yml"
RUNBOOK = ROOT / "docs" / "operations.md"

# PromQL words that are not metric names.
KEYWORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                      "bool", "offset", "inf", "nan"})
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(?!\s*\()")
_NUMBER_LIKE = re.compile(r"^\d")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: its identifiers, less label matchers, ranges, grouping
    labels, function names and keywords."""
    text = _STRINGS.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {n for n in _NAME.findall(text) if n.lower() not in KEYWORDS and not _NUMBER_LIKE.match(n)}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_name_reader_finds_metrics_and_nothing_else() -> None:
    expr = ('sum by (metric) (increase(contactsync_google_rate_limited_total{metric=~"crit.*"}[10m])) > 50 '
            'and on(job) time() - max without (instance) (contactsync_job_last_success_timestamp_seconds offset 5m) '
            '> 26 * 3600 or vector(0) unless absent(some_other_metric)')
    assert metric_names(expr) == {"contactsync_google_rate_limited_total",
                                  "contactsync_job_last_success_timestamp_seconds", "some_other_metric"}


def test_every_rule_parses_and_is_complete() -> None:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert document["groups"], "no rule groups"
    names = set()
    for group in document["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"] not in names, f"two rules named {rule['alert']}"
            names.add(rule["alert"])
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert rule["labels"]["severity"] in {"critical", "warning", "info"}
            assert {"summary", "description", "runbook"} <= rule["annotations"].keys(), rule["alert"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule["for"]
            assert expr_balanced(rule["expr"]), rule["alert"]


def expr_balanced(expr: str) -> bool:
    depth = {"(": 0, "{": 0, "[": 0}
    closing = {")": "(", "}": "{", "]": "["}
    for char in _STRINGS.sub("", expr):
        if char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                return False
    return all(v == 0 for v in depth.values())


def test_every_metric_a_rule_uses_is_one_the_product_exports() -> None:
    exported = series_names()
    assert "contactsync_runs_total" in exported and "contactsync_database_up" in exported  # the reader works
    for rule in rules():
        used = metric_names(rule["expr"])
        assert used, f"{rule['alert']} reads no metric"
        unknown = used - exported
        assert not unknown, f"{rule['alert']} names metrics ContactSync does not export: {sorted(unknown)}"


def test_the_rules_cover_failing_jobs_stale_runs_lease_loss_and_429_storms() -> None:
    by_metric: dict[str, list[str]] = {}
    for rule in rules():
        for name in metric_names(rule["expr"]):
            by_metric.setdefault(name, []).append(rule["expr"])
    assert any('status="failed"' in e for e in by_metric["contactsync_runs_total"])  # failing jobs
    assert any("time()" in e for e in by_metric["contactsync_job_last_success_timestamp_seconds"])  # stale
    assert any('error="lease_lost"' in e for e in by_metric["contactsync_run_errors_total"])  # lease loss
    assert "contactsync_google_rate_limited_total" in by_metric  # 429 storms
    assert families()["contactsync_job_last_success_timestamp_seconds"] == "gauge"


def test_every_runbook_link_lands_on_an_entry_of_the_runbook() -> None:
    entries = anchors(RUNBOOK.read_text(encoding="utf-8"))
    for rule in rules():
        link = rule["annotations"]["runbook"]
        path, _, anchor = link.partition("#")
        assert path == "docs/operations.md", link
        assert anchor in entries, f"{rule['alert']}: docs/operations.md has no heading #{anchor}"
