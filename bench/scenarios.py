"""The scenarios S1-S9: tenants, emulator processes, product runs, naive runs, and what each one reports.

Every measured product run is a fresh `bench.drive` process and every naive run a fresh `bench.naive`
process; the emulator's call counts are reset just before each, so its calls and 429s are that run's.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .children import Runner, run_child
from .emulator_proc import EmulatorProcess, Quotas
from .figures import naive_figures, product_figures, ratios
from .mutate import (
    Users,
    churn_directory,
    churn_source,
    edit_one_source_contact,
    has_tag,
    tamper_targets,
    targets_holding,
)
from .naive import TAG as NAIVE_TAG
from .queueing import Limits, queue_figures
from .tenant import TARGET_SELECTOR, Tenant, write_tenant
from .watching import WatchingProduct

JSON = dict[str, Any]
PRODUCT_TAG = "contactsync:"  # the clientData key prefix of every contact ContactSync creates (README)
BATCH_CREATE = 200  # contacts per batchCreateContacts
BATCH_WRITE_UNITS = 6  # critical-write units per batch create (docs/architecture.md, "Google's limits")
WRITES_PER_WINDOW = 30  # Google's default critical writes per user per minute


@dataclass(frozen=True)
class Sizes:
    s1_contacts: int = 2000
    s1_targets: int = 200
    naive_targets: int = 2  # S1-S3: the naive script syncs this many targets; per-target figures extrapolate
    s4_users: int = 20000
    s4_targets: int = 50
    s4_naive_targets: int = 1
    s5_jobs: int = 10
    s5_targets: int = 2000
    s5_contacts: int = 10  # per job: S5 measures the cost of an unchanged target, not of contacts
    s5_naive_targets: int = 5
    s6_contacts: int = 3000
    s6_targets: int = 20
    s6_window: float = 60.0
    s7_contacts: int = 300
    s7_targets: int = 200
    s7_watch_seconds: float = 60.0  # the product's default
    s7_quiet_watches: int = 3  # how many watch intervals the idle cost is measured over
    s8_contacts: int = 2000
    s8_targets: int = 200
    s8_window: float = 60.0
    s8_naive_targets: int = 0  # at one write per contact, a naive target needs ceil(N/30) - 1 windows: 66 min
    s9_contacts: int = 500
    s9_targets: int = 2000
    s9_window: float = 60.0
    s9_naive_targets: int = 0  # 16 min a target at a 60 s window
    fast_window: float = 0.05  # S1-S5: quotas off at the emulator; the product's pacer gets this window

    def override(self, assignments: list[str]) -> Sizes:
        """`--size s5_targets=500` style overrides."""
        kinds = {f.name: f.type for f in fields(self)}
        changes: dict[str, Any] = {}
        for item in assignments:
            key, _, value = item.partition("=")
            if key not in kinds:
                raise ValueError(f"unknown size {key!r}; one of {', '.join(kinds)}")
            changes[key] = float(value) if kinds[key] in (float, "float") else int(value)
        return replace(self, **changes)


FULL = Sizes()
QUICK = Sizes(s1_contacts=500, s1_targets=20, naive_targets=1, s4_users=2000, s4_targets=10, s5_jobs=3,
              s5_targets=100, s5_contacts=5, s5_naive_targets=3, s6_contacts=1200, s6_targets=5, s6_window=6.0,
              s7_contacts=100, s7_targets=20, s7_watch_seconds=5.0, s7_quiet_watches=3,
              # S8 quick: a bound of one window (6 batch creates) and more targets than are in flight at once
              s8_contacts=1200, s8_targets=80, s8_window=6.0,
              s9_contacts=100, s9_targets=300, s9_window=6.0, s9_naive_targets=1)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def quota_bound_windows(contacts: int) -> int:
    """Google's limits (docs/architecture.md): a first sync of `contacts` needs ceil(N/200) batch creates of 6
    critical-write units; 30 fit in a window, the first window's worth goes at once."""
    units = BATCH_WRITE_UNITS * math.ceil(contacts / BATCH_CREATE)
    try:  # the product's own statement of the bound, when it has one
        from sync_core.google.quota import quota_bound_minutes

        return int(quota_bound_minutes(units, WRITES_PER_WINDOW))
    except ImportError:
        return max(0, math.ceil(units / WRITES_PER_WINDOW) - 1)


