"""`contactsync`: manage and run sync jobs from a terminal. `<noun> <verb>`, `--json` on every listing.

Exit codes: 0 done; 1 a run finished with failed targets (it says which); 2 bad input or settings
(one line on stderr, never a traceback, never a secret); 3 the change waits for a second admin (the
two-person rule: the request's id is printed, nothing changed yet).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click import Context, HelpFormatter
from typer._click.exceptions import (  # typer vendors click; no public alias
    MissingParameter,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from contactsync.logs import configure_logging
from sync_core.kinds import usage as target_usage  # the kinds' registry alone: no Google client, no database

# Only light modules above: `contactsync --help`, `--version` and a usage error answer at once. The service
# and what it pulls in (SQLAlchemy, alembic, Google's client, the engine) are imported inside the commands,
# when one runs (tests/cli/test_cli_startup.py keeps it so).
if TYPE_CHECKING:
    from sync_core.domain.reports import RunReport, TargetReport
    from sync_core.service import EditPreview, JobService


class QuickHelp(TyperGroup):
    """A group whose `--help` is False when not given (typer leaves it None, and coercing that None imports
    pydantic: a fifth of a second of CPU before `contactsync jobs --help` or a usage error could answer)."""

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.default = False
        return option


class PlainCommand(TyperCommand):
    """A command whose help names its arguments as people write them, `contactsync jobs show [OPTIONS] NAME`
    (not typer's `{name}` and `name <str>`), options by what to type (`--name NAME`, not `--name <str>`), and
    which says a missing argument or option at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None and param.name:
                param.metavar = param.name.upper()  # unless the option names its own (EMAIL, KIND:VALUE...)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """A missing argument or option is refused before typer coerces any value: its coercers are pydantic's,
        a fifth of a second of CPU to import, too long for a usage error. The parse itself stays typer's."""
        if not ctx.resilient_parsing and not set(args) & set(ctx.help_option_names):
            given, _, _ = self.make_parser(ctx).parse_args(args=list(args))
            for param in self.get_params(ctx):
                missing = param.required and given.get(param.name or "") is None and param.envvar is None
                if missing and isinstance(param, TyperArgument | TyperOption):
                    raise MissingParameter(ctx=ctx, param=param)
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            pieces += [argument_name(param)] if isinstance(param, TyperArgument) else param.get_usage_pieces(ctx)
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        params = self.get_params(ctx)
        arguments = [(argument_name(p), p.help) for p in params if isinstance(p, TyperArgument) and p.help]
        options = [record for p in params if isinstance(p, TyperOption) and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def argument_name(param: TyperArgument) -> str:
    return param.metavar or (param.name or "value").upper()


class OneLineUsageErrors(QuickHelp):
    """Usage mistakes (a missing option, a value of the wrong type, an unknown command) are one line on
    stderr and exit 2 like every other bad input, not click's usage box."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run(standalone: bool) -> Any:
            return super(OneLineUsageErrors, self).main(args, prog_name, complete_var, standalone,
                                                        windows_expand_args, **extra)

        if not standalone_mode:
            return run(False)
        try:
            code = run(False)
        except NoArgsIsHelpError as exc:  # `contactsync` alone: the help, as before
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            param = getattr(exc, "param", None)  # set on a bad or missing option
            about = param.name if param is not None and param.name else "usage"
            typer.echo(f"error: {about}: {one_line(exc.format_message())} (see --help)", err=True)
            sys.exit(2)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


# Plain help (rich_markup_mode=None), as a person writes it: each option with what to type, no column of
# `<bool>` and `<str>`; and rich, a third of a second to import, is never loaded.
app = typer.Typer(
    cls=OneLineUsageErrors,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    help="ContactSync: keep Google contact groups in sync.",
)
jobs_app = typer.Typer(
    cls=QuickHelp,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Create, list, show, edit, pause, resume and delete sync jobs.",
)
db_app = typer.Typer(cls=QuickHelp, rich_markup_mode=None, no_args_is_help=True, help="Database schema.")
requests_app = typer.Typer(
    cls=QuickHelp,
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Requests waiting for an admin (members' requests, the two-person rule): list, approve, deny.",
)
app.add_typer(jobs_app, name="jobs")
app.add_typer(requests_app, name="requests")
app.add_typer(db_app, name="db")


def show_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"contactsync {version('contactsync')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[  # a plain bool: typer then needs no pydantic adapter for it (help answers at once)
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ContactSync: keep Google contact groups in sync."""


# Options several commands share. Metavars say what to type (never typer's `<list[str]>` or `<bool>`).
TargetsOption = Annotated[
    list[str], typer.Option("--target", metavar="KIND:VALUE", help=f"{target_usage()} (repeatable)")
]
EveryOption = Annotated[str | None, typer.Option("--every", metavar="INTERVAL", help="Interval, e.g. 30m, 6h, 1d")]
CronOption = Annotated[
    str | None, typer.Option("--cron", metavar="CRONTAB", help='Cron expression instead of --every, e.g. "0 7 * * 1-5"')
]
ChannelOption = Annotated[
    str | None, typer.Option("--channel", metavar="CHANNEL_ID", help="Slack channel id for alerts, e.g. C0123ABCD")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
AllowEmptyOption = Annotated[
    bool, typer.Option("--allow-empty", help="Save it even if its targets match no one now (refused otherwise)")
]
OptOutOption = Annotated[
    str | None, typer.Option("--opt-out", metavar="allowed|never",
                             help="May a target leave the sync from Slack (default: never)")
]
EditorOption = Annotated[
    list[str] | None,
    typer.Option("--editor", metavar="KIND:VALUE",
                 help="Who may edit the label (it reaches them too), as a target: email:, group:, domain:, role:, "
                      "ou:, query: (repeatable; the source user always may)"),
]
EditorsCanDeleteOption = Annotated[
    bool | None,
    typer.Option("--editors-can-delete/--no-editors-can-delete",
                 help="An editor's deletion deletes the contact everywhere (default: it is put back)"),
]
JoinableOption = Annotated[
    bool, typer.Option("--joinable", help="Anyone in the Workspace may join it from Slack (an open sync)")
]
# Field rules (README "Field rules"), at create and edit alike.
FieldsOption = Annotated[
    str | None, typer.Option("--fields", metavar="LIST",
                             help="The People fields copied, comma-separated (default: every synced field)")
]
KeepFieldsOption = Annotated[
    str | None, typer.Option("--keep-target-fields", metavar="LIST",
                             help="Copied fields the targets own: filled when empty, never overwritten")
]
MatchExistingOption = Annotated[
    str | None, typer.Option("--match-existing", metavar="email|none",
                             help="Adopt a target's own contact holding the source contact's email address")
]


def rule_fields(fields: str | None, keep: str | None, match: str | None) -> dict[str, Any]:
    """The field-rule options under the service's names (None: left out)."""
    return {"fields": fields, "keep_target_fields": keep, "match_existing": match}


def opt_out_choice(value: str | None) -> Any:
    """`--opt-out`'s value as the service's `OptOut`; None when left out. Anything else is a usage error."""
    from sync_core.service import OptOut

    if value is None:
        return None
    try:
        return OptOut(value.strip().lower())
    except ValueError:
        fail(f"opt-out: {value!r} is not one of: {', '.join(o.value for o in OptOut)}")


def one_line(text: str) -> str:
    """Messages may quote what the user typed: its newlines, tabs and other control characters (NEL
    included) are shown escaped, so an error is always exactly one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit code 2."""
    from sync_core.service import (
        ApprovalNeeded,
        CredentialsFileError,
        GoogleError,
        JobBusy,
        JobInputError,
        JobNotFound,
        SettingsError,
        StoreError,
    )

    try:
        yield
    except ApprovalNeeded as exc:  # not an error: nothing changed yet, it waits for a second admin
        typer.echo(f"waiting for a second admin: {one_line(exc.message)}")
        request = exc.request
        slack_poster(lambda poster: poster.post(request), done="  posted for the admins in Slack")
        raise typer.Exit(3) from None
    except JobNotFound as exc:  # worded one way, whether the engine (`run`) or the service found no such job
        fail(f"{exc.field}: no sync job named {exc.name!r}")
    except JobInputError as exc:
        fail(f"{exc.field}: {exc.message}")
    except (SettingsError, CredentialsFileError, StoreError, JobBusy) as exc:
        fail(str(exc))
    except GoogleError as exc:
        fail(f"Google: {exc.reason}")


def service() -> JobService:
    """The application service over this process's settings (no scheduler: `run` runs in this process)."""
    from sync_core.runtime import Runtime
    from sync_core.service import JobService
    from sync_core.settings import load_settings

    return JobService(Runtime(load_settings()))


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


# --- db ---------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations (also done automatically at start-up)."""
    from sync_core.service import upgrade_database
    from sync_core.settings import load_settings

    with clear_errors():
        before, after = upgrade_database(load_settings().database_url)
    if before is None:
        typer.echo(f"created the database schema at revision {after}")
    elif before != after:
        typer.echo(f"migrated the database from revision {before} to revision {after}")
    else:
        typer.echo(f"the database is already at the latest revision, {after}")


# --- jobs -------------------------------------------------------------------------------------------
@jobs_app.command("create", cls=PlainCommand)
def jobs_create(
    name: Annotated[str, typer.Option(help="Unique name of the sync")],
    source: Annotated[str, typer.Option(metavar="EMAIL", help="Email of the user whose contact group is copied")],
    group: Annotated[str, typer.Option(help="The source user's contact group (label) name")],
    target: TargetsOption,
    target_group_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="Group name at the targets (default: the source group's)")
    ] = None,
    add_to_my_contacts: Annotated[
        bool, typer.Option("--add-to-my-contacts", help="Also put the contacts in My Contacts")
    ] = False,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What the sync is for")] = "",
    every: EveryOption = None,
    cron: CronOption = None,
    channel: ChannelOption = None,
    allow_empty: AllowEmptyOption = False,
    opt_out: OptOutOption = None,
    joinable: JoinableOption = False,
    fields: FieldsOption = None,
    keep_target_fields: KeepFieldsOption = None,
    match_existing: MatchExistingOption = None,
    editor: EditorOption = None,
    editors_can_delete: EditorsCanDeleteOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON")] = False,
) -> None:
    """Create a personal Contact Sync job."""
    from sync_core.service import OptOut, PersonalJobSpec

    schedule = schedule_text(every, cron)
    opt_out_value = opt_out_choice(opt_out) or OptOut.never
    with clear_errors(), no_targets_hint():
        jobs = service()
        job = jobs.create_personal(
            PersonalJobSpec(**personal_fields(name, source, group, target, target_group_name, add_to_my_contacts,
                                              description, schedule, channel), allow_empty=allow_empty,
                            opt_out=opt_out_value, joinable=joinable, editors=editor or [],
                            editors_can_delete=bool(editors_can_delete),
                            **rule_fields(fields, keep_target_fields, match_existing))
        )
        if as_json:
            emit_json(describe_job(jobs, job.name))
        else:
            typer.echo(
                f"created sync {job.name!r}: {job.source_email} / {job.source_group_name} -> "
                f"{len(target)} selector(s), {job.schedule}"
            )


# A Directory Sync's units, at create and edit alike.
IncludeOusOption = Annotated[
    list[str] | None,
    typer.Option(metavar="/PATH", help='Only users in this unit or below (repeatable; "" for every unit)'),
]
ExcludeOusOption = Annotated[
    list[str] | None,
    typer.Option(metavar="/PATH", help='Leave out users in this unit or below (repeatable; "" for none)'),
]


DirectoryFieldsOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="SOURCE=TARGET,...",
        help="Directory Sync: more of the directory on the card. SOURCE: externalIds, employeeId, locations, "
        "costCenter, department, title, orgUnitPath, or a custom schema field Schema.Field; TARGET: nicknames, "
        "emailAddresses, phoneNumbers, urls, biographies, or userDefined:KEY. "
        "E.g. 'Employment.CostCenter=userDefined:Cost center,externalIds=userDefined:Employee id' "
        '(repeatable; at edit, replaces the mapping: "" for none)',
    ),
]


