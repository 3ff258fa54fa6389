"""Pure pieces: selectors, schedules, settings, Google error translation, retries, canonical contacts."""

from __future__ import annotations

import gc
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httplib2
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError
from hypothesis import given
from hypothesis import strategies as st
from tenacity import Retrying

from bot.settings import BotSettings, load_bot_settings
from sync_core.domain.contacts import canonical_body, content_hash, read_tag, tag_entry
from sync_core.domain.schedule import ScheduleError, parse_schedule
from sync_core.google import errors
from sync_core.google.calls import CallCounter, Executor
from sync_core.run.targets import Selector, SelectorError, parse_selector
from sync_core.settings import Settings, SettingsError, load_settings


# --- selectors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email:Bob@Example.com", Selector("email", "bob@example.com")),
        ("user:bob@example.com", Selector("email", "bob@example.com")),
        ("group:sales@example.com", Selector("group", "sales@example.com")),
        ("domain:Example.ORG", Selector("domain", "example.org")),
        ("role:Help Desk Admin", Selector("role", "Help Desk Admin")),
        ("ou:/Sales/EMEA", Selector("orgunit", "/Sales/EMEA")),
    ],
)
def test_parse_selector(text: str, expected: Selector) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize("text", ["bob@example.com", "email:", "email:bob", "planet:mars", "ou:Sales", "domain:x"])
def test_bad_selectors_are_refused(text: str) -> None:
    with pytest.raises(SelectorError, match="bad target"):
        parse_selector(text)


# --- schedules ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "normal", "interval"),
    [
        ("every 30m", "every 30m", timedelta(minutes=30)),
        ("90 minutes", "every 90m", timedelta(minutes=90)),
        ("every 120m", "every 2h", timedelta(hours=2)),
        ("every 1d", "every 1d", timedelta(days=1)),
    ],
)
def test_interval_schedules(text: str, normal: str, interval: timedelta) -> None:
    schedule = parse_schedule(text)
    assert str(schedule) == normal and schedule.interval == interval


def test_cron_schedule() -> None:
    assert str(parse_schedule("cron  0 7 * * 1-5")) == "cron 0 7 * * 1-5"


@pytest.mark.parametrize("text", ["every 1m", "sometimes", "cron 0 7 * *", "cron 99 7 * * *"])
def test_bad_schedules(text: str) -> None:
    with pytest.raises(ScheduleError, match="bad schedule"):
        parse_schedule(text)


# --- settings -------------------------------------------------------------------------------------
def test_settings_defaults_and_admin_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTACTSYNC_ADMINS", "U1, U2,,U3")
    settings = load_settings()
    assert settings.database_url == "sqlite:///contactsync.db"
    assert load_bot_settings().admins == ("U1", "U2", "U3")
    assert not settings.google_configured


def test_settings_read_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CONTACTSYNC_ADMIN_EMAIL=admin@example.com\nSLACK_BOT_TOKEN=xoxb-1\n")
    settings = load_settings()
    assert settings.admin_email == "admin@example.com"
    bot_settings = load_bot_settings()
    assert bot_settings.slack_bot_token is not None and "xoxb-1" not in repr(bot_settings)


def test_the_engine_settings_know_nothing_of_slack() -> None:
    aliases = {str(f.validation_alias) for f in Settings.model_fields.values()}
    slack = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "CONTACTSYNC_ADMINS",
             "PORT"}
    assert not aliases & slack and not any(a.startswith("SLACK_") for a in aliases)
    assert slack <= {str(f.validation_alias) for f in BotSettings.model_fields.values()}


