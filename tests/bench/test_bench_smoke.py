"""The bench's pieces on a tiny tenant: S1 + S2 (3 targets, 30 contacts), every figure present.

The emulator runs in its own process as in the bench; the product and naive runs are called in-process to
keep this to a few seconds. Timing is never asserted: speed is the bench's job, not the suite's."""

from __future__ import annotations

from pathlib import Path

from bench.children import run_in_process
from bench.report import render
from bench.scenarios import Bench, Sizes, quota_bound_windows, quota_figures, run_scenarios

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
    assert first["emulator_cpu_s"] > 0  # the emulator answered every call of the run
    assert s1["naive"]["created"] == 30 and s1["ratios"]["all_calls_per_target"] is not None
    after, steady = s2["runs"]
    assert steady["written"] == 0 and steady["unchanged"] == 3 * 30
    assert s2["naive"]["written"] == 0
    text = render({"mode": "", "machine": {"date": "", "nproc": 2, "python": "", "platform": ""},
                   "scenarios": results})
    assert "S2" in text and "emulator busy" in text


def test_s4_runs_the_directory_first_then_after_steady_and_churn(tmp_path: Path) -> None:
    sizes = Sizes(s4_users=300, s4_targets=2, s4_naive_targets=1)
    (s4,) = run_scenarios(Bench(tmp_path, sizes, runner=run_in_process), {"S4"})
    first, after, steady, churn = s4["runs"]
    assert [r["label"] for r in s4["runs"]] == ["S4 first sync", "S4 run after it", "S4 steady state", "S4 churn"]
    assert first["created"] == 2 * (first["source_count"] - 1) and steady["written"] == 0  # not their own cards
    # 3 of the 300 generated users renamed, 3 hired and 3 suspended: each target's cards follow
    assert (churn["created"], churn["updated"], churn["deleted"]) == (2 * 3, 2 * 3, 2 * 3)
    assert churn["statuses"] == {"ok": 2} and churn["peak_rss_mib"] > 0
    assert any("3 users renamed" in n and "3 hired, 3 suspended" in n for n in s4["notes"])
    assert s4["ratios"] is not None and s4["naive"]["created"] > 0  # against the first sync, as the naive ran


def test_s7_measures_the_watch_end_to_end(tmp_path: Path) -> None:
    sizes = Sizes(s7_contacts=10, s7_targets=3, s7_watch_seconds=1.0, s7_quiet_watches=2)
    (s7,) = run_scenarios(Bench(tmp_path, sizes, runner=run_in_process), {"S7"})
    watch = s7["watch"]
    assert watch["targets_with_edit"] == 3  # every target got the edit...
    assert watch["edit_to_last_target_s"] >= 0  # ...and the product recorded when
    assert 0 < watch["idle_people_calls_per_minute"] <= 60 * 3  # one read a watch, nothing else
    assert "one source edit at all 3/3 targets" in render(
        {"mode": "", "machine": {"date": "", "nproc": 2, "python": "", "platform": ""}, "scenarios": [s7]})


def test_s8_and_s9_report_the_quota_bound_the_queue_and_the_timeline(tmp_path: Path) -> None:
    sizes = Sizes(s8_contacts=30, s8_targets=3, s8_window=2.0, s9_contacts=20, s9_targets=4, s9_window=2.0,
                  s9_naive_targets=1)
    s8, s9 = run_scenarios(Bench(tmp_path, sizes, runner=run_in_process), {"S8", "S9"})
    assert [s8["name"], s9["name"]] == ["S8", "S9"]
    for s, targets, contacts in ((s8, 3, 30), (s9, 4, 20)):
        (first,) = s["runs"]
        assert first["statuses"] == {"ok": targets} and first["created"] == targets * contacts
        assert first["peak_rss_mib"] > 0 and first["cpu_us_per_contact_written"] is not None
        assert len(first["finished_s"]) == targets and 0 <= first["finished_s"][-1] <= first["wall_s"]
        quota = s["quota"]
        assert quota["bound_windows"] == 0 and quota["converged"] is True  # one batch fits in the first window
        assert quota["quota_rejected_per_target"] == 0
        queue = first["queue"]
        assert queue["targets"] == targets and len(queue["started_s"]) == targets
        assert 0 <= queue["mean_s"] <= queue["max_s"] <= first["wall_s"]
        assert queue["mean_over_wall"] == queue["mean_s"] / first["wall_s"]
        assert queue["started_s"][0] <= first["finished_s"][0]
    assert s8["naive"] is None and any("naive: not run" in n for n in s8["notes"])
    assert s9["naive"]["created"] == 20 and s9["ratios"]["wall_per_target"] is not None
    text = render({"mode": "", "machine": {"date": "", "nproc": 2, "python": "", "platform": ""},
                   "scenarios": [s8, s9]})
    assert "targets queued while their quota allowed" in text and "quota bound 0 window(s)" in text


def test_the_quota_bound_is_one_definition() -> None:
    assert quota_bound_windows(2000) == 1  # 10 batch creates = 60 write units: a second window
    assert quota_bound_windows(3000) == 2
    assert quota_bound_windows(500) == 0
    figures = quota_figures({"wall_s": 90.0, "quota_rejected": 100, "targets": 200, "statuses": {"ok": 200},
                             "created": 400_000, "source_count": 2000}, 2000, 60.0)
    assert figures["bound_s"] == 60 and figures["wall_over_bound"] == 1.5
    assert figures["quota_rejected_per_target"] == 0.5 and figures["converged"] is True


def test_without_naive_targets_there_is_no_naive_run(tmp_path: Path) -> None:
    """`--size s4_naive_targets=0` (or any naive size 0): nothing to extrapolate from, so no naive run (its
    per-target figures divided by zero), and so no naive-versus-product ratio for the scenario."""
    from types import SimpleNamespace

    bench = Bench(tmp_path, Sizes(s4_naive_targets=0), runner=run_in_process)
    no_targets = SimpleNamespace(naive_emails=())
    assert bench.naive("S4 naive first sync", None, no_targets, {}, 50) is None  # type: ignore[arg-type]