def units(paths: list[str] | None) -> list[str] | None:
    """The unit paths given (None: the option was left out). An empty value stands for no unit, so that
    `jobs edit --exclude-ou ""` can empty the list; it never means the root unit "/"."""
    return None if paths is None else [p for p in paths if p.strip()]


@jobs_app.command("create-directory", cls=PlainCommand)
def jobs_create_directory(
    name: Annotated[str, typer.Option(help="Unique name of the sync")],
    domain: Annotated[
        list[str], typer.Option(metavar="DOMAIN", help="A Workspace domain whose users become contacts (repeatable)")
    ],
    target: TargetsOption,
    include_ou: IncludeOusOption = None,
    exclude_ou: ExcludeOusOption = None,
    target_group_name: Annotated[str, typer.Option(metavar="NAME", help="Group name at the targets")] = "Directory",
    include_aliases: Annotated[
        bool, typer.Option("--include-aliases", help="Also copy each user's alias addresses")
    ] = False,
    include_self: Annotated[bool, typer.Option("--include-self", help="A target also gets their own card")] = False,
    directory_fields: DirectoryFieldsOption = None,
    include_shared_contacts: Annotated[
        bool,
        typer.Option("--include-shared-contacts", help="The domain's shared contacts become contacts too"),
    ] = False,
    add_to_my_contacts: Annotated[
        bool, typer.Option("--add-to-my-contacts", help="Also put the contacts in My Contacts")
    ] = False,
    description: Annotated[str, typer.Option(metavar="TEXT", help="What the sync is for")] = "",
    every: EveryOption = None,
    cron: CronOption = None,
    channel: ChannelOption = None,
    allow_empty: AllowEmptyOption = False,
    opt_out: OptOutOption = None,
    joinable: JoinableOption = False,
    fields: FieldsOption = None,
    keep_target_fields: KeepFieldsOption = None,
    match_existing: MatchExistingOption = None,
    editor: Annotated[list[str] | None, typer.Option("--editor", metavar="KIND:VALUE", hidden=True)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job as JSON")] = False,
) -> None:
    """Create a Directory Sync: the users of some domains become contacts at every target."""
    from sync_core.service import DirectoryJobSpec, OptOut

    schedule = schedule_text(every, cron)
    opt_out_value = opt_out_choice(opt_out) or OptOut.never
    with clear_errors(), no_targets_hint():
        jobs = service()
        job = jobs.create_directory(
            DirectoryJobSpec(
                name=name,
                domains=domain,
                targets=target,
                include_ous=units(include_ou) or [],
                exclude_ous=units(exclude_ou) or [],
                target_group_name=target_group_name,
                include_aliases=include_aliases,
                include_self=include_self,
                directory_fields=directory_fields or [],
                include_shared_contacts=include_shared_contacts,
                add_to_my_contacts=add_to_my_contacts,
                description=description,
                schedule=schedule,
                alert_channel=channel,
                allow_empty=allow_empty,
                opt_out=opt_out_value,
                joinable=joinable,
                **rule_fields(fields, keep_target_fields, match_existing),
                editors=editor or [],
            )
        )
        if as_json:
            emit_json(describe_job(jobs, job.name))
            return
    typer.echo(f"created directory sync {job.name!r}: {', '.join(job.directory_domains)} -> {len(target)} selector(s)")


def personal_fields(
    name: str | None,
    source: str | None,
    group: str | None,
    target: list[str] | None,
    target_group_name: str | None,
    add_to_my_contacts: bool | None,
    description: str | None,
    schedule: str | None,
    channel: str | None,
) -> dict[str, Any]:
    """The options `jobs create` and `jobs edit` share, under the service's names for them (`--source` is
    `source_email`, `--channel` is `alert_channel`...): one place maps them for both commands."""
    return {
        "name": name,
        "source_email": source,
        "group_name": group,
        "targets": target,
        "target_group_name": target_group_name,
        "add_to_my_contacts": add_to_my_contacts,
        "description": description,
        "schedule": schedule,
        "alert_channel": channel,
    }


def schedule_text(every: str | None, cron: str | None) -> str:
    """The schedule the options ask for; left out, the default. Given empty (`--every ""`), it stays empty
    for the rules to refuse, like an empty `--channel`."""
    from sync_core.domain.schedule import DEFAULT_SCHEDULE

    if every is not None and cron is not None:
        fail("schedule: give --every or --cron, not both")
    return f"cron {cron}" if cron is not None else (f"every {every}" if every is not None else DEFAULT_SCHEDULE)


def describe_job(jobs: JobService, name: str) -> dict[str, Any]:
    from sync_core.kinds import typed
    from sync_core.service import rules

    detail = jobs.detail(name)
    job = detail.job
    change = detail.source_change
    editors = jobs.editors(job.name)
    return {
        "name": job.name,
        "kind": job.kind.value,
        "enabled": job.enabled,
        "deleting": job.deleting,
        "source": detail.source,
        "source_group": job.source_group_name,
        "include_ous": job.include_ous,
        "exclude_ous": job.exclude_ous,
        "directory_fields": job.directory_fields,
        "include_shared_contacts": job.include_shared_contacts,
        "target_group_name": job.target_group_name,
        "add_to_my_contacts": job.add_to_my_contacts,
        "description": job.description,
        "schedule": job.schedule,
        "alert_channel": job.alert_channel,
        "opt_out": job.opt_out.value,
        "joinable": job.joinable,
        "fields": list(rules.job_rules(job).fields),
        "keep_target_fields": list(rules.job_rules(job).keep),
        "match_existing": job.match_existing,
        "field_rules": detail.field_rules,
        "adopted": detail.adopted,
        "opt_outs": [{"email": o.email, "by": o.actor, "at": o.at} for o in jobs.opt_outs(job.name)],
        "next_run": detail.next_run_at.isoformat() if detail.next_run_at else None,
        "targets": [typed(s.kind.value, s.value) for s in detail.selectors],  # as typed: ou:/Sales
        "editors": list(editors.selectors),
        "editor_users": list(editors.users),  # whom they name now, the source user first (always an editor)
        "editors_can_delete": editors.can_delete,
        "conflicts": [conflict_json(c) for c in jobs.conflicts(job.name)],  # open ones, newest first
        "source_changed_at": change.changed_at.isoformat() if change else None,
        "source_change_reached_at": change.reached_at.isoformat() if change and change.reached_at else None,
        "source_change_took_seconds": round(change.took.total_seconds(), 1) if change and change.took else None,
        "target_users": [
            {
                "email": s.target_email,
                "status": s.last_status.value if s.last_status else None,
                "reason": s.last_reason,
            }
            for s in detail.states
        ],
        "last_runs": [
            {
                "started_at": r.started_at.isoformat(),
                "status": r.status.value,
                "created": r.created,
                "updated": r.updated,
                "deleted": r.deleted,
                "unchanged": r.unchanged,
                "targets_failed": r.targets_failed,
                "api_calls": r.api_calls,
                "error": r.error_reason,
            }
            for r in detail.runs
        ],
        "history": [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in detail.history
        ],
        # Recorded by every run, the CLI's too; `posted` once a process with Slack has put it in the channel.
        "alerts": [
            {"kind": a.kind.value, "subject": a.subject, "state": a.state.value, "reason": a.reason,
             "opened_at": a.opened_at.isoformat(), "posted": a.message_ts is not None}
            for a in detail.alerts
        ],
    }


def conflict_json(c: Any) -> dict[str, Any]:
    return {"id": c.id, "found_at": c.found_at, "contact": c.contact, "field": c.field, "why": c.why,
            "kept": c.kept, "lost": list(c.losers), "state": c.state, "resolution": c.resolution}


@jobs_app.command("list")
def jobs_list(as_json: JsonOption = False) -> None:
    """Every job with its status and last run."""
    with clear_errors():
        rows: list[dict[str, Any]] = [
            {
                "name": row.job.name,
                "kind": row.job.kind.value,
                "enabled": row.job.enabled,
                "deleting": row.job.deleting,
                "source": row.source,
                "group": row.job.source_group_name,
                "schedule": row.job.schedule,
                "last_run": row.last_run.started_at.isoformat() if row.last_run else None,
                "last_status": row.last_run.status.value if row.last_run else None,
                "next_run": row.next_run_at.isoformat() if row.next_run_at else None,
            }
            for row in service().list_jobs()
        ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("no sync jobs yet: create one with `contactsync jobs create`")
        return
    for r in rows:
        state = "deleting" if r["deleting"] else ("enabled" if r["enabled"] else "paused")
        last = f"{r['last_status']} {when(r['last_run'])}" if r["last_run"] else "never"
        typer.echo(f"{r['name']:<30} {r['kind']:<9} {state:<8} {r['schedule']:<14} last: {last}  "
                   f"next: {next_run_words(r['next_run'])}")


def when(iso: str | None) -> str:
    """A stored time (ISO 8601) as people read it, in UTC to the minute, as Slack's fallback text shows it."""
    return "-" if iso is None else f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def next_run_words(iso: str | None) -> str:
    """When `serve` runs the job next: "-" when nothing is scheduled, "due now" for a slot already come."""
    if iso is None:
        return "-"
    return "due now" if datetime.fromisoformat(iso) <= datetime.now(UTC) else when(iso)


def human(value: Any) -> str:
    """A setting as people write it: yes/no, a comma-separated list, "-" for none (never None, True, [...])."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return "-" if value is None or value == "" else str(value)


@jobs_app.command("show", cls=PlainCommand)
def jobs_show(name: str, as_json: JsonOption = False) -> None:
    """One job: settings, targets, last runs, open alerts and history."""
    from sync_core.service import history_words

    with clear_errors():
        data = describe_job(service(), name)
    if as_json:
        emit_json(data)
        return
    for key in (
        "name",
        "kind",
        "enabled",
        "deleting",
        "source",
        "source_group",
        "target_group_name",
        "add_to_my_contacts",
        "schedule",
        "alert_channel",
        "description",
        "opt_out",
        "joinable",
        "field_rules",
    ):
        typer.echo(f"{key:>20}: {human(data[key])}")
    if data["match_existing"] or data["adopted"]:
        typer.echo(f"{'adopted':>20}: {data['adopted']} of the targets' own contacts (released, never deleted)")
    for o in data["opt_outs"]:
        typer.echo(f"{'left':>20}: {o['email']} ({when(o['at'])}, by {o['by']})")
    if data["kind"] == "directory":
        typer.echo(f"{'include_ous':>20}: {', '.join(data['include_ous'] or []) or '(every unit)'}")
        typer.echo(f"{'exclude_ous':>20}: {', '.join(data['exclude_ous'] or []) or '(none)'}")
        typer.echo(f"{'directory_fields':>20}: {', '.join(data['directory_fields'] or []) or '(none)'}")
        typer.echo(f"{'shared contacts':>20}: {human(data['include_shared_contacts'])}")
    typer.echo(f"{'next run':>20}: {next_run_words(data['next_run'])}")
    typer.echo(f"{'targets':>20}: {human(data['targets'])}")
    if data["editors"]:
        typer.echo(f"{'editors':>20}: {human(data['editors'])} (now: {human(data['editor_users'])})")
        typer.echo(f"{'editors can delete':>20}: {human(data['editors_can_delete'])}")
    for c in data["conflicts"]:
        typer.echo(f"{'conflict':>20}: #{c['id']} {when(c['found_at'])} {c['field']} of {c['contact']}: kept "
                   f"{c['kept']} ({c['why']}); lost {'; '.join(c['lost'])}")
    typer.echo(f"{'source changed':>20}: {source_change_text(data)}")
    for u in data["target_users"]:
        reason = f" ({u['reason']})" if u["reason"] else ""
        typer.echo(f"{'':>22}{u['email']}: {u['status'] or 'not synced yet'}{reason}")
    for r in data["last_runs"]:
        typer.echo(
            f"{'run':>20}: {when(r['started_at'])} {r['status']} +{r['created']} ~{r['updated']} -{r['deleted']} "
            f"={r['unchanged']} calls={r['api_calls']}" + (f" ({r['error']})" if r["error"] else "")
        )
    for a in data["alerts"]:
        posted = "posted" if a["posted"] else "not posted yet"
        typer.echo(f"{'alert':>20}: {a['kind']} {a['subject']} ({a['state']}, {posted})")
    for h in data["history"]:
        words = history_words(h["detail"])
        typer.echo(f"{'history':>20}: {when(h['at'])} {h['actor']} {h['action']}" + (f" ({words})" if words else ""))


@jobs_app.command("history", cls=PlainCommand)
def jobs_history(name: str, as_json: JsonOption = False) -> None:
    """A sync's history, newest first: who changed what (edits, editors' changes field by field, conflicts)."""
    from sync_core.service import history_words

    with clear_errors():
        events = service().history(name)
    if as_json:
        emit_json([{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail}
                   for e in events])
        return
    if not events:
        typer.echo("no history yet")
    for e in events:
        words = history_words(e.detail)
        typer.echo(f"{when(e.at.isoformat())} {e.actor} {e.action}" + (f" ({words})" if words else ""))


def source_change_text(data: dict[str, Any]) -> str:
    if data["source_changed_at"] is None:
        return "not yet seen"
    if data["source_change_took_seconds"] is None:
        return f"{when(data['source_changed_at'])}; not at every target yet"
    return f"{when(data['source_changed_at'])}; at every target {data['source_change_took_seconds']:g}s later"


@jobs_app.command("opt-outs", cls=PlainCommand)
def jobs_opt_outs(
    name: str,
    clear: Annotated[
        str | None, typer.Option("--clear", metavar="EMAIL",
                                 help="Let this person back in: the next run syncs them again")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who left a sync from Slack (Leave): no run writes to them until they re-join or you --clear them."""
    with clear_errors():
        jobs = service()
        if clear is not None:
            job = jobs.clear_opt_out(name, clear, actor="cli")
            typer.echo(f"cleared: {clear.strip().lower()} is back in sync {job.name!r} from its next run")
            return
        rows = jobs.opt_outs(name)
    if as_json:
        emit_json([{"email": o.email, "google_id": o.user_id, "by": o.actor, "at": o.at} for o in rows])
        return
    if not rows:
        typer.echo("nobody has left this sync")
    for o in rows:
        typer.echo(f"{o.email}  left {when(o.at)}  by {o.actor}")


@jobs_app.command("edit", cls=PlainCommand)
def jobs_edit(
    name: str,
    new_name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="Rename the sync")] = None,
    source: Annotated[
        str | None, typer.Option(metavar="EMAIL", help="A new source user address (e.g. after a rename)")
    ] = None,
    group: Annotated[str | None, typer.Option(metavar="GROUP", help="Another source contact group")] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(metavar="KIND:VALUE", help=f"Replace the targets: {target_usage()} (repeatable)"),
    ] = None,
    target_group_name: Annotated[str | None, typer.Option(metavar="NAME", help="Group name at the targets")] = None,
    add_to_my_contacts: Annotated[
        bool | None, typer.Option("--add-to-my-contacts/--no-add-to-my-contacts",
                                  help="Also put the contacts in My Contacts, or stop")
    ] = None,
    description: Annotated[str | None, typer.Option(metavar="TEXT", help="What the sync is for")] = None,
    every: EveryOption = None,
    cron: CronOption = None,
    channel: ChannelOption = None,
    include_ou: Annotated[
        list[str] | None,
        typer.Option(metavar="/PATH",
                     help='Directory Sync: replace the included units (repeatable; "" for every unit)'),
    ] = None,
    exclude_ou: Annotated[
        list[str] | None,
        typer.Option(metavar="/PATH", help='Directory Sync: replace the excluded units (repeatable; "" for none)'),
    ] = None,
    directory_fields: DirectoryFieldsOption = None,
    include_shared_contacts: Annotated[
        bool | None,
        typer.Option("--include-shared-contacts/--no-shared-contacts",
                     help="Directory Sync: the domain's shared contacts become contacts too, or stop"),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Save an edit that deletes contacts without asking (for scripts)")
    ] = False,
    allow_empty: AllowEmptyOption = False,
    opt_out: OptOutOption = None,
    joinable: Annotated[
        bool | None, typer.Option("--joinable/--not-joinable",
                                  help="Open the sync to anyone in the Workspace (Slack's Join), or close it")
    ] = None,
    fields_: FieldsOption = None,
    keep_target_fields: KeepFieldsOption = None,
    match_existing: MatchExistingOption = None,
    editor: Annotated[
        list[str] | None,
        typer.Option("--editor", metavar="KIND:VALUE", help="Replace the editors (repeatable), as targets are named"),
    ] = None,
    no_editors: Annotated[bool, typer.Option("--no-editors", help="No editors: the label is read-only again")] = False,
    editors_can_delete: EditorsCanDeleteOption = None,
) -> None:
    """Change a sync in place: its history, links and contacts stay (nothing is re-created). Give at least
    one option; with none, nothing changes (and nothing is recorded).

    An edit that deletes contacts (targets dropped, another source user or group) first prints what it
    deletes at each account and asks; --yes answers for scripts. Without a terminal and without --yes, it
    is refused and nothing is saved."""
    from sync_core.service import JobEdit, RemovalNotConfirmed

    schedule = schedule_text(every, cron) if every is not None or cron is not None else None
    fields = personal_fields(new_name, source, group, target, target_group_name, add_to_my_contacts, description,
                             schedule, channel)
    if editor and no_editors:
        fail("editors: give --editor or --no-editors, not both")
    fields.update(include_ous=units(include_ou), exclude_ous=units(exclude_ou), opt_out=opt_out_choice(opt_out),
                  joinable=joinable, directory_fields=directory_fields,
                  include_shared_contacts=include_shared_contacts,
                  editors=[] if no_editors else editor, editors_can_delete=editors_can_delete,
                  **rule_fields(fields_, keep_target_fields, match_existing))
    asked: list[bool] = []  # whether the admin was asked (and said no), rather than refused for want of --yes

    def confirm(preview: EditPreview) -> bool:
        typer.echo(preview.headline())
        for line in preview.lines():
            typer.echo(f"  {line}")
        if yes:
            return True
        if not stdin_is_terminal():
            return False
        asked.append(True)
        return typer.confirm("Save this edit?", default=False)

    with clear_errors(), no_targets_hint():
        jobs = service()
        if all(value is None for value in fields.values()):
            typer.echo(f"nothing to change for sync {jobs.find(name).name!r}")
            return
        try:
            job = jobs.edit(name, JobEdit(**fields), actor="cli", confirm=confirm, allow_empty=allow_empty)
        except RemovalNotConfirmed as refused:
            if asked:
                typer.echo("not saved: nothing changed")
                raise typer.Exit(1) from None
            fail(f"edit: nothing saved: it deletes {refused.preview.amount()} (add --yes to confirm)")
    typer.echo(f"saved sync {job.name!r}")


