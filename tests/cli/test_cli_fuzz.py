"""Every `contactsync` command, fed generated arguments (plausible values mixed with anything at all), against
the emulator: it exits 0, or 2 with exactly one `error: <field>: <message>` line on stderr; 1 only where a run
(or a removal) had failed targets. Never a traceback.

Run with `--hypothesis-show-statistics` to see how many invocations each command got and how they ended.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import env  # noqa: F401  (the fixture)
from tests.conftest import Google

runner = CliRunner()

# Anything a shell could pass: any character but lone surrogates (argv cannot carry them) and NUL.
ANY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=120)
LONG = st.integers(81, 6000).map(lambda n: "n" * n)


def mixed(*plausible: str) -> st.SearchStrategy[str]:
    """Mostly plausible values (some right, some wrong), so that whole commands succeed now and then."""
    return st.integers(0, 9).flatmap(lambda i: st.sampled_from(plausible) if i < 8 else (ANY if i == 8 else LONG))


NAMES = mixed("Partners", "partners", "Staff", "Sales\tTeam", "Bell\a", "x" * 80, "  spaced  ")
EMAILS = mixed("alice@example.com", "bob@example.com", "nobody@example.com", "not an email")
GROUPS = mixed("Partners", "Nope")
TARGETS = mixed("email:bob@example.com", "group:emea-sales@example.com", "domain:example.com", "ou:/Sales",
                "role:Help Desk Admin", "query:orgDepartment='Sales'", "query:orgDepartment='Sales", "bob",
                "email:", "fax:123")
LABELS = mixed("Partners", "", "My Contacts", "Shared\nLabel", "L" * 5000)
EVERY = mixed("30m", "1m", "5m", "31d", "32d", "100000d", "99999999999999999999d", "6h", "1x")
CRON = mixed("0 7 * * 1-5", "* * * * *", "*/5 * * * *", "0 0 1 1 *", "0 0 30 2 *", "61 * * * *", "*/0 * * * *",
             "0 0 1 * *", "a b c d e")
CHANNELS = mixed("C0123ABCD", "not a channel", "", "#general", "c0123abcd")
DOMAINS = mixed("example.com", "example.org", "nowhere.test", "")
OUS = mixed("/Sales", "/", "Sales", "/Nowhere", "")


def opt(flag: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), values.map(lambda v: [flag, v]))


def opts(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda lists: [a for part in lists for a in part])


def repeated(flag: str, values: st.SearchStrategy[str], min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(values, min_size=min_size, max_size=3).map(lambda vs: [a for v in vs for a in (flag, v)])


SCHEDULE = opts(opt("--every", EVERY), opt("--cron", CRON))
FLAG = st.sampled_from([[], ["--add-to-my-contacts"]])

COMMANDS: dict[str, st.SearchStrategy[list[str]]] = {
    "jobs create": opts(
        st.just(["jobs", "create"]), NAMES.map(lambda v: ["--name", v]), EMAILS.map(lambda v: ["--source", v]),
        GROUPS.map(lambda v: ["--group", v]), repeated("--target", TARGETS, 1), opt("--target-group-name", LABELS),
        FLAG, opt("--description", ANY), SCHEDULE, opt("--channel", CHANNELS),
    ),
    "jobs create-directory": opts(
        st.just(["jobs", "create-directory"]), NAMES.map(lambda v: ["--name", v]), repeated("--domain", DOMAINS, 1),
        repeated("--target", TARGETS, 1), repeated("--include-ou", OUS), repeated("--exclude-ou", OUS),
        opt("--target-group-name", LABELS), SCHEDULE, opt("--channel", CHANNELS),
    ),
    "jobs list": st.sampled_from([["jobs", "list"], ["jobs", "list", "--json"]]),
    "jobs show": opts(st.just(["jobs", "show"]), NAMES.map(lambda v: [v]), st.sampled_from([[], ["--json"]])),
    "jobs edit": opts(
        st.just(["jobs", "edit"]), NAMES.map(lambda v: [v]), opt("--name", NAMES), opt("--source", EMAILS),
        opt("--group", GROUPS), repeated("--target", TARGETS), opt("--target-group-name", LABELS),
        opt("--description", ANY), SCHEDULE, opt("--channel", CHANNELS),
    ),
    "jobs pause": NAMES.map(lambda v: ["jobs", "pause", v]),
    "jobs resume": NAMES.map(lambda v: ["jobs", "resume", v]),
    "jobs delete": opts(st.just(["jobs", "delete"]), NAMES.map(lambda v: [v]),
                        st.sampled_from([[], ["--remove-contacts"]])),
    "run": opts(st.just(["run"]), NAMES.map(lambda v: [v]), st.sampled_from([[], ["--dry-run"], ["--json"]])),
    "db upgrade": st.just(["db", "upgrade"]),
    "usage": st.lists(ANY, max_size=4),  # anything at all as the command line
}
EXIT_1_ALLOWED = {"run", "jobs delete"}  # failed targets (a run), contacts that could not all be removed


@pytest.fixture
def seeded(google: Google, env: dict[str, str]) -> Google:  # noqa: F811
    """Two jobs to edit, pause, run and delete, besides whatever the generated commands create."""
    for name in ("Partners", "Staff"):
        result = runner.invoke(app, ["jobs", "create", "--name", name, "--source", google.seed.source_email,
                                     "--group", "Partners", "--target", "email:bob@example.com"])
        assert result.exit_code == 0, result.output
    return google


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.sampled_from(sorted(COMMANDS)).flatmap(lambda c: st.tuples(st.just(c), COMMANDS[c])))
def test_every_command_exits_0_or_2_with_one_line(seeded: Google, tmp_path: Path, case: tuple[str, list[str]]) -> None:
    command, args = case
    result = runner.invoke(app, args)
    event(f"{command}: exit {result.exit_code}")
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in result.output, args
    allowed = {0, 2} | ({1} if command in EXIT_1_ALLOWED else set())
    assert result.exit_code in allowed, (args, result.output)
    shows_help = command == "usage" and "Usage:" in result.output  # a group named alone: its help, on purpose
    if result.exit_code == 2 and not shows_help:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
