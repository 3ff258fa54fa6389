"""A run that dies blocks nobody and leaves nothing wrong: real `contactsync run` processes, SIGKILLed at
random moments of a first sync of 1,000 contacts to 20 targets, each followed at once by the next run.

The next run must start at once (the dead holder ran on this host: its lease is taken over without waiting
for it to lapse), and once a run gets to the end every target holds exactly the source: no contact twice
(one created by a killed run before its link was stored is adopted by its ownership tag, not created
again), and nothing of the target's own touched. Then `jobs delete --remove-contacts`, killed half way, is
finished by the next one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core import store
from sync_core.domain.models import RunStatus
from sync_core.runtime import Runtime
from tests.conftest import Google
from tests.integration.helpers import (
    as_user,
    contacts,
    create_job,
    group_named,
    groups_of,
    make_runtime,
    ours,
    source_keys,
    user_id,
)

SOURCE_SIZE = 1000
TARGETS = tuple(f"user{i:05d}@example.com" for i in range(20))
KILLS = 20
FOREIGN_PER_TARGET = 3
SYNCED_FIELDS = ("names", "emailAddresses", "phoneNumbers", "organizations", "addresses")
JSON = dict[str, Any]


@pytest.fixture
def big_google(tmp_path: Path) -> Iterator[Google]:
    ws = Workspace()
    seed = seed_workspace(ws, contacts=SOURCE_SIZE, extra_users=len(TARGETS))
    with running_emulator(ws, tmp_path) as handle:
        yield Google(handle, seed)


@dataclass
class Figures:
    kills: int = 0
    runs: int = 0
    written_at_kill: list[int] = field(default_factory=list)  # contacts at the targets when each kill came
    restart_seconds: list[float] = field(default_factory=list)


def _env(google: Google, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
        "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email,
        "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
        "CONTACTSYNC_QUOTA_WINDOW_SECONDS": "0.05",
        "CONTACTSYNC_RETRY_MAX_WAIT_SECONDS": "0.01",
    }


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from contactsync.cli import main; main()", *args]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _lease_pid(db_file: Path) -> int | None:
    with sqlite3.connect(db_file, timeout=30) as db:
        row = db.execute("SELECT pid FROM job_lease").fetchone()
    return None if row is None else int(row[0])


def _wait_for_lease(proc: subprocess.Popen[bytes], db_file: Path, log: Path) -> float:
    """Seconds from the start of `proc` until it holds the job's lease (it must, well before a TTL)."""
    started = time.monotonic()
    while time.monotonic() - started < 20:
        if _lease_pid(db_file) == proc.pid:
            return time.monotonic() - started
        code = proc.poll()
        assert code is None, f"the run after a kill ended ({code}) without taking the lease:\n{log.read_text()[-2000:]}"
        time.sleep(0.01)
    raise AssertionError(f"the run after a kill did not get the lease within 20 s:\n{log.read_text()[-2000:]}")