def stdin_is_terminal() -> bool:
    """Whether someone can answer a question (a script, a pipe or a test runner cannot)."""
    return sys.stdin is not None and sys.stdin.isatty()


@contextmanager
def no_targets_hint() -> Iterator[None]:
    """Targets that match no one: the service's refusal, with the flag that overrides it."""
    from sync_core.service import NoTargets

    try:
        yield
    except NoTargets as exc:
        fail(f"{exc.field}: {exc.message} (add --allow-empty to save it anyway)")


@jobs_app.command("pause", cls=PlainCommand)
def jobs_pause(name: str) -> None:
    """Stop scheduled runs of a sync (it keeps everything; `resume` restarts it)."""
    with clear_errors():
        done = service().pause(name, actor="cli")
    typer.echo(f"paused sync {done.job.name!r}" if done.changed else f"sync {done.job.name!r} is already paused")


@jobs_app.command("resume", cls=PlainCommand)
def jobs_resume(name: str) -> None:
    """Schedule a paused sync again."""
    with clear_errors():
        done = service().resume(name, actor="cli")
    typer.echo(f"resumed sync {done.job.name!r}" if done.changed else f"sync {done.job.name!r} is already enabled")


@jobs_app.command("delete", cls=PlainCommand)
def jobs_delete(
    name: str,
    remove_contacts: Annotated[
        bool, typer.Option("--remove-contacts", help="First remove the synced contacts (and the label) at every target")
    ] = False,
    keep_contacts: Annotated[
        bool,
        typer.Option("--keep-contacts", help="Leave the synced contacts and the label to the users, as their own "
                                             "(the sync's tags are taken off them)"),
    ] = False,
) -> None:
    """Delete a job. Once it has written contacts, say what becomes of them: --remove-contacts or
    --keep-contacts."""
    if remove_contacts and keep_contacts:
        fail("contacts: give --remove-contacts or --keep-contacts, not both")
    from sync_core.service import ContactsChoice, ContactsChoiceNeeded

    choice = ContactsChoice.remove if remove_contacts else ContactsChoice.keep if keep_contacts else None
    with clear_errors():
        try:
            deletion = service().delete(name, actor="cli", contacts=choice)
        except ContactsChoiceNeeded as exc:
            accounts = f"{exc.accounts} account{'s' if exc.accounts != 1 else ''}"
            fail(f"contacts: sync {exc.name!r} has written contacts at {accounts}: delete it with --remove-contacts "
                 "(they are deleted there) or --keep-contacts (they stay, as the users' own); nothing was deleted")
    if deletion.cleanup is not None:
        for account in deletion.cleanup.accounts:
            typer.echo(f"  {account.email}: {account.summary()}")
    if not deletion.deleted:
        left = ", ".join(a.email for a in deletion.cleanup.failed) if deletion.cleanup else ""
        fail(f"{left} could not be cleaned: the sync is kept, paused and marked as deleting; "
             f"run `contactsync jobs delete {name!r}` again to retry", 1)
    typer.echo(f"deleted sync {name!r}")


