"""Every Slack entry point, correctly signed, with arbitrary content: slash command text, view submissions
of each modal (state with missing and extra keys, huge, unicode and injection-looking strings), every
registered block action, options requests and events. Each gets a clear answer within Slack's 3 s (a 2xx,
or Bolt's 404 for an id nobody registered), never a 5xx; the log gains no traceback; and no sync changes
(the inputs are never a valid create by an admin, and the existing sync is only named to non-admins)."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.blocks.alerts import ACTION_PREFIX, LIST_ACTION, LIST_PAGE_ACTION
from bot.blocks.delete import DELETE_CALLBACK
from bot.blocks.modal import DETAILS_CALLBACK, TARGETS_CALLBACK
from bot.listeners.commands import SUBCOMMANDS
from slack_double import SlackUser
from slack_double.server import APP_ID, TEAM_ID
from sync_core import store
from sync_core.alerting.alert_kinds import Fix
from sync_core.service import TARGET_KINDS

from .conftest import ADMIN, OTHER, Bot
from .flows import open_create
from .helpers import make_job
from .logcheck import errors, long_lines, tracebacks

FORM = "application/x-www-form-urlencoded"
JOB = "Partners"
FUZZ = settings(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
COUNTS: Counter[str] = Counter()

ACTION_IDS = ["kind_select", "source_user", "group_select", "targets_add", "targets_add_all", "target_remove",
              "targets_page", "list_page", "home_page", "home_create", "home_edit", "home_run", "home_pause",
              "home_resume", "home_delete", LIST_ACTION, LIST_PAGE_ACTION, *(ACTION_PREFIX + f.value for f in Fix)]
OPTION_IDS = ["source_user", "domains_select", "include_ous_select", "exclude_ous_select", "editors_select",
              *(k.picker.field for k in TARGET_KINDS.values() if not k.picker.typed)]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "'; DROP TABLE syncjob; --", "<!channel>", "<@UADMIN0001>", "{{7*7}}", "${jndi:x}",
                     "../../etc/passwd", "\u202e\u0000\ufeff", "a\nb\r\nc", "*_~`>", "email:", "query:'", JOB.upper(),
                     "%s%s%s%n", "🤖" * 50]),
    st.integers(1000, 5000).map(lambda n: "x" * n),  # over every Slack text limit
)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | hostile_text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
                           max_leaves=8)
extra_keys = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=3)


def state_entries(action_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    entry = st.one_of(
        st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": hostile_text | st.none()}),
        st.fixed_dictionaries({"type": st.sampled_from(["static_select", "external_select"]),
                               "selected_option": st.none() | st.fixed_dictionaries({"value": hostile_text})}),
        st.fixed_dictionaries({"type": st.sampled_from(["multi_external_select", "checkboxes"]),
                               "selected_options": st.lists(st.fixed_dictionaries({"value": hostile_text}),
                                                            max_size=4)}),
        st.fixed_dictionaries({"type": st.just("conversations_select"), "selected_conversation": hostile_text}),
        json_values,  # not even an element
    )
    return st.dictionaries(st.sampled_from(action_ids) | st.text(max_size=8), entry, max_size=3)


def block_ids(field_names: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.tuples(st.sampled_from(field_names), st.integers(0, 3)).map(lambda t: f"{t[0]}.{t[1]}"),
                     st.text(max_size=10))


FIELDS = ["name", "kind", "source", "group", "target_group_name", "schedule", "domains", "include_ous", "exclude_ous",
          "add_to_my_contacts", "description", "alert_channel", "remove", *OPTION_IDS, "pick_query"]
state_values = st.dictionaries(block_ids(FIELDS), state_entries(["name", "source_user", "group_select", "schedule",
                                                                  "alert_channel", *OPTION_IDS]), max_size=8)


def drop_some(envelope: dict[str, Any], keep: st.DataObject) -> dict[str, Any]:
    """The envelope with some keys missing and some extra ones: Slack adds fields, proxies lose them."""
    dropped = keep.draw(st.sets(st.sampled_from(sorted(envelope)), max_size=2), label="dropped keys")
    return {**{k: v for k, v in envelope.items() if k not in dropped}, **keep.draw(extra_keys, label="extra keys")}


def jobs(bot: Bot) -> list[tuple[str, bool, str | None]]:
    with store.session_scope(bot.runtime.db) as session:
        return sorted((j.name, j.enabled, j.schedule) for j in store.list_jobs(session))


def post_payload(user: SlackUser, payload: dict[str, Any]) -> tuple[int, str, float]:
    started = time.monotonic()
    answer = user.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
    return answer.status, answer.text, time.monotonic() - started


@pytest.fixture
def fuzzed(bot: Bot, caplog: pytest.LogCaptureFixture) -> Iterator[Bot]:
    """The bot with one sync; afterwards: no traceback in the log, no sync changed, nothing invalid sent."""
    caplog.set_level(logging.INFO)
    make_job(bot, JOB)
    before = jobs(bot)
    yield bot
    time.sleep(0.5)  # work started after the ack (Bolt's threads, the bot's pool) finishes
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert tracebacks(records) == []
    assert errors(records) == []  # a client's garbage is the client's error: never an ERROR line
    assert long_lines(records) == []  # nor a request's value logged whole
    assert jobs(bot) == before
    COUNTS["log records"] += len(records)
    print(f"fuzzed so far: {dict(COUNTS)}")


def check(status: int, elapsed: float, what: object, *, unhandled_ok: bool = False) -> None:
    """200; or 400 for an envelope Bolt cannot read (extra keys may replace `view` or `actions` with junk);
    or, for an id no listener is registered for, Bolt's 404."""
    assert status in (200, 400) or (unhandled_ok and status == 404), (status, what)
    assert elapsed < 2.9, (elapsed, what)  # Slack gives up after 3 s