def _created(google: Google, ids: list[str]) -> int:
    """Contacts at the targets (the foreign ones included): grows as a run writes."""
    with google.ws.lock:
        return sum(len(google.ws.people_of(uid)["contacts"]) for uid in ids)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def _seed_foreign(rt: Runtime) -> None:
    """Each target's own contacts, one of them in a group of its own: never to be touched."""
    for email in TARGETS:
        people = as_user(rt, email)
        group = people.contactGroups().create(body={"contactGroup": {"name": "Own circle"}}).execute()
        for n in range(FOREIGN_PER_TARGET):
            body: JSON = {"names": [{"givenName": f"Own {n}", "familyName": email}]}
            if n == 0:
                body["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}]
            people.people().createContact(body=body).execute()


def _foreign(google: Google) -> dict[str, JSON]:
    untagged: dict[str, JSON] = {}
    for email in TARGETS:
        for rn, person in contacts(google, email).items():
            if not any(d["key"].startswith("contactsync:") for d in person.get("clientData", [])):
                untagged[f"{email}/{rn}"] = person
    return untagged


def _strip(entries: list[JSON]) -> list[JSON]:
    return [{k: v for k, v in e.items() if k != "metadata"} for e in entries]


def _assert_every_target_equals_the_source(google: Google) -> None:
    expected = source_keys(google)
    source = contacts(google, google.seed.source_email)
    assert len(expected) == SOURCE_SIZE
    for email in TARGETS:
        held = ours(google, email)  # asserts that no source contact is there twice
        assert set(held) == expected, f"{email}: {len(held)} of ours, {len(expected)} expected"
        group = group_named(google, email, google.seed.source_group_name)
        assert group is not None
        groups = google.ws.people_of(user_id(google, email))["groups"].values()
        labels = [g for g in groups if g.get("name") == group["name"]]
        assert len(labels) == 1, f"{email}: the job's label is there {len(labels)} times"
        for key, person in held.items():
            assert groups_of(person) == {group["resourceName"]}, (email, key)
            for name in SYNCED_FIELDS:
                assert _strip(person.get(name, [])) == _strip(source[key].get(name, [])), (email, key, name)


def test_killed_runs_are_taken_over_at_once_and_the_sync_ends_exact(big_google: Google, tmp_path: Path) -> None:
    google = big_google
    db_file = tmp_path / "crash.db"
    rt = make_runtime(google, f"sqlite:///{db_file}")
    create_job(rt, google, *(f"email:{t}" for t in TARGETS))
    _seed_foreign(rt)
    foreign_before = _foreign(google)
    assert len(foreign_before) == FOREIGN_PER_TARGET * len(TARGETS)
    ids = [user_id(google, t) for t in TARGETS]
    full = len(foreign_before) + SOURCE_SIZE * len(TARGETS)
    env = _env(google, f"sqlite:///{db_file}")
    rng = random.Random(int(os.environ.get("CONTACTSYNC_KILL_SEED", "16")))
    figures = Figures()
    log = tmp_path / "runs.log"
    began = time.monotonic()

    proc = _start(env, log, "run", "Partners")
    figures.runs += 1
    for kill in range(KILLS):
        if kill:
            figures.restart_seconds.append(_wait_for_lease(proc, db_file, log))
        # A random moment: most often once the run has written a random number more contacts (mid-batch or
        # between two), else a random time after it started (reading the source, planning, reading targets).
        before = _created(google, ids)
        if rng.random() < 0.7 and before < full:
            # spread what is left over the kills to come, so that most of them fall inside the first sync
            goal = before + rng.randint(1, max(1, 2 * (full - before) // (KILLS - kill + 2)))
            deadline = time.monotonic() + 15
            while _created(google, ids) < goal and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.005)
        else:
            time.sleep(rng.uniform(0.05, 1.0))
        if proc.poll() is not None:
            break  # it finished before the kill: nothing left to interrupt
        _kill(proc)
        figures.kills += 1
        figures.written_at_kill.append(_created(google, ids) - len(foreign_before))
        proc = _start(env, log, "run", "Partners")
        figures.runs += 1

    figures.restart_seconds.append(_wait_for_lease(proc, db_file, log))
    assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    elapsed = time.monotonic() - began

    _assert_every_target_equals_the_source(google)
    assert _foreign(google) == foreign_before  # not one of the targets' own contacts touched
    with store.session_scope(rt.db) as session:
        runs = store.last_runs(session, job_id=1, limit=100)
    statuses = [r.status for r in runs]  # newest first
    assert statuses[0] is RunStatus.ok
    assert all(s is RunStatus.abandoned for s in statuses[1:]), statuses  # each killed run, found dead
    assert figures.kills == KILLS, f"only {figures.kills} kills before the sync ended"
    mid_sync = sum(1 for n in figures.written_at_kill if n < SOURCE_SIZE * len(TARGETS))
    assert mid_sync >= KILLS // 2, figures.written_at_kill  # most kills interrupted the first sync itself
    # A refused run exits at once ("already running", caught above); these bound process start-up on a busy
    # machine, well under the 45 s a lapsing lease would take.
    assert max(figures.restart_seconds) < 40, figures.restart_seconds
    print(  # the figures the issue asks for (pytest -s shows them)
        f"\nkills={figures.kills} runs={figures.runs} run rows={len(runs)} total={elapsed:.1f}s "
        f"restart (spawn to lease) max={max(figures.restart_seconds):.2f}s "
        f"mean={sum(figures.restart_seconds) / len(figures.restart_seconds):.2f}s duplicates=0\n"
        f"ours at the targets at each kill: {figures.written_at_kill}"
    )

    # --- a deletion that removes the contacts, killed half way, is finished by the next one ---------------
    ours_before = _created(google, ids) - len(foreign_before)
    proc = _start(env, log, "jobs", "delete", "Partners", "--remove-contacts")
    goal = _created(google, ids) - rng.randint(SOURCE_SIZE, ours_before // 2)
    deadline = time.monotonic() + 30
    while _created(google, ids) > goal and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the deletion ended before it could be killed"
    _kill(proc)
    with store.session_scope(rt.db) as session:
        assert store.get_job_by_name(session, name="Partners") is not None  # kept until its contacts are gone
    left = _created(google, ids) - len(foreign_before)
    assert 0 < left < ours_before, left

    again = _start(env, log, "jobs", "delete", "Partners", "--remove-contacts")
    assert again.wait(timeout=120) == 0, log.read_text()[-3000:]
    assert _created(google, ids) == len(foreign_before)
    assert _foreign(google) == foreign_before
    for email in TARGETS:
        assert not ours(google, email)
    with store.session_scope(rt.db) as session:
        assert store.get_job_by_name(session, name="Partners") is None