# --- requests -------------------------------------------------------------------------------------------
def slack_poster(use: Callable[[Any], bool], *, done: str) -> None:
    """Tell Slack about a request (`use` is handed a `bot.requests.RequestPoster`), when this process has
    Slack's token; else say that Slack was not told."""
    from bot.settings import load_bot_settings

    settings = load_bot_settings()
    if settings.slack_bot_token is None:
        typer.echo("  (no SLACK_BOT_TOKEN here: Slack was not told)")
        return
    from slack_sdk import WebClient

    from bot.requests import RequestPoster

    client = WebClient(token=settings.slack_bot_token.get_secret_value())
    if settings.slack_api_url:
        client.base_url = settings.slack_api_url.rstrip("/") + "/"
    if use(RequestPoster(client, service(), settings.admin_channel)):
        typer.echo(done)


def tell_slack(request: Any) -> None:
    """The requester's DM and the admins' message updated."""
    slack_poster(lambda poster: poster.decided(request), done="  the requester was told in Slack")


def request_row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "state": r.state.value, "change": r.change, "sync": r.job_name, "accounts": r.reach,
            "why": r.why, "requested_by": r.requested_by, "member": r.requester_email, "decided_by": r.decided_by,
            "reason": r.reason, "created_at": r.created_at.isoformat(), "expires_at": r.expires_at.isoformat(),
            "job_id": r.job_id}