def names_for(user_id: str) -> st.SearchStrategy[str]:
    """Names a user may send: the real sync's only to a non-admin (whom the gate must refuse); admins send
    arbitrary names, which never name it."""
    if user_id == OTHER:
        return st.just(JOB) | hostile_text
    return hostile_text.filter(lambda s: s.strip().lower() != JOB.lower())


def test_slash_command_text(fuzzed: Bot) -> None:
    bot = fuzzed

    @settings(FUZZ, max_examples=50)
    @given(data=st.data(), user_id=st.sampled_from([ADMIN, OTHER]),
           sub=st.sampled_from([*SUBCOMMANDS, "", "CREATE", "unknown"]))
    def one(data: st.DataObject, user_id: str, sub: str) -> None:
        text = f"{sub} {data.draw(names_for(user_id), label='name')}" if data.draw(st.booleans()) else \
            data.draw(hostile_text, label="text")
        assume(user_id == OTHER or JOB.lower() not in text.lower())
        user = bot.user(user_id)
        mark = bot.double.mark()
        started = time.monotonic()
        status = user.command(text).status
        check(status, time.monotonic() - started, text)
        bot.double.wait_for(lambda c: c.method in ("response_url", "views.open", "chat.postMessage"), after=mark)
        COUNTS["slash commands"] += 1

    one()


def test_view_submissions(fuzzed: Bot) -> None:
    bot = fuzzed
    real_metadata = open_create(bot, bot.admin)["private_metadata"]

    @settings(FUZZ, max_examples=80)
    @given(data=st.data(), user_id=st.sampled_from([ADMIN, OTHER]),
           callback=st.sampled_from([DETAILS_CALLBACK, TARGETS_CALLBACK, DELETE_CALLBACK, "cs_unknown"]))
    def one(data: st.DataObject, user_id: str, callback: str) -> None:
        metadata = data.draw(st.one_of(
            st.just(real_metadata), hostile_text,
            names_for(user_id).map(lambda n: json.dumps({"job": n, "channel": "C0CSYNC01"})),
            json_values.map(json.dumps)), label="private_metadata")
        view = drop_some({"id": "V0FUZZ", "type": "modal", "callback_id": callback, "private_metadata": metadata,
                          "state": {"values": data.draw(state_values, label="state")}, "blocks": [],
                          "hash": "1.x"}, data)
        payload = drop_some({"type": "view_submission", "team": {"id": TEAM_ID}, "api_app_id": APP_ID,
                             "user": {"id": user_id, "team_id": TEAM_ID}, "view": view,
                             "trigger_id": bot.double.new_trigger(user_id)}, data)
        assume(payload.get("type") == "view_submission" and "view" in payload)  # else it is another entry point
        status, text, elapsed = post_payload(bot.user(user_id), payload)
        check(status, elapsed, payload, unhandled_ok=view.get("callback_id", "cs_unknown") == "cs_unknown")
        if status == 200 and text:
            assert json.loads(text).get("response_action") in ("errors", "update", "push", "clear"), text[:300]
        COUNTS["view submissions"] += 1

    one()