def naive_bound_windows(contacts: int) -> int:
    """The naive script's bound: one createContact (one critical-write unit) per contact."""
    return max(0, math.ceil(contacts / WRITES_PER_WINDOW) - 1)


def quota_figures(first: JSON, contacts: int, window: float) -> JSON:
    """A first sync under Google's default quotas against its bound (S6, S8, S9): the bound, the ratio, 429s
    per target, and whether it converged in one run."""
    windows = quota_bound_windows(contacts)
    bound_s = windows * window
    return {
        "window_s": window,
        "bound_windows": windows,
        "bound_s": bound_s,
        "wall_over_bound": first["wall_s"] / bound_s if bound_s else None,
        "quota_rejected_per_target": first["quota_rejected"] / max(1, first["targets"]),
        "converged": first["statuses"] == {"ok": first["targets"]} and first["created"] == first["targets"] * (
            first["source_count"] or contacts),
        "naive_bound_s": naive_bound_windows(contacts) * window,
    }


def quota_notes(contacts: int, window: float, naive_run: bool) -> list[str]:
    windows, naive_windows = quota_bound_windows(contacts), naive_bound_windows(contacts)
    notes = [f"quotas {Quotas(enforced=True, window=window).describe()}; bound per target: ceil({BATCH_WRITE_UNITS} x "
             f"ceil(N/{BATCH_CREATE}) / {WRITES_PER_WINDOW}) - 1 = {windows} window(s) = {windows * window:g} s "
             "(targets run in parallel, so it is the job's bound too)",
             "queued while quota allowed: per target, the time from the run's start to its finish when none of its "
             "calls was at Google and its user's quota had room for its next call (bench/README.md)"]
    if not naive_run:
        notes.append(f"naive: not run; one createContact per contact cannot finish a target before ceil(N/30) - 1 = "
                     f"{naive_windows} windows ({naive_windows * window / 60:g} min)")
    return notes