@requests_app.command("list")
def requests_list(
    show_all: Annotated[bool, typer.Option("--all", help="Decided and expired requests too")] = False,
    as_json: JsonOption = False,
) -> None:
    """The requests waiting for an admin (newest first)."""
    with clear_errors():
        rows = [request_row(r) for r in service().requests(pending_only=not show_all)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("no requests waiting" if not show_all else "no requests")
    for r in rows:
        who = r["member"] or r["requested_by"]
        reach = f", {r['accounts']} accounts" if r["accounts"] is not None else ""
        typer.echo(f"{r['id']}  {r['state']:<8} {r['change']} {r['sync']!r}{reach} by {who} ({r['why']}), "
                   f"expires {r['expires_at'][:16]}")


@requests_app.command("approve", cls=PlainCommand)
def requests_approve(request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id")]) -> None:
    """Approve a request and carry it out (a new sync runs at once). The CLI counts as the second admin for a
    request made in Slack; a change the CLI asked for needs an admin in Slack."""
    with clear_errors():
        jobs = service()
        decided, job = jobs.approve_request(request_id, actor="cli")
        typer.echo(f"approved request {decided.id}: {decided.change} {job.name!r}")
        if decided.change.startswith("create"):
            report = jobs.run(job.name)
            typer.echo(f"  first run: {report.status.value}")
        tell_slack(decided)


@requests_app.command("deny", cls=PlainCommand)
def requests_deny(
    request_id: Annotated[str, typer.Argument(metavar="ID", help="The request's id")],
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (the requester is told)")],
) -> None:
    """Deny a request; the requester is told why."""
    with clear_errors():
        decided = service().deny_request(request_id, actor="cli", reason=reason)
        typer.echo(f"denied request {decided.id} ({decided.job_name!r})")
        tell_slack(decided)


# --- run ----------------------------------------------------------------------------------------------
def print_target(t: TargetReport) -> None:
    from sync_core.domain.status import TargetStatus

    counts = f"+{t.created} ~{t.updated} -{t.deleted} ={t.unchanged}" + (f" held {t.held}" if t.held else "")
    extra = f" -> {t.new_email}" if t.new_email and t.new_email != t.email else ""
    reason = f"  ({t.reason})" if t.reason and (t.status is not TargetStatus.ok or t.held) else ""
    if t.excluded:
        reason += " [left out]"
    adoption = [f"{n} {what}" for n, what in ((t.adopted, "adopted"), (t.released, "released")) if n]
    if t.ambiguous:
        adoption.append(f"{t.ambiguous} ambiguous (matched more than one contact, or one contact matched "
                        "several: none adopted)")
    if adoption:
        reason += f"  [{'; '.join(adoption)}]"
    typer.echo(f"  {t.email:<34} {t.status.value:<18} {counts}{extra}{reason}")


# A dry run shows this many changes per target unless --verbose: 300 contacts x 7 targets is 2,100 lines.
PLAN_PREVIEW = 3


def plan_lines(t: TargetReport) -> list[str]:
    """Every change the plan holds, one line each: creates, then updates, then deletes."""
    if t.plan is None:
        return []
    return (
        [f"create  {c.source_key}  {_display(c.person)}" for c in t.plan.creates]
        + [f"update  {u.resource_name} ({u.reason})  {_display(u.person)}" for u in t.plan.updates]
        + [f"delete  {d.resource_name} ({d.reason})" for d in t.plan.deletes]
        + [f"release {r.resource_name} ({r.reason}: adopted, so let go, never deleted)" for r in t.plan.releases]
    )


def plan_preview(t: TargetReport, *, verbose: bool = False) -> list[str]:
    """The lines a dry run prints under a target: its first few changes (every one with --verbose)."""
    lines = plan_lines(t)
    shown = lines if verbose else lines[:PLAN_PREVIEW]
    more = [f"... and {len(lines) - len(shown)} more (--verbose shows every change)"] if len(lines) > len(shown) else []
    return [f"      {line}" for line in [*field_lines(t), *shown, *more]]


def field_lines(t: TargetReport) -> list[str]:
    """A dry run's changes field by field: "emailAddresses: 40 contacts will gain it"."""
    if t.plan is None:
        return []
    return [f"{field}: {n} contact{'s' * (n != 1)} will {what}" for (field, what), n in t.plan.field_changes.items()]


def plan_json(t: TargetReport) -> dict[str, Any] | None:
    if t.plan is None:
        return None
    return {
        "creates": [{"source_key": c.source_key, "name": _display(c.person)} for c in t.plan.creates],
        "updates": [{"resource_name": u.resource_name, "reason": u.reason, "name": _display(u.person)}
                    for u in t.plan.updates],
        "deletes": [{"resource_name": d.resource_name, "reason": d.reason} for d in t.plan.deletes],
    }


def _display(person: dict[str, Any]) -> str:
    names = person.get("names") or [{}]
    first = names[0]
    label = " ".join(p for p in (first.get("givenName"), first.get("familyName")) if p)
    return label or first.get("unstructuredName") or (person.get("emailAddresses") or [{}])[0].get("value", "")


def print_report(report: RunReport) -> None:
    mode = "DRY RUN (nothing written)" if report.dry_run else "run"
    why = ": ".join(p for p in (report.error_kind, report.error_reason) if p)
    typer.echo(f"{mode} of {report.job_name!r}: {report.status.value}" + (f" — {why}" if why else ""))
    if report.source_renamed_to:
        typer.echo(f"  note: the source user {report.source_email} is now {report.source_renamed_to} (followed by id)")
    typer.echo(f"  source contacts: {report.source_count}; API calls: {report.api_calls}")
    for line in report.editor_changes:
        typer.echo(f"  editor: {line}")
    for line in report.conflicts:
        typer.echo(f"  {line}")
    if held := report.held_summary():
        typer.echo(f"  held: {held} `contactsync run {report.job_name!r} --allow-deletions` applies them.")


@app.command("run", cls=PlainCommand)
def run_job(
    name: str,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing")] = False,
    allow_deletions: Annotated[
        bool,
        typer.Option(
            "--allow-deletions",
            help="Let through the deletions the mass-deletion guard would hold (a source or target set that "
            "shrank by more than the guard's share), and empty the targets of an emptied source",
        ),
    ] = False,
    allow_empty_source: Annotated[
        bool, typer.Option("--allow-empty-source", help="The old name of --allow-deletions")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="With --dry-run: every change, not the first few")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a job now and print each target's result."""
    from sync_core.service import RunStatus, RunTrigger

    plans: dict[str, dict[str, Any] | None] = {}  # --dry-run --json: each target's plan, as it comes
    previews: dict[str, list[str]] = {}  # --dry-run: the lines under each target (the report keeps only counts)
    with clear_errors():
        jobs = service()
        on_target: Callable[[RunReport, TargetReport], None] | None = None
        if dry_run and as_json:
            on_target = _plan_collector(plans)
        elif dry_run:
            on_target = _plan_previewer(previews, verbose)
        elif not as_json and sys.stderr.isatty():
            on_target = _progress_line()
        report = jobs.run(
            name,
            trigger=RunTrigger.cli,
            dry_run=dry_run,
            allow_deletions=allow_deletions or allow_empty_source,
            progress=on_target,
        )
    if as_json:
        emit_json(report_json(report, plans if dry_run else None))
    else:  # a dry run as a real run: the summary, then each target in the report's order (by address)
        print_report(report)
        for t in report.targets:
            print_target(t)
            for line in previews.get(t.user_id or t.email, []):
                typer.echo(line)
    if report.status is RunStatus.failed and not report.targets:
        raise typer.Exit(1)
    if report.status is RunStatus.no_targets:  # nothing failed, and yet nobody got the contacts
        typer.echo(f"warning: sync {report.job_name!r} reached no one: {report.error_reason}", err=True)
        raise typer.Exit(1)
    if report.failed_targets:
        if not as_json:
            typer.echo(
                f"{len(report.failed_targets)} target(s) failed: "
                + ", ".join(f"{t.email} ({t.status.value})" for t in report.failed_targets),
                err=True,
            )
        raise typer.Exit(1)


def _plan_collector(plans: dict[str, dict[str, Any] | None]) -> Callable[[RunReport, TargetReport], None]:
    def collect(_report: RunReport, target: TargetReport) -> None:
        plans[target.user_id or target.email] = plan_json(target)

    return collect


def _plan_previewer(previews: dict[str, list[str]], verbose: bool) -> Callable[[RunReport, TargetReport], None]:
    def keep(_report: RunReport, target: TargetReport) -> None:
        previews[target.user_id or target.email] = plan_preview(target, verbose=verbose)

    return keep


def _progress_line() -> Callable[[RunReport, TargetReport], None]:
    """A progress bar on stderr (terminals only): targets done of the targets resolved."""

    def tick(report: RunReport, target: TargetReport) -> None:
        done, total = len(report.targets), max(report.targets_expected, len(report.targets))
        width = 30
        filled = width * done // total if total else width
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {target.email[:40]:<40}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return tick


def report_json(report: RunReport, plans: dict[str, dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The report as JSON; with `plans` (a dry run), each target's planned changes too."""
    return {
        "job": report.job_name,
        "run_id": report.run_id,
        "dry_run": report.dry_run,
        "status": report.status.value,
        "error_kind": report.error_kind,
        "error_reason": report.error_reason,
        "source_renamed_to": report.source_renamed_to,
        "source_count": report.source_count,
        "held": report.held_summary(),
        "editor_changes": report.editor_changes,
        "conflicts": report.conflicts,
        "api_calls": report.api_calls,
        "calls_by_method": report.calls_by_method,
        "targets": [
            {
                "email": t.email,
                "user_id": t.user_id,
                "status": t.status.value,
                "reason": t.reason,
                "new_email": t.new_email,
                "created": t.created,
                "updated": t.updated,
                "deleted": t.deleted,
                "unchanged": t.unchanged,
                "held": t.held,
                **({"plan": plans.get(t.user_id or t.email)} if plans is not None else {}),
            }
            for t in report.targets
        ],
    }


# --- serve / demo ------------------------------------------------------------------------------------
@app.command("demo")
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Also print the Block Kit / results JSON")] = False,
    engine_only: Annotated[
        bool, typer.Option("--engine-only", help="Only the sync engine from the command line, no Slack")
    ] = False,
) -> None:
    """The built-in demo: the bot, a seeded emulated Workspace and a stand-in Slack, walked through."""
    if engine_only:
        from contactsync.demo import run_demo

        raise typer.Exit(run_demo(show_json=as_json))
    from contactsync.demo_slack import run_slack_demo

    raise typer.Exit(run_slack_demo(show_json=as_json))


@app.command("serve")
def serve(
    port: Annotated[
        int | None, typer.Option(metavar="PORT", help="HTTP port for /slack/events (default: $PORT, else 3000)")
    ] = None,
) -> None:
    """Start the Slack bot and the scheduler. With no Google or Slack settings at all, runs the demo.

    Each start-up failure (a partial configuration, the database, the Google key, Slack refusing the
    token or out of reach) is one line naming what to fix, and exit 2."""
    from bot import startup
    from bot.settings import load_bot_settings
    from sync_core.runtime import Runtime
    from sync_core.settings import load_settings

    with clear_errors():
        settings, bot_settings = load_settings(), load_bot_settings()
        if startup.nothing_configured(settings, bot_settings):
            demo(as_json=False, engine_only=False)
        startup.check_complete(settings, bot_settings)
        runtime = Runtime(settings)
        startup.check_runtime(runtime)
    from bot.serve import serve as serve_bot

    configure_logging(settings.log_level, settings.log_format)
    with clear_errors():
        serve_bot(runtime, port=port)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
