"""The bench's pieces on a tiny tenant: S1 + S2 (3 targets, 30 contacts), every figure present.

The emulator runs in its own process as in the bench; the product and naive runs are called in-process to
keep this to a few seconds. Timing is never asserted: speed is the bench's job, not the suite's."""

from __future__ import annotations

from pathlib import Path

from bench.children import run_in_process
from bench.report import render
from bench.scenarios import Bench, Sizes, run_scenarios

FIGURES = ("wall_s", "cpu_s", "peak_rss_mib", "calls_per_target", "all_calls_per_target", "cpu_ms_per_target",
           "quota_rejected", "created", "updated", "deleted", "unchanged", "calls_by_method")


def test_s1_and_s2_report_every_figure(tmp_path: Path) -> None:
    sizes = Sizes(s1_contacts=30, s1_targets=3, naive_targets=1)
    results = run_scenarios(Bench(tmp_path, sizes, runner=run_in_process), {"S1", "S2"})

    s1, s2 = results
    assert [s1["name"], s2["name"]] == ["S1", "S2"]
    first = s1["runs"][0]
    for key in FIGURES:
        assert key in first and key in s1["naive"], key
    assert first["targets"] == 3 and first["statuses"] == {"ok": 3}
    assert first["created"] == 3 * 30 and first["cpu_us_per_contact_written"] is not None
    assert s1["naive"]["created"] == 30 and s1["ratios"]["all_calls_per_target"] is not None
    after, steady = s2["runs"]
    assert steady["written"] == 0 and steady["unchanged"] == 3 * 30
    assert s2["naive"]["written"] == 0
    assert "S2" in render({"mode": "", "machine": {"date": "", "nproc": 2, "python": "", "platform": ""},
                           "scenarios": results})


def test_s7_measures_the_watch_end_to_end(tmp_path: Path) -> None:
    sizes = Sizes(s7_contacts=10, s7_targets=3, s7_watch_seconds=1.0, s7_quiet_watches=2)
    (s7,) = run_scenarios(Bench(tmp_path, sizes, runner=run_in_process), {"S7"})
    watch = s7["watch"]
    assert watch["targets_with_edit"] == 3  # every target got the edit...
    assert watch["edit_to_last_target_s"] >= 0  # ...and the product recorded when
    assert 0 < watch["idle_people_calls_per_minute"] <= 60 * 3  # one read a watch, nothing else
    assert "one source edit at all 3/3 targets" in render(
        {"mode": "", "machine": {"date": "", "nproc": 2, "python": "", "platform": ""}, "scenarios": [s7]})