class Bench:
    def __init__(self, workdir: Path, sizes: Sizes, runner: Runner = run_child) -> None:
        self.workdir = workdir
        self.sizes = sizes
        self.run_child = runner

    # --- plumbing -------------------------------------------------------------------------------
    @contextmanager
    def emulator(self, tenant: Tenant, quotas: Quotas) -> Iterator[EmulatorProcess]:
        say(f"emulator: {tenant.state_file.name}, quotas {quotas.describe()}")
        with EmulatorProcess(tenant.state_file, self.workdir, quotas) as emu:
            yield emu

    def settings(self, emu: EmulatorProcess, tenant: Tenant, db: str) -> JSON:
        return {
            "DATABASE_URL": f"sqlite:///{self.workdir / db}.db",
            "GOOGLE_APPLICATION_CREDENTIALS": str(emu.credentials),
            "CONTACTSYNC_ADMIN_EMAIL": tenant.admin_email,
            "CONTACTSYNC_GOOGLE_API_ENDPOINT": emu.url,
            "CONTACTSYNC_QUOTA_WINDOW_SECONDS": emu.quotas.window,  # must be the emulator's window
        }

    def create(self, settings: JSON, jobs: list[JSON]) -> None:
        self.run_child("bench.drive", {"settings": settings, "create": jobs, "run": []}, self.workdir)

    def product(self, label: str, emu: EmulatorProcess, settings: JSON, names: list[str], tenant: Tenant, *,
                queue: bool = False) -> JSON:
        """One measured product run; with `queue`, also how long its targets sat queued while their quota
        allowed (from the emulator's call log, kept for this run only)."""
        say(f"{label}: product run of {', '.join(names) if len(names) < 4 else f'{len(names)} jobs'}")
        emu.reset_calls()
        if queue:
            emu.control.record_calls()
        emulator_cpu = emu.cpu_seconds()
        out = self.run_child("bench.drive", {"settings": settings, "run": names}, self.workdir)
        figures = product_figures(label, out, emu.calls(), tenant.target_emails)
        if emulator_cpu is not None and (now := emu.cpu_seconds()) is not None:
            # from the product's start to its end (its imports too: the emulator is idle then)
            figures["emulator_cpu_s"] = now - emulator_cpu
        if queue:
            log = emu.control.call_log()
            emu.control.record_calls(False)
            (self.workdir / f"calls-{label.split()[0]}.json").write_text(json.dumps(log), encoding="utf-8")  # --keep
            finished = {email: at for r in out["runs"] for email, at in r.get("finished_at", {}).items()}
            figures["queue"] = queue_figures(log, out["started_at"], finished, out["wall_s"],
                                             Limits.from_emulator(emu.control.quotas()))
        say(f"{label}: {figures['wall_s']:.1f} s, {figures['written']} written, {figures['quota_rejected']} 429s")
        return figures

    def naive(self, label: str, emu: EmulatorProcess, tenant: Tenant, source: JSON, job_targets: int) -> JSON | None:
        """The naive script's run over the tenant's naive targets; None when it has none (`--size
        s4_naive_targets=0`): there is nothing to extrapolate from."""
        if not tenant.naive_emails:
            say(f"{label}: no naive run (no naive targets)")
            return None
        say(f"{label}: naive run of {len(tenant.naive_emails)} target(s)")
        emu.reset_calls()
        spec = {"endpoint": emu.url, "credentials": str(emu.credentials), "admin_email": tenant.admin_email,
                "targets": list(tenant.naive_emails), "source": source}
        out = self.run_child("bench.naive", spec, self.workdir)
        return naive_figures(label, out, emu.calls(), tenant.naive_emails, job_targets)

    def users(self, emu: EmulatorProcess) -> Users:
        return Users(emu.url, emu.credentials)

    def fast(self) -> Quotas:
        return Quotas(enforced=False, window=self.sizes.fast_window)

    # --- S1, S2, S3: one Contact Sync job, first sync, the runs after it, churn ----------------------
    def personal_series(self, wanted: set[str]) -> list[JSON]:
        s = self.sizes
        last = max(int(name[1]) for name in wanted)
        tenant = write_tenant(self.workdir / "s1.json", contacts=s.s1_contacts, targets=s.s1_targets,
                              naive_targets=s.naive_targets)
        source = {"kind": "personal", "email": tenant.source_email, "group": tenant.source_group}
        note = (f"quotas {self.fast().describe()}; the naive script syncs {s.naive_targets} target(s) one after "
                f"another and its per-target figures are extrapolated to {s.s1_targets}")
        results: list[JSON] = []
        with self.emulator(tenant, self.fast()) as emu:
            settings = self.settings(emu, tenant, "s1")
            self.create(settings, [{"kind": "personal", "name": "S1", "source_email": tenant.source_email,
                                    "group_name": tenant.source_group, "targets": [TARGET_SELECTOR]}])
            first = self.product("S1 first sync", emu, settings, ["S1"], tenant)
            naive_first = self.naive("S1 naive first sync", emu, tenant, source, s.s1_targets)
            results.append(scenario("S1", f"first sync {s.s1_contacts} contacts -> {s.s1_targets} targets",
                                    [first], naive_first, [note]))
            if last < 2:
                return results
            after = self.product("S2 run after the first sync", emu, settings, ["S1"], tenant)
            steady = self.product("S2 steady state", emu, settings, ["S1"], tenant)
            naive_steady = self.naive("S2 naive steady state", emu, tenant, source, s.s1_targets)
            s2_note = (f"the run after the first sync took {after['wall_s'] / first['wall_s']:.0%} of the first "
                       f"sync's wall time and {after['cpu_s'] / first['cpu_s']:.0%} of its CPU")
            results.append(scenario("S2", "the run after the first sync, then the steady state (nothing changed)",
                                    [after, steady], naive_steady, [s2_note, note]))
            if last < 3:
                return results
            users = self.users(emu)
            churn = churn_source(users, tenant.source_email, tenant.source_group, edit=0.05, add=0.01, delete=0.01)
            tampered = tenant.target_emails[: max(1, round(len(tenant.target_emails) * 0.05))]
            tamper = tamper_targets(users, tampered, has_tag(PRODUCT_TAG))
            tamper_targets(users, tenant.naive_emails, has_tag(NAIVE_TAG))
            product = self.product("S3 churn", emu, settings, ["S1"], tenant)
            naive = self.naive("S3 naive churn", emu, tenant, source, s.s1_targets)
            s3_note = (f"source: {churn['edited']} edited, {churn['added']} added, {churn['deleted']} deleted; "
                       f"{len(tampered)} targets tampered ({tamper['edited']} edited, {tamper['deleted']} deleted "
                       "one of our contacts); the naive targets were tampered the same way")
            results.append(scenario("S3", "churn: 5% edited, 1% added, 1% deleted, 5% of targets tampered",
                                    [product], naive, [s3_note, note]))
        return results

    # --- S4: Directory Sync ---------------------------------------------------------------------------
    def directory_sync(self) -> JSON:
        s = self.sizes
        tenant = write_tenant(self.workdir / "s4.json", contacts=0, targets=s.s4_targets,
                              directory_users=s.s4_users, naive_targets=s.s4_naive_targets)
        source = {"kind": "directory", "domain": "example.com"}
        with self.emulator(tenant, self.fast()) as emu:
            settings = self.settings(emu, tenant, "s4")
            self.create(settings, [{"kind": "directory", "name": "S4", "domains": ["example.com"],
                                    "targets": [TARGET_SELECTOR]}])
            first = self.product("S4 first sync", emu, settings, ["S4"], tenant)
            after = self.product("S4 run after it", emu, settings, ["S4"], tenant)
            steady = self.product("S4 steady state", emu, settings, ["S4"], tenant)
            naive = self.naive("S4 naive first sync", emu, tenant, source, s.s4_targets)
            # the seed's generated users (`user00000@`..): the directory's users but for the demo's and the bench's
            churn = churn_directory(emu.control, s.s4_users, rename=0.01, hire=0.01, suspend=0.01)
            churned = self.product("S4 churn", emu, settings, ["S4"], tenant)
        notes = [f"{tenant.directory_users} users in example.com (the source: all but suspended/archived/hidden, and "
                 f"not the target's own card); quotas {self.fast().describe()}; the naive script syncs "
                 f"{s.s4_naive_targets} target(s), extrapolated to {s.s4_targets}",
                 f"the run after the first sync took {after['wall_s'] / first['wall_s']:.0%} of the first sync's wall "
                 f"time and {after['cpu_s'] / first['cpu_s']:.0%} of its CPU",
                 f"churn: {churn['renamed']} users renamed (half a new name, half a new primary address), "
                 f"{churn['hired']} hired, {churn['suspended']} suspended"]
        return scenario("S4", f"Directory Sync {tenant.directory_users} users -> {s.s4_targets} targets",
                        [first, after, steady, churned], naive, notes, headline=0)

    # --- S5: many jobs sharing many targets, steady state ---------------------------------------------
    def shared_targets(self) -> JSON:
        s = self.sizes
        tenant = write_tenant(self.workdir / "s5.json", contacts=s.s5_contacts, targets=s.s5_targets,
                              extra_groups=s.s5_jobs - 1, extra_group_contacts=s.s5_contacts,
                              naive_targets=s.s5_naive_targets)
        groups = (tenant.source_group, *tenant.extra_groups)
        names = [f"S5 job {i + 1}" for i in range(s.s5_jobs)]
        source = {"kind": "personal", "email": tenant.source_email, "group": tenant.source_group}
        with self.emulator(tenant, self.fast()) as emu:
            settings = self.settings(emu, tenant, "s5")
            self.create(settings, [{"kind": "personal", "name": name, "source_email": tenant.source_email,
                                    "group_name": group, "targets": [TARGET_SELECTOR]}
                                   for name, group in zip(names, groups, strict=True)])
            first = self.product("S5 first sync (setup)", emu, settings, names, tenant)
            after = self.product("S5 run after it (setup)", emu, settings, names, tenant)
            steady = self.product("S5 steady state", emu, settings, names, tenant)
            self.naive("S5 naive first sync (setup)", emu, tenant, source, s.s5_targets)
            naive = self.naive("S5 naive steady state", emu, tenant, source, s.s5_targets)
        notes = [f"{s.s5_jobs} jobs of {s.s5_contacts} contacts each, all to the same {s.s5_targets} targets, run one "
                 f"after another in one process; per-target figures are per (job, target); quotas "
                 f"{self.fast().describe()}; the naive script: one job's group to {s.s5_naive_targets} targets"]
        return scenario("S5", f"{s.s5_jobs} jobs sharing {s.s5_targets} targets, steady state",
                        [first, after, steady], naive, notes, headline=2)

    # --- S6, S8, S9: a first sync under Google's default quotas -------------------------------------------
    def under_quotas(self, name: str, title: str, *, contacts: int, targets: int, window: float,
                     naive_targets: int = 0) -> JSON:
        """First sync of `contacts` to `targets` under Google's default quotas over `window` seconds: wall time
        against the quota bound, 429s, and how long targets sat queued while their quota allowed."""
        tenant = write_tenant(self.workdir / f"{name.lower()}.json", contacts=contacts, targets=targets,
                              naive_targets=naive_targets)
        quotas = Quotas(enforced=True, window=window)
        naive = None
        with self.emulator(tenant, quotas) as emu:
            settings = self.settings(emu, tenant, name.lower())
            self.create(settings, [{"kind": "personal", "name": name, "source_email": tenant.source_email,
                                    "group_name": tenant.source_group, "targets": [TARGET_SELECTOR]}])
            first = self.product(f"{name} first sync under quotas", emu, settings, [name], tenant, queue=True)
            if naive_targets:
                source = {"kind": "personal", "email": tenant.source_email, "group": tenant.source_group}
                naive = self.naive(f"{name} naive first sync", emu, tenant, source, targets)
        notes = quota_notes(contacts, window, naive_run=naive is not None)
        if naive is not None:
            notes.append(f"the naive script syncs {naive_targets} target(s) one after another under the same quotas "
                         f"(backing off on 429); its per-target figures are extrapolated to {targets}")
        result = scenario(name, title, [first], naive, notes)
        result["quota"] = quota_figures(first, contacts, window)
        return result

    def default_quotas(self) -> JSON:
        s = self.sizes
        return self.under_quotas("S6", f"Google's default quotas: first sync {s.s6_contacts} contacts -> "
                                 f"{s.s6_targets} targets", contacts=s.s6_contacts, targets=s.s6_targets,
                                 window=s.s6_window)

    def big_job(self) -> JSON:
        s = self.sizes
        return self.under_quotas("S8", f"big job under Google's default quotas: first sync {s.s8_contacts} contacts "
                                 f"-> {s.s8_targets} targets", contacts=s.s8_contacts, targets=s.s8_targets,
                                 window=s.s8_window, naive_targets=s.s8_naive_targets)

    def whole_company(self) -> JSON:
        s = self.sizes
        return self.under_quotas("S9", f"a whole company receiving one label: first sync {s.s9_contacts} contacts "
                                 f"-> {s.s9_targets} targets", contacts=s.s9_contacts, targets=s.s9_targets,
                                 window=s.s9_window, naive_targets=s.s9_naive_targets)

    # --- S7: the source watch: one edit to every target, and the idle cost -----------------------------
    def source_watch(self) -> JSON:
        s = self.sizes
        tenant = write_tenant(self.workdir / "s7.json", contacts=s.s7_contacts, targets=s.s7_targets)
        with self.emulator(tenant, self.fast()) as emu:
            settings = self.settings(emu, tenant, "s7")
            self.create(settings, [{"kind": "personal", "name": "S7", "source_email": tenant.source_email,
                                    "group_name": tenant.source_group, "targets": [TARGET_SELECTOR]}])
            first = self.product("S7 first sync (setup)", emu, settings, ["S7"], tenant)
            users = self.users(emu)
            with WatchingProduct(settings, s.s7_watch_seconds, self.workdir) as product:
                emu.reset_calls()
                product.wait(lambda: _people_calls(emu) > 0, s.s7_watch_seconds * 3)  # its first watch
                emu.reset_calls()
                quiet_s = s.s7_watch_seconds * s.s7_quiet_watches
                product.sleep(quiet_s)
                idle = _people_calls(emu)
                say(f"S7: {idle} People calls in {quiet_s:g} s with nothing changed")
                product.edited_at = product.now()
                edited = edit_one_source_contact(users, tenant.source_email, tenant.source_group, "S7-edit")
                took = (product.wait_reached("S7", s.s7_watch_seconds * 2 + 600) - product.edited_at).total_seconds()
                say(f"S7: the edit was at every target {took:.1f} s after it was made")
            holding = targets_holding(users, tenant.target_emails, "S7-edit", has_tag(PRODUCT_TAG))
        watch = {
            "watch_s": s.s7_watch_seconds,
            "targets": s.s7_targets,
            "edit_to_last_target_s": took,
            "bound_s": s.s7_watch_seconds + 60,
            "targets_with_edit": holding,
            "idle_people_calls_per_minute": idle / (quiet_s / 60),
            "edited": edited,
        }
        notes = [f"serve's scheduler with its source watch every {s.s7_watch_seconds:g} s "
                 f"(CONTACTSYNC_SCHEDULER_WATCH_SECONDS) and no scheduled run due; one contact of the source group "
                 f"renamed; the time is from the edit until the job records that a run had it at every target "
                 f"(then every target is read to check); quotas {self.fast().describe()}"]
        result = scenario("S7", f"source watch: one edit -> {s.s7_targets} targets, and the idle cost",
                          [first], None, notes)
        result["watch"] = watch
        return result