@pytest.mark.parametrize(
    ("var", "value", "named"),
    [
        ("PORT", "eighty", "PORT"),  # the bot's (below, `load_bot_settings`)
        ("CONTACTSYNC_ADMIN_EMAIL", "nobody", "CONTACTSYNC_ADMIN_EMAIL"),
        ("CONTACTSYNC_MAX_PARALLEL_TARGETS", "0", "CONTACTSYNC_MAX_PARALLEL_TARGETS"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str, named: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
        load_bot_settings()
    assert str(err.value).startswith(f"{named}:")
    assert "\n" not in str(err.value)


# --- Google errors --------------------------------------------------------------------------------
def http_error(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpError:
    resp = httplib2.Response({"status": str(status), **(headers or {})})
    return HttpError(resp, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            http_error(429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}),
            errors.RateLimited,
        ),
        (http_error(503, {"error": {"code": 503, "message": "unavailable"}}), errors.RetryableError),
        (
            http_error(403, {"error": {"code": 403, "message": "x", "errors": [{"reason": "userRateLimitExceeded"}]}}),
            errors.RateLimited,
        ),
        (
            http_error(403, {"error": {"code": 403, "message": "Not Authorized", "errors": [{"reason": "forbidden"}]}}),
            errors.Forbidden,
        ),
        (http_error(404, {"error": {"code": 404, "message": "nope", "status": "NOT_FOUND"}}), errors.NotFound),
        (
            http_error(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "Sync token is expired.",
                        "status": "FAILED_PRECONDITION",
                        "details": [{"reason": "EXPIRED_SYNC_TOKEN"}],
                    }
                },
            ),
            errors.SyncTokenExpired,
        ),
        (
            http_error(400, {"error": {"code": 400, "message": "etag mismatch", "status": "FAILED_PRECONDITION"}}),
            errors.PreconditionFailed,
        ),
        (http_error(409, {"error": {"code": 409, "message": "exists", "status": "ALREADY_EXISTS"}}), errors.Conflict),
        (RefreshError("invalid_grant: Invalid email or User ID", {}), errors.InvalidGrant),
        (RefreshError("unauthorized_client: Client is unauthorized", {}), errors.Forbidden),
    ],
)
def test_translate(exc: Exception, kind: type[errors.GoogleError]) -> None:
    assert type(errors.translate(exc)) is kind


def test_a_reason_without_a_status_has_single_spaces() -> None:
    """The Admin SDK's legacy errors carry no `status`: "403 Not Authorized...", not "403  Not Authorized..."."""
    legacy = {"error": {"code": 403, "message": "Not Authorized to access this resource/api",
                        "errors": [{"reason": "forbidden"}]}}
    assert errors.translate(http_error(403, legacy)).reason == "403 Not Authorized to access this resource/api"
    full = {"error": {"code": 404, "message": "nope", "status": "NOT_FOUND"}}
    assert errors.translate(http_error(404, full)).reason == "404 NOT_FOUND nope"


class FlakyRequest:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def execute(self, http: Any = None, num_retries: int = 0) -> dict[str, str]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": "yes"}


def test_executor_retries_and_honours_retry_after() -> None:
    waits: list[float] = []
    counter = CallCounter()
    limited = http_error(429, {"error": {"code": 429, "message": "slow down"}}, {"retry-after": "7"})
    request = FlakyRequest([limited, http_error(503, {"error": {"code": 503, "message": "x"}})])
    result = Executor(counter, attempts=5, max_wait=30, sleep=waits.append).execute(request, "m")
    assert result == {"ok": "yes"} and request.calls == 3
    assert waits[0] >= 7, "Retry-After is a floor for the first wait"
    assert counter.by_method["m"] == 3


def test_executor_gives_up_as_quota_exhausted() -> None:
    request = FlakyRequest([http_error(429, {"error": {"code": 429, "message": "x"}}) for _ in range(3)])
    with pytest.raises(errors.QuotaExhausted, match="gave up after 3 attempts"):
        Executor(attempts=3, sleep=lambda _s: None).execute(request, "m")


def test_executor_does_not_retry_a_client_error() -> None:
    request = FlakyRequest([http_error(404, {"error": {"code": 404, "message": "x"}})])
    with pytest.raises(errors.NotFound):
        Executor(sleep=lambda _s: None).execute(request, "m")
    assert request.calls == 1


class TimingOutRequest(FlakyRequest):
    def __init__(self, method: str, timeouts: int) -> None:
        super().__init__([TimeoutError("no answer in time") for _ in range(timeouts)])
        self.method = method


def test_a_read_google_took_too_long_to_answer_is_asked_once_more() -> None:
    waits: list[float] = []
    read = TimingOutRequest("GET", timeouts=1)
    assert Executor(sleep=waits.append, unreachable_seconds=0.0).execute(read, "m") == {"ok": "yes"}
    assert read.calls == 2 and waits == [0.0]
    twice = TimingOutRequest("GET", timeouts=2)
    with pytest.raises(errors.Unreachable, match="did not answer in time"):
        Executor(sleep=lambda _s: None, unreachable_seconds=0.0).execute(twice, "m")
    assert twice.calls == 2


def test_a_write_google_took_too_long_to_answer_is_not_sent_again() -> None:
    write = TimingOutRequest("POST", timeouts=1)  # it may have been done: a second batch would duplicate it
    with pytest.raises(errors.Unreachable, match="did not answer in time"):
        Executor(sleep=lambda _s: None, unreachable_seconds=0.0).execute(write, "m")
    assert write.calls == 1


def test_a_timeout_is_told_from_a_google_out_of_reach() -> None:
    assert isinstance(errors.translate(TimeoutError()), errors.TimedOut)
    refused = errors.translate(ConnectionRefusedError())
    assert isinstance(refused, errors.Unreachable) and not isinstance(refused, errors.TimedOut)
    assert "could not be reached" in refused.reason


