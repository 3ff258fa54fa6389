"""People API per-user quotas, through the real googleapiclient (and the pure ledger, with Hypothesis)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.__main__ import parse_args
from emulator.quota import (
    CONTACT_GROUP_READS,
    CRITICAL_WRITE_REQUESTS,
    DAILY_CONTACT_WRITES,
    METHOD_COSTS,
    METRICS,
    QuotaConfig,
    QuotaLedger,
    costs_of,
)
from emulator.testing import EmulatorHandle
from sync_core.google.errors import RetryableError, parse_error_body, translate
from tests.emulator.conftest import CONTACTS, DIRECTORY_USER_READONLY, build_service

ALICE_ID = "100000000000000000002"
BOB_ID = "100000000000000000003"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
GOOGLE = pytest.mark.parametrize("emulator", [QuotaConfig.google()], indirect=True, ids=["google-quotas"])


def spent(handle: EmulatorHandle, user_id: str = ALICE_ID) -> dict[str, int]:
    usage = handle.control.quotas()["usage"]
    return dict(usage.get(user_id, {}).get("units", {}))


def refused(call: Any) -> HttpError:
    with pytest.raises(HttpError) as exc:
        call.execute()
    assert exc.value.resp.status == 429
    return exc.value


def batch_create(people: Any, n: int, prefix: str = "C") -> Any:
    contacts = [{"contactPerson": {"names": [{"givenName": f"{prefix}{i}"}]}} for i in range(n)]
    return people.people().batchCreateContacts(body={"contacts": contacts, "readMask": "names"})


# --- what each method costs ---------------------------------------------------------------------------
@GOOGLE
def test_each_method_spends_its_cost(emulator: EmulatorHandle, people: Any) -> None:
    control = emulator.control
    a, b, c = control.add_contacts("alice@example.com", [{"names": [{"givenName": n}]} for n in "ABC"])
    group = control.add_group("alice@example.com", "Team")
    spare = control.add_group("alice@example.com", "Spare")
    photo = {"photoBytes": base64.b64encode(PNG).decode()}
    calls: list[tuple[str, Callable[[], Any], dict[str, int]]] = [
        (
            "get",
            lambda: people.people().get(resourceName=a["resourceName"], personFields="names"),
            {"critical_read": 1},
        ),
        (
            "getBatchGet",
            lambda: people.people().getBatchGet(resourceNames=[a["resourceName"]], personFields="names"),
            {"critical_read": 1},
        ),
        (
            "connections.list",
            lambda: people.people().connections().list(resourceName="people/me", personFields="names"),
            {"critical_read": 1},
        ),
        (
            "createContact",
            lambda: people.people().createContact(body={"names": [{"givenName": "New"}]}),
            {"critical_read": 1, "critical_write": 1, "daily_contact_write": 1},
        ),
        (
            "updateContact",
            lambda: people.people().updateContact(
                resourceName=b["resourceName"],
                updatePersonFields="names",
                body={"etag": b["etag"], "names": [{"givenName": "B2"}]},
            ),
            {"critical_read": 1, "critical_write": 1, "daily_contact_write": 1},
        ),
        (
            "batchCreateContacts of 3",
            lambda: batch_create(people, 3),
            {"critical_read": 6, "critical_write": 6, "daily_contact_write": 3},
        ),
        (
            "batchUpdateContacts of 2",
            lambda: people.people().batchUpdateContacts(
                body={
                    "contacts": {p["resourceName"]: {"etag": p["etag"], "names": [{"givenName": "U"}]} for p in (a, c)},
                    "updateMask": "names",
                    "readMask": "names",
                }
            ),
            {"critical_read": 6, "critical_write": 6, "daily_contact_write": 2},
        ),
        (
            "updateContactPhoto",
            lambda: people.people().updateContactPhoto(resourceName=c["resourceName"], body=photo),
            {"photo_write": 1},
        ),
        (
            "deleteContactPhoto",
            lambda: people.people().deleteContactPhoto(resourceName=c["resourceName"]),
            {"photo_write": 1},
        ),
        (
            "deleteContact",
            lambda: people.people().deleteContact(resourceName=c["resourceName"]),
            {"delete_group_write": 1},
        ),
        (
            "batchDeleteContacts",
            lambda: people.people().batchDeleteContacts(body={"resourceNames": [b["resourceName"]]}),
            {"delete_group_write": 10},
        ),
        ("contactGroups.list", lambda: people.contactGroups().list(), {"group_read": 1}),
        (
            "contactGroups.get",
            lambda: people.contactGroups().get(resourceName=group["resourceName"]),
            {"group_read": 1},
        ),
        (
            "contactGroups.batchGet",
            lambda: people.contactGroups().batchGet(resourceNames=[group["resourceName"]]),
            {"group_read": 1},
        ),
        (
            "contactGroups.create",
            lambda: people.contactGroups().create(body={"contactGroup": {"name": "Other"}}),
            {"delete_group_write": 1},
        ),
        (
            "contactGroups.update",
            lambda: people.contactGroups().update(
                resourceName=group["resourceName"], body={"contactGroup": {"name": "Team 2", "etag": group["etag"]}}
            ),
            {"delete_group_write": 1},
        ),
        (
            "contactGroups.members.modify",
            lambda: (
                people.contactGroups()
                .members()
                .modify(resourceName=group["resourceName"], body={"resourceNamesToAdd": [a["resourceName"]]})
            ),
            {"delete_group_write": 1},
        ),
        (
            "contactGroups.delete",
            lambda: people.contactGroups().delete(resourceName=spare["resourceName"]),
            {"delete_group_write": 1},
        ),
    ]
    for name, make, cost in calls:
        control.reset_quota_usage()
        make().execute()
        assert spent(emulator) == cost, name


@GOOGLE
def test_methods_without_a_handler_still_spend_before_answering(
    emulator: EmulatorHandle, people_as: Callable[..., Any]
) -> None:
    # the check comes before the handler; searchContacts and otherContacts.list are not emulated (501)
    people = people_as(scopes=[CONTACTS, "https://www.googleapis.com/auth/contacts.other.readonly"])
    for call in (
        people.people().searchContacts(query="a", readMask="names"),
        people.otherContacts().list(readMask="names"),
    ):
        with pytest.raises(HttpError) as exc:
            call.execute()
        assert exc.value.resp.status == 501
    assert spent(emulator) == {"critical_read": 2}


def test_costs_of_counts_the_contacts_of_a_batch_for_the_daily_metric() -> None:
    create: dict[str, Any] = {"contacts": [{"contactPerson": {}}] * 200}
    update: dict[str, Any] = {"contacts": {f"people/c{i}": {} for i in range(17)}}
    assert costs_of("people.people.batchCreateContacts", create) == {
        "critical_read": 6,
        "critical_write": 6,
        "daily_contact_write": 200,
    }
    assert costs_of("people.people.batchUpdateContacts", update)["daily_contact_write"] == 17
    assert costs_of("people.people.batchCreateContacts", None) == {"critical_read": 6, "critical_write": 6}
    assert costs_of("directory.users.list", None) == {}
    assert costs_of("people.people.batchDeleteContacts", {"resourceNames": ["people/c1"]}) == {"delete_group_write": 10}


# --- refusals ------------------------------------------------------------------------------------------
@GOOGLE
def test_the_31st_critical_write_unit_is_refused_in_googles_shape_and_spends_nothing(
    emulator: EmulatorHandle, people: Any
) -> None:
    for i in range(5):  # 5 batches x 6 units = the whole minute's 30
        batch_create(people, 1, prefix=f"B{i}-").execute()
    before = spent(emulator)
    assert before == {"critical_read": 30, "critical_write": 30, "daily_contact_write": 5}

    err = refused(people.people().createContact(body={"names": [{"givenName": "One too many"}]}))
    body = parse_error_body(err.content)
    assert body.status == "RESOURCE_EXHAUSTED"
    assert body.message == (
        f"Quota exceeded for quota metric '{CRITICAL_WRITE_REQUESTS}' and limit "
        f"'{CRITICAL_WRITE_REQUESTS} per minute per user' of service 'people.googleapis.com' "
        "for consumer 'project_number:000000000000'."
    )
    assert {"rateLimitExceeded", "RATE_LIMIT_EXCEEDED"} <= set(body.reasons)
    info, help_ = json.loads(err.content)["error"]["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and info["domain"] == "googleapis.com"
    assert info["metadata"] == {
        "service": "people.googleapis.com",
        "quota_metric": "people.googleapis.com/write_requests",
        "quota_limit": "WriteRequestsPerMinutePerUser",
        "quota_limit_value": "30",
        "consumer": "projects/000000000000",
        "quota_location": "global",
    }
    assert help_["@type"] == "type.googleapis.com/google.rpc.Help" and help_["links"][0]["url"]
    assert "retry-after" not in err.resp
    translated = translate(err)
    assert isinstance(translated, RetryableError) and translated.retry_after is None

    assert spent(emulator) == before  # the refused call's critical read was not spent either
    calls = emulator.control.calls()
    assert calls["quotaRejected"] == {"people.people.createContact": 1}
    assert "people.people.createContact" not in calls["byMethod"]
    people.people().get(resourceName="people/me", personFields="names").execute()  # reads still have room



@GOOGLE
def test_the_call_log_dates_each_call_with_its_user_units_and_refusal(emulator: EmulatorHandle, people: Any) -> None:
    batch_create(people, 1).execute()
    assert emulator.control.call_log() == []  # kept only when asked for
    emulator.control.record_calls()
    for i in range(4):  # with the one before, the whole minute's 30 write units...
        batch_create(people, 1, prefix=f"B{i}-").execute()
    refused(batch_create(people, 1))  # ...so the next one is refused
    log = emulator.control.call_log()
    assert [(c["user"], c["method"], c["refused"]) for c in log] == (
        [("alice@example.com", "people.people.batchCreateContacts", False)] * 4
        + [("alice@example.com", "people.people.batchCreateContacts", True)]
    )
    assert log[0]["units"] == {"critical_read": 6, "critical_write": 6, "daily_contact_write": 1}
    starts = [c["started"] for c in log]
    assert starts == sorted(starts) and all(c["received"] <= c["started"] <= c["ended"] for c in log)
    emulator.control.reset_calls()
    assert emulator.control.call_log() == []

@GOOGLE
def test_units_come_back_when_the_window_slides(emulator: EmulatorHandle, people: Any) -> None:
    for i in range(5):
        batch_create(people, 1, prefix=f"B{i}-").execute()
    emulator.control.advance_clock(30)
    refused(people.people().createContact(body={"names": [{"givenName": "Too soon"}]}))
    emulator.control.advance_clock(31)  # the batches were spent more than a minute ago
    people.people().createContact(body={"names": [{"givenName": "In time"}]}).execute()
    assert spent(emulator) == {"critical_read": 1, "critical_write": 1, "daily_contact_write": 6}


@pytest.mark.parametrize("emulator", [QuotaConfig.google(group_read=3)], indirect=True, ids=["three-group-reads"])
def test_users_have_their_own_quota(emulator: EmulatorHandle, people_as: Callable[..., Any]) -> None:
    alice, bob = people_as("alice@example.com"), people_as("bob@example.com")
    for _ in range(3):
        alice.contactGroups().list().execute()
    err = refused(alice.contactGroups().list())
    assert f"quota metric '{CONTACT_GROUP_READS}'" in parse_error_body(err.content).message
    for _ in range(3):
        bob.contactGroups().list().execute()
    assert spent(emulator, ALICE_ID) == spent(emulator, BOB_ID) == {"group_read": 3}
    # a renamed user is the same account: the quota follows the user id
    emulator.control.rename_user("alice@example.com", "alicia@example.com")
    refused(people_as("alicia@example.com").contactGroups().list())


@pytest.mark.parametrize(
    "emulator",
    [QuotaConfig.google(daily_contact_write=250, critical_write=1000, critical_read=1000)],
    indirect=True,
    ids=["250-a-day"],
)
def test_the_daily_contact_writes_limit_counts_contacts(emulator: EmulatorHandle, people: Any) -> None:
    batch_create(people, 200).execute()
    err = refused(batch_create(people, 51))  # 251 contacts: one too many for the day
    assert parse_error_body(err.content).message.startswith(
        f"Quota exceeded for quota metric '{DAILY_CONTACT_WRITES}' and limit "
        f"'{DAILY_CONTACT_WRITES} per day per user' of service"
    )
    assert json.loads(err.content)["error"]["details"][0]["metadata"]["quota_limit_value"] == "250"
    batch_create(people, 50).execute()
    emulator.control.advance_clock(61)  # a new minute, the same day
    refused(people.people().createContact(body={"names": [{"givenName": "Tomorrow"}]}))
    emulator.control.advance_clock(24 * 3600)
    people.people().createContact(body={"names": [{"givenName": "Tomorrow"}]}).execute()
    assert spent(emulator)["daily_contact_write"] == 1


@pytest.mark.parametrize(
    "emulator", [QuotaConfig.google(**{key: 0 for key in METRICS})], indirect=True, ids=["all-zero"]
)
def test_directory_calls_are_never_limited(emulator: EmulatorHandle, people: Any) -> None:
    refused(people.contactGroups().list())
    directory = build_service(emulator, "admin", "directory_v1", "admin@example.com", [DIRECTORY_USER_READONLY])
    for _ in range(5):
        directory.users().list(customer="my_customer").execute()
        directory.users().get(userKey="bob@example.com").execute()
    assert emulator.control.quotas()["usage"] == {}
    assert emulator.control.calls()["quotaRejected"] == {"people.contactGroups.list": 1}


@GOOGLE
def test_an_injected_fault_spends_no_quota(emulator: EmulatorHandle, people: Any) -> None:
    emulator.control.inject_fault("people.contactGroups.list", code=503)
    with pytest.raises(HttpError):
        people.contactGroups().list().execute()
    assert spent(emulator) == {}


# --- configuration -------------------------------------------------------------------------------------
def test_quotas_are_off_unless_asked_for(emulator: EmulatorHandle, people: Any) -> None:
    assert emulator.control.quotas()["enabled"] is False
    for i in range(6):
        batch_create(people, 1, prefix=f"B{i}-").execute()
    assert emulator.control.quotas()["usage"] == {}


def test_config_through_the_control_api(emulator: EmulatorHandle, people: Any) -> None:
    control = emulator.control
    config = control.set_quotas(window_seconds=10, limits={"group_read": 2}, project_number="123456789")
    assert config["enabled"] is True and config["windowSeconds"] == 10
    assert config["limits"] == {**{k: m.default_limit for k, m in METRICS.items()}, "group_read": 2}
    assert config["metrics"]["daily_contact_write"]["windowSeconds"] == 14400
    people.contactGroups().list().execute()
    people.contactGroups().list().execute()
    err = refused(people.contactGroups().list())
    assert "for consumer 'project_number:123456789'." in parse_error_body(err.content).message
    assert control.quotas()["usage"] == {ALICE_ID: {"email": "alice@example.com", "units": {"group_read": 2}}}
    control.advance_clock(10)  # a 10-second window
    people.contactGroups().list().execute()
    control.reset_quota_usage()
    assert control.quotas()["usage"] == {}
    control.set_quotas(enabled=False, limits={"group_read": 0})
    people.contactGroups().list().execute()
    for bad in ({"limits": {"nope": 1}}, {"windowSeconds": 0}, {"limits": {"group_read": -1}}, {"limits": [1]}):
        with pytest.raises(RuntimeError, match="-> 400"):
            control._request("PUT", "quotas", bad)


def test_cli_flags() -> None:
    default = parse_args([]).quota_config
    assert default == QuotaConfig.google() and default.window_seconds == 60.0
    assert parse_args(["--quotas", "off"]).quota_config is None
    custom = parse_args(["--quota-window", "2", "--quota", "critical_write=5", "--quota", "group_read=7"]).quota_config
    assert custom is not None and custom.window_seconds == 2
    assert custom.limits["critical_write"] == 5 and custom.limits["group_read"] == 7
    assert custom.limits["critical_read"] == 60
    for bad in (["--quota", "nope=1"], ["--quota", "critical_write"], ["--quota-window", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_python_m_emulator_enforces_googles_quotas_by_default(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--quota", "critical_write=5"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "People quotas: google, 60s window" in line
        url = line.split()[3]
        with urllib.request.urlopen(f"{url}/_emulator/quotas", timeout=10) as resp:
            config = json.loads(resp.read())
        assert config["enabled"] is True and config["limits"]["critical_write"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- the pure ledger -----------------------------------------------------------------------------------
WINDOW = 10.0
SMALL_LIMITS = {"critical_read": 7, "critical_write": 4, "delete_group_write": 12, "daily_contact_write": 30}
PEOPLE_METHODS = sorted(METHOD_COSTS)
call_strategy = st.tuples(
    st.sampled_from(["u1", "u2"]),
    st.sampled_from(PEOPLE_METHODS),
    st.integers(min_value=0, max_value=6),  # contacts in a batch body
    st.floats(min_value=0, max_value=100, allow_nan=False),  # when: any order, the clock may go back
)


@settings(max_examples=150, deadline=None)
@given(st.lists(call_strategy, max_size=60))
def test_no_window_ever_holds_more_than_a_limit(calls: list[tuple[str, str, int, float]]) -> None:
    config = QuotaConfig.google(WINDOW, **SMALL_LIMITS)
    ledger = QuotaLedger(config)
    recorded: list[tuple[str, float, dict[str, int]]] = []
    latest = float("-inf")
    for user, method, n, at in calls:
        costs = costs_of(method, {"contacts": [{}] * n})
        before = ledger.usage(at=at)
        refusal = ledger.spend(user, costs, at=at)
        latest = max(latest, at)
        if refusal is None:
            recorded.append((user, latest, costs))
        else:
            assert ledger.usage(at=at) == before  # a refusal records nothing
            assert refusal.limit == SMALL_LIMITS.get(refusal.metric.key, refusal.metric.default_limit)
    for user in ("u1", "u2"):
        for key, metric in METRICS.items():
            window = config.window_of(metric)
            spends = [(t, c[key]) for u, t, c in recorded if u == user and c.get(key)]
            for end, _ in spends:  # the fullest windows end at a spend
                in_window = sum(units for t, units in spends if end - window < t <= end)
                assert in_window <= config.limits[key], (user, key, end)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), max_size=40))
def test_a_call_that_fits_is_never_refused(times: list[float]) -> None:
    """The other half: the ledger refuses exactly when the window (now - window, now] is full."""
    ledger = QuotaLedger(QuotaConfig.google(WINDOW, critical_write=4))
    accepted: list[float] = []
    latest = float("-inf")
    for at in times:
        latest = max(latest, at)
        room = 4 - sum(1 for t in accepted if latest - WINDOW < t <= latest)
        refusal = ledger.spend("u", {"critical_write": 1}, at=at)
        assert (refusal is None) == (room >= 1)
        if refusal is None:
            accepted.append(latest)
