"""The validation rules for what an admin types, in one place: the CLI, the Slack modal, create and edit
(Personal and Directory Sync alike) all go through these, so a value refused in one is refused in all.

Pure functions, no I/O: each returns the cleaned value or raises `JobInputError` naming the field. The
README's "Validation rules" section says the same in words; keep the two together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta

from sync_core.domain.directory_fields import FieldRule, MappingError, check_schemas, parse_mapping, stored
from sync_core.domain.field_rules import FieldRules, RulesError
from sync_core.domain.models import JOB_NAME_MAX
from sync_core.domain.schedule import DEFAULT_SCHEDULE, ScheduleError, cron_gaps, parse_schedule
from sync_core.domain.text import first_unprintable
from sync_core.service.errors import JobInputError

# Google documents no maximum for a contact group's name; the Slack modal's field allows 255 characters and
# so do we (long enough for any label, short enough to read in Google Contacts' side bar).
LABEL_NAME_MAX = 255
DESCRIPTION_MAX = 1000  # the modal's field allows as much

# Every run is a full pass over the targets: more often than every 5 minutes only spends quota, and a
# schedule that can leave a month between runs lets changes wait too long to be noticed.
SCHEDULE_MIN_GAP = timedelta(minutes=5)
SCHEDULE_MAX_GAP = timedelta(days=31)

# Google's system groups: a label named like one is refused by Google (409) or confused with it.
RESERVED_LABELS = frozenset(
    name.casefold()
    for name in (
        "myContacts", "My Contacts", "starred", "friends", "family", "coworkers", "blocked", "chatBuddies",
        "Chat contacts", "all", "All Contacts",
    )
)

# A channel id as Slack writes it (and as the modal's conversation picker gives it): C (public), G (private,
# older) or D (direct message), then upper-case letters and digits, e.g. C0123ABCD.
CHANNEL_ID_RE = re.compile(r"[CGD][A-Z0-9]{6,23}")


def _printable(field: str, value: str, what: str) -> None:
    """No control or invisible characters: a newline, tab or BEL breaks `jobs list` and Slack messages."""
    bad = first_unprintable(value)
    if bad is not None:
        raise JobInputError(field, f"{what} may not contain control or invisible characters (found {bad!r})")


def job_name(text: str, *, field: str = "name") -> str:
    """A sync's name: 1-80 printable characters once trimmed."""
    name = text.strip()
    if not name:
        raise JobInputError(field, "a sync needs a name")
    if len(name) > JOB_NAME_MAX:
        raise JobInputError(field, f"a sync's name has at most {JOB_NAME_MAX} characters (this one has {len(name)})")
    _printable(field, name, "a sync's name")
    return name


def same_name(a: str, b: str) -> bool:
    """Names are unique case-insensitively: "Sales" and "SALES" would be two syncs nobody can tell apart."""
    return a.strip().casefold() == b.strip().casefold()


def name_clash(name: str, existing: Iterable[str], *, renaming_from: str | None = None) -> str | None:
    """The existing name `name` clashes with, if any. A sync being renamed does not clash with itself (so
    "sales" may become "Sales")."""
    for other in existing:
        if renaming_from is not None and other == renaming_from:
            continue
        if same_name(name, other):
            return other
    return None


def check_name_free(name: str, existing: Iterable[str], *, renaming_from: str | None = None) -> None:
    clash = name_clash(name, existing, renaming_from=renaming_from)
    if clash is not None:
        suffix = "" if clash == name else f" (names are compared ignoring case: {clash!r})"
        raise JobInputError("name", f"a sync named {name!r} already exists{suffix}")


def label_name(text: str, *, field: str = "target_group_name") -> str:
    """A contact group (label) name at the targets: not empty, at most 255 printable characters once
    trimmed, not one of Google's system groups."""
    name = text.strip()
    if not name:
        raise JobInputError(field, "the target group needs a name (leave the option out to keep the default)")
    if len(name) > LABEL_NAME_MAX:
        raise JobInputError(
            field, f"a contact group name has at most {LABEL_NAME_MAX} characters (this one has {len(name)})"
        )
    _printable(field, name, "a contact group name")
    if name.casefold() in RESERVED_LABELS:
        raise JobInputError(field, f"{name!r} is one of Google's own contact groups; choose another name")
    return name


def description(text: str, *, field: str = "description") -> str:
    """Free text, line breaks allowed, other control characters not; at most 1000 characters."""
    value = text.strip()
    if len(value) > DESCRIPTION_MAX:
        raise JobInputError(
            field, f"a description has at most {DESCRIPTION_MAX} characters (this one has {len(value)})"
        )
    _printable(field, value.replace("\n", " "), "a description")
    return value