def test_a_call_leaves_no_reference_cycle_behind() -> None:
    """Each call's retry state is freed when the call returns, not by a later full collection: a run's calls
    wait for Google while thousands of others allocate, and cycles that reach the oldest generation stay."""
    executor = Executor(sleep=lambda _s: None)
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            assert executor.execute(FlakyRequest([]), "m") == {"ok": "yes"}
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free, kept in gc.garbage to be looked at
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, Retrying)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


# --- canonical contacts ---------------------------------------------------------------------------
def test_canonical_body_drops_output_only_and_profile_data() -> None:
    person = {
        "resourceName": "people/c1",
        "etag": "x",
        "metadata": {"sources": []},
        "names": [
            {
                "givenName": "Ann",
                "familyName": "Lee",
                "displayName": "Ann Lee",
                "unstructuredName": "Ann Lee",
                "metadata": {"primary": True, "source": {"type": "CONTACT"}},
            },
            {"givenName": "Profile", "metadata": {"source": {"type": "PROFILE"}}},
        ],
        "phoneNumbers": [{"value": "+1 555", "canonicalForm": "+1555", "formattedType": "Mobile", "type": "mobile"}],
        "addresses": [{"city": "Oslo", "formattedValue": "Oslo, Norway"}],
        "memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/x"}}],
    }
    assert canonical_body(person) == {
        "names": [{"givenName": "Ann", "familyName": "Lee"}],
        "phoneNumbers": [{"value": "+1 555", "type": "mobile"}],
        "addresses": [{"city": "Oslo"}],
    }


@given(st.dictionaries(st.sampled_from(["givenName", "familyName", "middleName"]), st.text(min_size=1), min_size=1))
def test_content_hash_ignores_key_order_and_output_fields(name: dict[str, str]) -> None:
    reordered = dict(reversed(list(name.items())))
    a = canonical_body({"names": [name]})
    b = canonical_body({"names": [{**reordered, "displayName": "whatever", "metadata": {"primary": True}}]})
    assert content_hash(a) == content_hash(b)


def test_tags_are_per_job() -> None:
    person = {"clientData": [tag_entry("job-a", "people/s1"), {"key": "other-app", "value": "1"}]}
    assert read_tag(person, "job-a") == "people/s1"
    assert read_tag(person, "job-b") is None


def test_cron_schedules_use_crontab_weekdays() -> None:
    assert str(parse_schedule("cron 0 7 * * 7")) == "cron 0 7 * * 7"  # 7 is Sunday in crontab
    with pytest.raises(ScheduleError):
        parse_schedule("cron 0 7 * * 8")


def test_service_logging_keeps_request_urls_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from contactsync.logs import configure_logging

    configure_logging("DEBUG")
    assert logging.getLogger("googleapiclient.http").getEffectiveLevel() == logging.WARNING
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTACTSYNC_LOG_LEVEL", "CHATTY")
    with pytest.raises(SettingsError, match="^CONTACTSYNC_LOG_LEVEL:"):
        load_settings()


def test_serve_says_where_it_really_listens() -> None:
    from bot.serve import bound_address

    # Bound to 0.0.0.0, the server answers on every interface, whatever URL a local client would use.
    assert bound_address("0.0.0.0", "http://127.0.0.1:3999/slack/events") == "0.0.0.0:3999 (every interface)"
    assert bound_address("127.0.0.1", "http://127.0.0.1:3999") == "127.0.0.1:3999"
    assert bound_address("::", "http://[::1]:3999") == "[::]:3999 (every interface)"
    assert bound_address("::1", "http://[::1]:3999") == "[::1]:3999"


def test_serve_binds_where_contactsync_host_says_and_refuses_a_name() -> None:
    from bot.serve import local_host
    from bot.settings import load_bot_settings

    assert load_bot_settings().host == "0.0.0.0"  # every interface, as before the setting existed
    assert load_bot_settings(CONTACTSYNC_HOST=" 127.0.0.1 ").host == "127.0.0.1"
    assert load_bot_settings(CONTACTSYNC_HOST="::").host == "::"
    with pytest.raises(SettingsError, match="^CONTACTSYNC_HOST: .*must be an IP address"):
        load_bot_settings(CONTACTSYNC_HOST="contactsync.internal")
    # where a client on this host finds a server bound there
    assert [local_host(h) for h in ("0.0.0.0", "::", "10.1.2.3", "fe80::1")] == [
        "127.0.0.1", "[::1]", "10.1.2.3", "[fe80::1]"]