def test_block_actions(fuzzed: Bot) -> None:
    bot = fuzzed
    modal = open_create(bot, bot.admin)

    @settings(FUZZ, max_examples=100)
    @given(data=st.data(), user_id=st.sampled_from([ADMIN, OTHER]),
           action_id=st.sampled_from(ACTION_IDS) | st.text(max_size=10))
    def one(data: st.DataObject, user_id: str, action_id: str) -> None:
        value = data.draw(names_for(user_id) | json_values.map(json.dumps), label="value")
        action = drop_some({"action_id": action_id, "block_id": data.draw(block_ids(FIELDS)), "type": "button",
                            "value": value, "selected_option": {"value": value}, "action_ts": "1.2"}, data)
        view = data.draw(st.one_of(st.just(modal), st.just({"id": "V0HOME", "type": "home", "blocks": []}),
                                   st.fixed_dictionaries({"id": st.text(max_size=5), "type": st.just("modal"),
                                                          "private_metadata": hostile_text,
                                                          "state": st.fixed_dictionaries({"values": state_values})}),
                                   json_values), label="view")
        payload = drop_some({"type": "block_actions", "user": {"id": user_id, "team_id": TEAM_ID},
                             "team": {"id": TEAM_ID}, "api_app_id": APP_ID, "actions": [action], "view": view,
                             "container": {"type": "view"}, "trigger_id": bot.double.new_trigger(user_id),
                             "response_url": bot.double.response_url(),
                             "channel": {"id": "C0CSYNC01"}}, data)
        assume(payload.get("type") == "block_actions" and payload.get("actions"))
        status, _text, elapsed = post_payload(bot.user(user_id), payload)
        check(status, elapsed, payload, unhandled_ok=action_id not in ACTION_IDS)
        COUNTS["block actions"] += 1

    one()


def test_options_requests(fuzzed: Bot) -> None:
    bot = fuzzed

    @settings(FUZZ, max_examples=80)
    @given(data=st.data(), user_id=st.sampled_from([ADMIN, OTHER]),
           action_id=st.sampled_from(OPTION_IDS) | st.text(max_size=10), query=hostile_text)
    def one(data: st.DataObject, user_id: str, action_id: str, query: str) -> None:
        payload = drop_some({"type": "block_suggestion", "user": {"id": user_id, "team_id": TEAM_ID},
                             "team": {"id": TEAM_ID}, "api_app_id": APP_ID, "action_id": action_id,
                             "block_id": "x.0", "value": query, "container": {"type": "view"},
                             "view": {"id": "V0FUZZ", "type": "modal"}}, data)
        assume(payload.get("type") == "block_suggestion" and payload.get("action_id") == action_id)
        status, text, elapsed = post_payload(bot.user(user_id), payload)
        check(status, elapsed, payload, unhandled_ok=action_id not in OPTION_IDS)
        if status == 200:
            options = json.loads(text)["options"]
            assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in options), options[:3]
            if user_id == OTHER:
                assert options == []
        COUNTS["options requests"] += 1

    one()


def test_events(fuzzed: Bot) -> None:
    bot = fuzzed

    @settings(FUZZ, max_examples=40)
    @given(data=st.data(), event_type=st.sampled_from(["app_home_opened", "app_home_opened", "app_mention",
                                                       "message", "team_join"]) | st.text(max_size=8),
           user=st.sampled_from([ADMIN, OTHER, "UNOBODY01"]) | json_values)
    def one(data: st.DataObject, event_type: str, user: Any) -> None:
        event = drop_some({"type": event_type, "user": user, "channel": "D0CSYNC01",
                           "tab": data.draw(st.sampled_from(["home", "messages"]) | hostile_text),
                           "event_ts": "1.000100"}, data)
        now = int(time.time())
        body = drop_some({"token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": APP_ID,
                          "event": event, "type": "event_callback", "event_id": f"Ev{now}", "event_time": now},
                         data)
        started = time.monotonic()
        status = bot.admin.post(json.dumps(body).encode(), "application/json").status
        check(status, time.monotonic() - started, body, unhandled_ok=True)
        COUNTS["events"] += 1

    one()
    challenge = bot.admin.post(json.dumps({"type": "url_verification", "challenge": "c0ffee"}).encode(),
                               "application/json")
    assert challenge.status == 200 and "c0ffee" in challenge.text


