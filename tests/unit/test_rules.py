"""The validation rules (sync_core.service.rules), each checked against an independent statement of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sync_core.domain.schedule import crontab_trigger
from sync_core.service import JobInputError, rules

CONTROL = st.sampled_from(["\n", "\t", "\a", "\r", "\x00", "\x1b", "\x7f", "\u200b", "\u2028"])
VISIBLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))


def refused(fn, *args: object, **kwargs: object) -> JobInputError:  # type: ignore[no-untyped-def]
    with pytest.raises(JobInputError) as caught:
        fn(*args, **kwargs)
    assert "\n" not in caught.value.message  # one line, whatever the input
    return caught.value


# --- job names ------------------------------------------------------------------------------------
@given(st.text(VISIBLE, min_size=1, max_size=80), st.text(" ", max_size=3), st.text(" ", max_size=3))
def test_a_name_of_1_to_80_printable_characters_is_kept_trimmed(core: str, left: str, right: str) -> None:
    assert rules.job_name(left + core + right) == core


@given(st.text(VISIBLE, min_size=81, max_size=300))
def test_a_name_over_80_characters_is_refused(name: str) -> None:
    assert "at most 80" in refused(rules.job_name, name).message


@given(st.text(VISIBLE, max_size=38), CONTROL, st.text(VISIBLE, max_size=39))  # with the two "x": 80 at most
def test_a_name_with_a_control_or_invisible_character_is_refused(before: str, bad: str, after: str) -> None:
    name = f"{before}{bad}{after}"
    if not name.strip():
        return  # only whitespace: refused as empty, below
    error = refused(rules.job_name, "x" + name + "x")
    assert error.field == "name" and "control" in error.message


@given(st.text(" \t\n", max_size=5))
def test_an_empty_name_is_refused(blank: str) -> None:
    assert "needs a name" in refused(rules.job_name, blank).message


@given(st.text(VISIBLE, min_size=1, max_size=20), st.lists(st.text(VISIBLE, min_size=1, max_size=20), max_size=5))
@example("Sales", ["SALES"])
@example("straße", ["STRASSE"])
def test_names_clash_exactly_when_they_are_equal_ignoring_case(name: str, existing: list[str]) -> None:
    clash = rules.name_clash(name, existing)
    expected = [e for e in existing if e.casefold() == name.casefold()]
    assert clash == (expected[0] if expected else None)
    if clash is not None:
        assert refused(rules.check_name_free, name, existing).field == "name"


@given(st.text(VISIBLE, min_size=1, max_size=20))
def test_a_sync_renamed_to_its_own_name_in_another_case_does_not_clash(name: str) -> None:
    assert rules.name_clash(name.swapcase(), [name, "other sync"], renaming_from=name) in (None, "other sync")
    assert rules.name_clash(name.upper(), [name], renaming_from=name) is None


# --- label (contact group) names -------------------------------------------------------------------
@given(st.text(VISIBLE, min_size=1, max_size=255))
def test_a_label_of_1_to_255_printable_characters_is_kept(name: str) -> None:
    if name.casefold() in rules.RESERVED_LABELS:
        return
    assert rules.label_name(f" {name} ") == name


@given(st.text(VISIBLE, min_size=256, max_size=6000))
@example("x" * 5000)
def test_a_label_over_255_characters_is_refused(name: str) -> None:
    error = refused(rules.label_name, name)
    assert error.field == "target_group_name" and "at most 255" in error.message


@given(st.text(VISIBLE, max_size=20), CONTROL)
def test_a_label_with_a_control_character_is_refused(name: str, bad: str) -> None:
    assert refused(rules.label_name, f"a{name}{bad}b").field == "target_group_name"


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_an_empty_label_is_refused(name: str) -> None:
    error = refused(rules.label_name, name)
    assert error.field == "target_group_name" and "needs a name" in error.message


@pytest.mark.parametrize("name", ["myContacts", "STARRED", "My Contacts", "all contacts", " friends "])
def test_a_label_of_one_of_googles_own_groups_is_refused(name: str) -> None:
    error = refused(rules.label_name, name)
    assert error.field == "target_group_name"
    assert error.message == f"{name.strip()!r} is one of Google's own contact groups; choose another name"


@pytest.mark.parametrize("name", ["My Contacts 2", "Stars", "Friends of Ada", "all contacts (shared)"])
def test_a_label_merely_like_one_of_googles_own_is_kept(name: str) -> None:
    assert rules.label_name(name) == name


# --- channels ----------------------------------------------------------------------------------------
@given(st.sampled_from("CGD"), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=23))
def test_a_slack_channel_id_is_accepted(prefix: str, rest: str) -> None:
    assert rules.channel(f" {prefix}{rest} ") == prefix + rest


@given(st.text(max_size=30))
@example("not a channel")
@example("#general")
@example("c0123abcd")
@example("")
def test_anything_else_is_refused_as_a_channel(text: str) -> None:
    value = text.strip()
    if value[:1] in ("C", "G", "D") and 7 <= len(value) <= 24 and all(c.isascii() and (c.isupper() or c.isdigit())
                                                                      for c in value[1:]):
        return  # a channel id
    assert refused(rules.channel, text).field == "alert_channel"


def test_no_channel_is_none() -> None:
    assert rules.channel(None) is None


# --- schedules ---------------------------------------------------------------------------------------
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


@given(st.integers(0, 10**12), st.sampled_from(sorted(UNITS)))
@example(1, "m")
@example(100000, "d")
@example(31, "d")
@example(32, "d")
@example(5, "m")
def test_an_interval_is_accepted_exactly_from_5_minutes_to_31_days(amount: int, unit: str) -> None:
    try:
        interval = amount * UNITS[unit]
    except OverflowError:
        interval = timedelta.max
    if timedelta(minutes=5) <= interval <= timedelta(days=31):
        assert rules.schedule(f"every {amount}{unit}").startswith("every ")
    else:
        assert refused(rules.schedule, f"every {amount}{unit}").field == "schedule"


def brute_force_gaps(expr: str, days: int) -> tuple[timedelta, timedelta]:
    """Every fire time over `days` days, one by one: the slow, obvious statement of the rule."""
    trigger = crontab_trigger(expr)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=days)
    times: list[datetime] = []
    moment = start
    while (nxt := trigger.get_next_fire_time(times[-1] if times else None, moment)) is not None and nxt < end:
        times.append(nxt)
        moment = nxt + timedelta(seconds=1)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return min(gaps), max(gaps)


def field(values: st.SearchStrategy[int], star_ok: bool = True) -> st.SearchStrategy[str]:
    listed = st.lists(values, min_size=1, max_size=3, unique=True).map(lambda v: ",".join(map(str, sorted(v))))
    step = st.integers(2, 30).map(lambda s: f"*/{s}")
    return st.one_of(listed, step, st.just("*")) if star_ok else st.one_of(listed, step)


@settings(max_examples=40, deadline=None)
@given(field(st.integers(0, 59)), field(st.integers(0, 23)), st.sampled_from(["*", "1-5", "0,6", "mon", "*/2"]))
@example("*", "*", "*")
@example("0,58", "0,23", "*")
@example("*/5", "*", "*")
def test_cron_gaps_agree_with_every_fire_time(minute: str, hour: str, weekday: str) -> None:
    expr = f"{minute} {hour} * * {weekday}"
    accepted = None
    try:
        accepted = rules.schedule(f"cron {expr}")
    except JobInputError as exc:
        assert exc.field == "schedule"
    try:
        shortest, longest = brute_force_gaps(expr, 15)
    except ValueError:  # not a valid expression (e.g. a step past the field's range): refused as such
        assert accepted is None
        return
    assert (accepted is not None) == (shortest >= timedelta(minutes=5) and longest <= timedelta(days=31))


@pytest.mark.parametrize(
    ("expr", "ok"),
    [
        ("0 7 * * 1-5", True),
        ("*/5 * * * *", True),
        ("0 0 1 * *", True),  # monthly: at most 31 days apart
        ("* * * * *", False),
        ("*/4 * * * *", False),
        ("0 0 1 1 *", False),  # yearly
        ("0 0 1 */2 *", False),  # every other month
        ("0 0 31 * *", False),  # only in the months that have a 31st: 61 days between some
        ("0 0 29 2 *", False),  # leap days
        ("0 0 30 2 *", False),  # never
    ],
)
def test_cron_schedules_between_5_minutes_and_31_days(expr: str, ok: bool) -> None:
    if ok:
        assert rules.schedule(f"cron {expr}") == f"cron {expr}"
    else:
        refused(rules.schedule, f"cron {expr}")


@pytest.mark.parametrize("text", ["", "   ", "every", "every ", "cron", "cron  ", "EVERY\t"])
def test_an_empty_schedule_is_refused_not_defaulted(text: str) -> None:
    exc = refused(rules.schedule, text)
    assert exc.field == "schedule" and "the schedule is empty" in exc.message


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["1", "15", "28", "1,15", "*/7", "*/10"]), st.sampled_from(["*", "1-6", "*/2", "1,3,5"]))
def test_cron_day_and_month_gaps_agree_with_every_fire_time(day: str, month: str) -> None:
    expr = f"0 6 {day} {month} *"
    try:
        rules.schedule(f"cron {expr}")
        accepted = True
    except JobInputError:
        accepted = False
    shortest, longest = brute_force_gaps(expr, 4 * 366)
    assert accepted == (shortest >= timedelta(minutes=5) and longest <= timedelta(days=31))


@given(st.text(max_size=40))
def test_any_schedule_text_is_accepted_or_refused_with_a_field_error(text: str) -> None:
    try:
        rules.schedule(text)
    except JobInputError as exc:
        assert exc.field == "schedule" and "\n" not in exc.message


@given(st.text(max_size=1200))
def test_a_description_is_kept_or_refused_on_its_field(text: str) -> None:
    try:
        kept = rules.description(text)
    except JobInputError as exc:
        assert exc.field == "description"
        return
    assert len(kept) <= 1000 and all(c.isprintable() or c == "\n" for c in kept)


# --- a Directory Sync's units -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("include", "exclude", "words"),
    [(["/Sales"], ["/Sales"], "/Sales is both included and excluded"),
     (["/Sales/EMEA"], ["/Sales"], "/Sales/EMEA is inside the excluded /Sales"),
     (["/Engineering", "/Sales"], ["/"], "/Engineering is inside the excluded /"),
     (["/Sales", "/Engineering"], ["/Contractors", "/Engineering"], "/Engineering is both included")],
)
def test_a_unit_included_and_excluded_is_refused(include: list[str], exclude: list[str], words: str) -> None:
    exc = refused(rules.units_apart, include, exclude)
    assert exc.field == "exclude_ous" and exc.message.startswith(words)


@pytest.mark.parametrize(
    ("include", "exclude"),
    [([], []), (["/Sales"], ["/Sales/EMEA"]), (["/Sales"], ["/Salesforce"]), ([], ["/Sales"]), (["/"], ["/Sales"])],
)
def test_units_that_still_match_someone_are_fine(include: list[str], exclude: list[str]) -> None:
    rules.units_apart(include, exclude)