def _people_calls(emu: EmulatorProcess) -> int:
    return sum(n for method, n in emu.calls().get("byMethod", {}).items() if method.startswith("people."))


def scenario(name: str, title: str, runs: list[JSON], naive: JSON | None, notes: list[str],
             headline: int = -1) -> JSON:
    """One scenario's result; the ratio compares the naive run with the `headline` product run."""
    return {"name": name, "title": title, "runs": runs, "naive": naive, "notes": notes,
            "ratios": ratios(runs[headline], naive) if naive else None}


SCENARIOS: dict[str, Callable[[Bench], list[JSON]]] = {
    "S4": lambda b: [b.directory_sync()],
    "S5": lambda b: [b.shared_targets()],
    "S6": lambda b: [b.default_quotas()],
    "S7": lambda b: [b.source_watch()],
    "S8": lambda b: [b.big_job()],
    "S9": lambda b: [b.whole_company()],
}


def run_scenarios(bench: Bench, wanted: set[str], *, keep_going: bool = False) -> list[JSON]:
    """The scenarios asked for, in order. With `keep_going`, a scenario that fails (a child's crash, an
    emulator that would not start) is reported as such and the others still run."""
    results: list[JSON] = []
    series = {n for n in wanted if n in ("S1", "S2", "S3")}
    steps: list[tuple[str, Callable[[Bench], list[JSON]]]] = []
    if series:
        def personal(b: Bench) -> list[JSON]:
            return [r for r in b.personal_series(series) if r["name"] in wanted]

        steps.append((",".join(sorted(series)), personal))
    steps.extend((name, SCENARIOS[name]) for name in sorted(wanted - series))
    for name, step in steps:
        try:
            results.extend(step(bench))
        except Exception as exc:
            if not keep_going:
                raise
            say(f"{name} failed: {exc}")
            results.append({"name": name, "title": "failed", "runs": [], "naive": None, "ratios": None,
                            "notes": [f"failed: {exc}"[:2000]]})
    return results