def schedule(text: str, *, field: str = "schedule") -> str:
    """A schedule, normalised ("every 30m", "cron 0 7 * * 1-5"), whose runs are 5 minutes to 31 days apart:
    for cron, the shortest and longest gap between successive fire times over four years. An empty one
    ("", or "every"/"cron" and nothing: `--every ""`) is a mistake, not a request for the default."""
    words = text.split()
    if not words or (len(words) == 1 and words[0].lower() in ("every", "cron")):
        raise JobInputError(
            field, f"the schedule is empty: give one, e.g. 'every 30m' or 'cron 0 7 * * 1-5' (a sync created "
            f"without one runs {DEFAULT_SCHEDULE})"
        )
    try:
        parsed = parse_schedule(text)
    except ScheduleError as exc:
        raise JobInputError(field, str(exc)) from None
    if parsed.interval is not None:
        shortest = longest = parsed.interval
    else:
        assert parsed.cron is not None
        gaps = cron_gaps(parsed.cron)
        if gaps is None:
            raise JobInputError(field, f"{parsed} would run less than twice in four years")
        shortest, longest = gaps
    if shortest < SCHEDULE_MIN_GAP:
        raise JobInputError(
            field,
            f"{parsed} would run {_words(shortest)} apart; runs must be at least {_words(SCHEDULE_MIN_GAP)} apart",
        )
    if longest > SCHEDULE_MAX_GAP:
        raise JobInputError(
            field, f"{parsed} would leave {_words(longest)} between runs; at most {_words(SCHEDULE_MAX_GAP)}"
        )
    return str(parsed)


def units_apart(include: Iterable[str], exclude: Iterable[str], *, field: str = "exclude_ous") -> None:
    """A Directory Sync's included units (paths as `check_ous` cleans them) must not be excluded too: a unit
    both included and excluded, or inside an excluded one, would add no one."""
    excluded = list(exclude)
    for unit in include:
        for other in excluded:
            if unit == other:
                raise JobInputError(field, f"{unit} is both included and excluded: it would match no one")
            if other == "/" or unit.startswith(other + "/"):
                raise JobInputError(field, f"{unit} is inside the excluded {other}: it would match no one")


def directory_fields(
    texts: Iterable[str], schemas: Callable[[], Sequence[Mapping[str, object]]], *, field: str = "directory_fields"
) -> list[str]:
    """A Directory Sync's field mapping, as stored (`SOURCE=TARGET` texts): well formed, each SOURCE a directory
    field or a custom schema field of one of `schemas()` (asked only when the mapping names one), each TARGET a
    People field that holds plain values or userDefined:KEY."""
    try:
        parsed: tuple[FieldRule, ...] = parse_mapping(list(texts))
        if any(rule.schema is not None for rule in parsed):
            check_schemas(parsed, schemas())
    except MappingError as exc:
        raise JobInputError(field, str(exc)) from None
    return stored(parsed)


def channel(text: str | None, *, field: str = "alert_channel") -> str | None:
    """A Slack channel id (None: no alert channel). An empty value is a mistake, not "none"."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        raise JobInputError(field, "give a channel id (like C0123ABCD) or leave the option out")
    if not CHANNEL_ID_RE.fullmatch(value):
        raise JobInputError(
            field,
            f"{value[:40]!r} is not a Slack channel id (like C0123ABCD: in Slack, the channel's details show it)",
        )
    return value


def field_rules(
    fields: str | Iterable[str] | None, keep: str | Iterable[str] | None, match_existing: str | None
) -> FieldRules:
    """A job's field rules (`--fields`, `--keep-target-fields`, `--match-existing`): known fields only, each
    kept field copied too, adoption by email only when emails are copied."""
    try:
        return FieldRules.of(fields, keep, match_existing)
    except RulesError as exc:
        raise JobInputError(exc.option, str(exc)) from None


def rule_columns(found: FieldRules) -> dict[str, object]:
    """The job's columns for these rules (the default set stored as NULL: it follows the product's)."""
    return {
        "copy_fields": None if found.fields == FieldRules().fields else list(found.fields),
        "keep_target_fields": list(found.keep),
        "match_existing": found.match_existing,
    }


def job_rules(job: object) -> FieldRules:
    """The rules a stored job keeps (its columns were checked when they were saved)."""
    return FieldRules.of(
        getattr(job, "copy_fields", None), getattr(job, "keep_target_fields", None) or (),
        getattr(job, "match_existing", None),
    )


def _words(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' * (minutes != 1)}"
    if minutes < 48 * 60:
        hours = minutes / 60
        return f"{hours:g} hour{'s' * (hours != 1)}"
    days = minutes / (24 * 60)
    return f"{days:g} days"