def test_a_failing_listener_is_one_log_line_and_a_generic_answer(bot: Bot, caplog: pytest.LogCaptureFixture,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO)

    def broken(_name: str) -> None:
        raise RuntimeError("the store broke")  # a failure of the server's, not of the request

    monkeypatch.setattr(bot.ctx.service, "find_or_none", broken)
    view = {"id": "V0X", "type": "modal", "callback_id": DELETE_CALLBACK, "private_metadata": json.dumps({"job": JOB}),
            "state": {"values": {}}}
    status, text, _elapsed = post_payload(bot.admin, {"type": "view_submission", "user": {"id": ADMIN},
                                                      "team": {"id": TEAM_ID}, "view": view})
    assert status == 200
    answer = json.loads(text)
    assert answer["response_action"] == "update" and "Sorry, that failed" in json.dumps(answer["view"])
    failures = [r for r in caplog.records if r.name == "bot.errors"]
    assert [r.getMessage() for r in failures] == [
        "listener failed on view_submission: an internal error (RuntimeError)"]
    assert tracebacks(caplog.records) == []


def test_a_refusal_in_a_forged_modal_that_names_no_view_is_one_info_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-admin's press in a modal is refused in the modal itself; a forged payload whose view has no id
    (Slack always sends one) leaves nothing to update: one INFO line, no call to Slack, never an ERROR."""
    caplog.set_level(logging.INFO)
    for view_id in ("", None):
        mark = bot.double.mark()
        payload = {"type": "block_actions", "user": {"id": OTHER, "team_id": TEAM_ID}, "team": {"id": TEAM_ID},
                   "api_app_id": APP_ID, "trigger_id": bot.double.new_trigger(OTHER),
                   "actions": [{"action_id": "noop", "block_id": "b", "type": "button", "value": "x"}],
                   "view": {"type": "modal", "callback_id": DETAILS_CALLBACK,
                            **({} if view_id is None else {"id": view_id})}}
        status, _text, _elapsed = post_payload(bot.user(OTHER), payload)
        assert status == 200
        time.sleep(0.3)
        assert not [c for c in bot.double.calls_after(mark) if c.method == "views.update"]
    assert errors(caplog.records) == []
    assert "could not show the refusal in the modal: the request names no view" in caplog.text


@pytest.mark.parametrize(("field", "action_id", "kind"), [
    ("source", "source_user", "external_select"),
    ("group", "group_select", "static_select"),
    ("domains", "domains_select", "multi_external_select"),
])
def test_a_forged_select_value_longer_than_any_option_reads_as_empty(fuzzed: Bot, field: str, action_id: str,
                                                                     kind: str) -> None:
    """Slack sends only the values of options the bot offered (at most 150 characters); a forged state with a
    longer one is no choice at all, not an option the next page fails to render (found by the fuzz above)."""
    bot = fuzzed
    modal = open_create(bot, bot.admin)
    forged = "x" * 400 + "@example.com"
    chosen = ({"selected_options": [{"value": forged, "text": {"type": "plain_text", "text": "x"}}]}
              if kind.startswith("multi") else
              {"selected_option": {"value": forged, "text": {"type": "plain_text", "text": "x"}}})
    view = {**modal, "state": {"values": {f"{field}.0": {action_id: {"type": kind, **chosen}}}}}
    payload = {"type": "block_actions", "user": {"id": ADMIN, "team_id": TEAM_ID}, "team": {"id": TEAM_ID},
               "api_app_id": APP_ID, "view": view, "container": {"type": "view"},
               "trigger_id": bot.double.new_trigger(ADMIN),
               "actions": [{"action_id": "kind_select", "block_id": "kind.0", "type": "static_select",
                            "selected_option": {"value": "personal"}, "action_ts": "1.2"}]}
    status, _text, elapsed = post_payload(bot.user(ADMIN), payload)
    check(status, elapsed, payload)
