"""`JobService`: the one door to jobs for the CLI, the Slack bot, "run now" and the alert buttons.

Callers hand it plain input (specs, names, texts) and get plain data back (jobs, views, reports); they
never open a store session or build a Google client. Every refusal of bad input is a `JobInputError`
naming the field (an unknown job is its subclass `JobNotFound`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sync_core import store
from sync_core.alerting.alert_kinds import Fix
from sync_core.domain.approval import ChangeFacts, second_admin_reasons
from sync_core.domain.models import Alert, AlertState, AuditEvent, RunTrigger, SyncJob
from sync_core.domain.reports import Cleanup, RunReport, TargetReport
from sync_core.observability.metrics import Census
from sync_core.run.targets import Selector
from sync_core.runtime import Runtime
from sync_core.scheduling.run_pool import RunCallback, RunRequest
from sync_core.service import changes, checks, conflict_posts, create, details, fixes, health, members, views
from sync_core.service import editors as editor_book
from sync_core.service import requests as reqs
from sync_core.service.alert_book import AlertBook
from sync_core.service.directory_cache import DirectoryCache
from sync_core.service.drafts import DraftBook
from sync_core.service.edit_preview import Consent, EditPreview
from sync_core.service.editors import ConflictView, EditorsView
from sync_core.service.errors import ContactsChoiceNeeded, JobInputError, JobNotFound, RemovalNotConfirmed
from sync_core.service.members import Member, MemberDirectory, MySync, OptOutRow
from sync_core.service.requests import RequestView
from sync_core.service.runs import Runs
from sync_core.service.specs import ContactsChoice, DirectoryJobSpec, JobEdit, PersonalJobSpec

Progress = Callable[[RunReport, TargetReport], None]


@dataclass(frozen=True)
class Deletion:
    """What `delete` did. A job whose contacts could not all be removed (or released) is kept (`deleted`
    False), paused and marked as deleting, so that deleting it again finishes the job: once the job is gone,
    nothing could clean up what it left."""

    job: SyncJob
    deleted: bool
    cleanup: Cleanup | None = None  # per account, what became of the contacts (None: it had written none)


class JobService:
    def __init__(self, runtime: Runtime, *, runs: Runs | None = None, cache: DirectoryCache | None = None) -> None:
        self.runtime = runtime
        self.runs = runs  # the scheduler (or the bot's pool runner); None: no "run now", nothing scheduled
        self.cache = cache  # the directory snapshot behind the modal's pickers and counts (the bot's)

    @cached_property
    def alerts(self) -> AlertBook:
        return AlertBook(self.runtime.db)

    @cached_property
    def drafts(self) -> DraftBook:
        """Half-filled forms (the bot's modals), shared by every process on the database."""
        return DraftBook(self.runtime.db)

    # --- create, change, delete ---------------------------------------------------------------------
    def create_personal(self, spec: PersonalJobSpec, *, approved: bool = False) -> SyncJob:
        """Check and save a Personal Sync. One the two-person rule holds (unless `approved`) is not saved: it
        waits as a request (`ApprovalNeeded`)."""
        rt = self.runtime
        new = create.check_personal_job(rt.db, spec=spec, directory=rt.directory(), people_for=rt.people)
        if not approved:
            facts = ChangeFacts(reach=new.reach, editors_may_delete=bool(spec.editors and spec.editors_can_delete))
            self._second_admin(facts, change=reqs.CREATE_PERSONAL, job_name=new.job_in.name,
                               spec=spec, reach=new.reach, actor=spec.created_by)
        return new.save(rt.db, created_by=spec.created_by)

    def create_directory(self, spec: DirectoryJobSpec, *, approved: bool = False) -> SyncJob:
        rt = self.runtime
        new = create.check_directory_job(rt.db, spec=spec, directory=rt.directory(),
                                         max_contacts=rt.settings.max_contacts_per_account)
        if not approved:
            self._second_admin(ChangeFacts(reach=new.reach), change=reqs.CREATE_DIRECTORY, job_name=new.job_in.name,
                               spec=spec, reach=new.reach, actor=spec.created_by)
        return new.save(rt.db, created_by=spec.created_by)

    def edit(
        self,
        name: str,
        edit: JobEdit,
        *,
        actor: str,
        confirm: changes.Confirm | None = None,
        allow_empty: bool = False,
        approved: bool = False,
    ) -> SyncJob:
        """Check and save an edit. One that deletes contacts (targets dropped, another source) is saved only
        if `confirm` says yes to its preview (it is handed the `EditPreview`); else `RemovalNotConfirmed`
        and nothing changes. New targets that reach no one are refused unless `allow_empty`. One the
        two-person rule holds (unless `approved`) waits as a request (`ApprovalNeeded`), confirmed as asked."""
        rt = self.runtime
        if not approved and rt.settings.approval_above is not None:
            planned = changes.plan_edit(rt.db, name=name, edit=edit,
                                        directory=changes.directory_on_demand(rt.directory),
                                        people_for=rt.people, allow_empty=allow_empty)
            if planned.preview.removes_anything and (confirm is None or not confirm(planned.preview)):
                raise RemovalNotConfirmed(planned.preview)
            reach = None
            if planned.rows is not None:
                reach = len(checks.resolve_rows(rt.directory(), planned.rows,
                                                source_user_id=planned.job.source_user_id).reachable)
            # What the requester confirmed is kept with the request: the approval deletes no more than that.
            consent = planned.preview.consent().to_json() if planned.preview.removes_anything else None
            self._second_admin(edit_facts(edit, reach, planned.job), change=reqs.EDIT, job_name=planned.job.name,
                               spec=edit, reach=reach, actor=actor, job_id=planned.job.id,
                               extra={"allow_empty": allow_empty, reqs.CONSENT: consent})
        return changes.edit_job(rt.db, name=name, edit=edit, actor=actor,
                                directory=changes.directory_on_demand(rt.directory),
                                people_for=rt.people, confirm=confirm, allow_empty=allow_empty)

    def preview_edit(self, name: str, edit: JobEdit, *, allow_empty: bool = False) -> EditPreview:
        """What saving this edit would delete, checked as `edit` checks it; nothing is saved."""
        rt = self.runtime
        return changes.plan_edit(rt.db, name=name, edit=edit, directory=changes.directory_on_demand(rt.directory),
                                 people_for=rt.people, allow_empty=allow_empty).preview

    def pause(self, name: str, *, actor: str) -> changes.EnabledChange:
        """Pause a job; `changed` False when it already was paused (nothing recorded)."""
        return changes.set_enabled(self.runtime.db, name=name, enabled=False, actor=actor)

    def resume(self, name: str, *, actor: str) -> changes.EnabledChange:
        """Resume a job; `changed` False when it already was enabled (nothing recorded)."""
        return changes.set_enabled(self.runtime.db, name=name, enabled=True, actor=actor)

    def delete(
        self,
        name: str,
        *,
        actor: str,
        contacts: ContactsChoice | None,
        closing: Callable[[int], None] | None = None,
        approved: bool = False,
    ) -> Deletion:
        """Delete a job, first removing (`remove`) or releasing (`keep`) what it wrote at every account. The one
        delete of the CLI, Slack and the alert buttons.

        A job that has written to some account needs the choice (`ContactsChoiceNeeded` without it): its
        contacts left as they were would keep its tags, with no job to manage them. Keeping releases them: our
        tag goes from each contact and from the label, which stay as the users' own.

        The job is first marked as deleting (paused; no run runs it), with the choice. If some accounts could
        not be done, it stays so, and deleting it again (the choice may be left out then, but not changed)
        retries them; the row goes only once every account is done. `closing` is told the job's id just
        before it goes (the bot closes its alert messages)."""
        db = self.runtime.db
        job = self.find(name)
        job_id = job.id
        assert job_id is not None
        if job.deleting:
            chosen = ContactsChoice.keep if job.keep_contacts else ContactsChoice.remove
            if contacts is not None and contacts is not chosen:
                raise JobInputError("contacts", (
                    f"the delete of sync {job.name!r} under way {'keeps' if job.keep_contacts else 'removes'} "
                    f"its contacts and cannot change that now; delete it again to finish it"))
            contacts = chosen
        elif contacts is None:
            accounts = changes.written_accounts(db, job_id=job_id)
            if accounts:
                raise ContactsChoiceNeeded(job.name, accounts)
        elif contacts is ContactsChoice.remove and not approved and changes.written_accounts(db, job_id=job_id):
            self._second_admin(ChangeFacts(remove_contacts=True), change=reqs.DELETE, job_name=job.name,
                               spec={"contacts": contacts.value}, reach=None, actor=actor, job_id=job_id)
        cleanup = None
        if contacts is not None:
            keep = contacts is ContactsChoice.keep
            job = changes.mark_deleting(db, job_id=job_id, actor=actor, keep_contacts=keep)
            cleanup = self.runtime.engine.remove_all(job_id, keep_contacts=keep)
            if cleanup.failed:
                changes.record_unfinished_delete(db, job=job, actor=actor, failed=[a.email for a in cleanup.failed])
                return Deletion(job, deleted=False, cleanup=cleanup)
        if closing is not None:
            closing(job_id)
        changes.delete_job(db, name=job.name, actor=actor,
                           keep_contacts=None if contacts is None else contacts is ContactsChoice.keep)
        return Deletion(job, deleted=True, cleanup=cleanup)

    # --- validation -----------------------------------------------------------------------------------
    def check_details(self, answers: details.Details) -> details.DetailsCheck:
        """The create/edit form's first step, checked before the targets are chosen."""
        assert self.cache is not None, "the form's checks need the directory snapshot"
        rt = self.runtime
        return details.check_details(answers, db=rt.db, cache=self.cache, directory=rt.directory,
                                     people_for=rt.people)

    def contact_groups(self, email: str) -> list[str]:
        """A source user's own contact groups, by name (the form's group picker)."""
        return details.contact_groups(self.runtime.people(email))

    # --- runs -----------------------------------------------------------------------------------------
    def run(
        self,
        name: str,
        *,
        trigger: RunTrigger = RunTrigger.cli,
        dry_run: bool = False,
        allow_deletions: bool = False,
        allow_empty_source: bool = False,
        progress: Progress | None = None,
    ) -> RunReport:
        """Run a job here and now, in this thread (the CLI, the demo); the report when it is done.
        `allow_deletions`: what the mass-deletion guard would hold goes through, and an emptied source
        empties the targets (`allow_empty_source` is its old name)."""
        return self.runtime.engine.run(name, trigger=trigger, dry_run=dry_run,
                                       allow_deletions=allow_deletions or allow_empty_source, progress=progress)

    def run_now(self, job_id: int, *, trigger: RunTrigger, on_done: RunCallback | None = None) -> RunRequest:
        """Queue a run (never two of one job at once); `on_done` gets its result. A job being deleted is
        refused here, in words (the engine would refuse it too, as busy)."""
        assert self.runs is not None, "run_now needs the scheduler or a pool runner"
        with store.session_scope(self.runtime.db) as session:
            job = store.get_job(session, job_id=job_id)
        if job is not None:
            changes.refuse_if_deleting(job)
        return self.runs.run_now(job_id, trigger=trigger, on_done=on_done)

    def follow_schedule(self, job_id: int) -> None:
        """After a change: the job's schedule follows at once (added, moved or dropped)."""
        if self.runs is not None:
            self.runs.follow_schedule(job_id)

    def next_run_at(self, job_id: int) -> datetime | None:
        """The scheduler's next time for the job; with none in this process (the CLI), the time `serve`'s
        scheduler plans for it from the store."""
        if self.runs is not None:
            return self.runs.next_run_at(job_id)
        return views.planned_next_run(self.runtime.db, job_id)

    # --- read views -----------------------------------------------------------------------------------
    def find(self, name: str) -> SyncJob:
        return changes.find_job(self.runtime.db, name)

    def find_or_none(self, name: str) -> SyncJob | None:
        try:
            return self.find(name)
        except JobNotFound:
            return None

    def list_jobs(self) -> list[views.JobRow]:
        return views.job_rows(self.runtime.db, self.next_run_at)

    def detail(self, name: str) -> views.JobDetail:
        return views.job_detail(self.runtime.db, name, self.next_run_at)

    def target_texts(self, job_id: int) -> list[str]:
        return views.selector_texts(self.runtime.db, job_id)

    def has_open_alerts(self, job: SyncJob) -> bool:
        return job.id is not None and views.has_open_alerts(self.runtime.db, job.id)

    def target_rows(self, texts: Sequence[str], *, source_email: str | None = None) -> list[views.TargetRow]:
        assert self.cache is not None
        return views.target_rows(self.cache, texts, source_email=source_email)

    def count_targets(self, texts: Sequence[str], *, source_email: str | None = None) -> int:
        assert self.cache is not None
        return views.count_targets(self.cache, texts, source_email=source_email)

    # --- alert buttons --------------------------------------------------------------------------------
    def alert_of(self, job_id: int, alert_id: int) -> tuple[SyncJob, Alert] | None:
        """The job and alert a button names; None when either is gone (or they do not belong together)."""
        with store.session_scope(self.runtime.db) as session:
            job = store.get_job(session, job_id=job_id)
            alert = store.get_alert(session, alert_id=alert_id)
        if job is None or alert is None or alert.job_id != job_id:
            return None
        return job, alert

    def apply_fix(self, fix: Fix, *, job: SyncJob, alert: Alert, actor: str) -> tuple[str, AlertState]:
        """Apply a fix button: (what was done, in words; the alert's new state). Raises `FixRefused`."""
        rt = self.runtime
        return fixes.apply_fix(rt.db, fix, job=job, alert=alert, actor=actor, directory=rt.directory,
                               people_for=rt.people)

    # --- members: every employee's own syncs (sync_core.service.members) -------------------------------------
    @cached_property
    def member_directory(self) -> MemberDirectory:
        """Address -> Google user, cached for CONTACTSYNC_MEMBER_CACHE_SECONDS."""
        rt = self.runtime
        return MemberDirectory(rt.directory, ttl_seconds=rt.settings.member_cache_seconds)

    def member(self, email: str, *, actor: str) -> Member:
        """The Google user a verified address names (`NotAMember` if none), acting as `actor`."""
        return self.member_directory.member(email, actor=actor)

    def _selected_ids(self) -> members.SelectedIds:
        """Who a job's selectors name: from the bot's directory snapshot when there is one, else Google."""
        cache = self.cache
        if cache is None:
            return members.resolver_ids(self.runtime.directory)
        return lambda _job, rows: cache.resolve_ids([Selector(r.kind.value, r.value, r.resolved_user_id)
                                                     for r in rows])

    def my_syncs(self, member: Member) -> list[MySync]:
        return members.my_syncs(self.runtime.db, member, self._selected_ids())

    def leave(self, job_id: int, member: Member) -> SyncJob:
        """The member leaves the job (if it allows it); the next run removes what it wrote in their account."""
        return members.leave(self.runtime.db, member, job_id, self._selected_ids())

    def rejoin(self, job_id: int, member: Member) -> SyncJob:
        return members.rejoin(self.runtime.db, member, job_id)

    def join(self, job_id: int, member: Member) -> SyncJob:
        return members.join(self.runtime.db, member, job_id, self._selected_ids())

    def opt_outs(self, name: str) -> list[OptOutRow]:
        job = self.find(name)
        assert job.id is not None
        return members.opt_out_rows(self.runtime.db, job.id)

    def clear_opt_out(self, name: str, email: str, *, actor: str) -> SyncJob:
        """Let someone who left back in: the next run syncs them again (if the targets still name them)."""
        job = self.find(name)
        assert job.id is not None
        members.clear_opt_out(self.runtime.db, job.id, email, actor=actor)
        return job

    # --- editors (issue 21) ---------------------------------------------------------------------------
    def editors(self, name: str) -> EditorsView:
        """Who may edit the job's label: the selectors, and whom they name now (the source user first). The
        directory is asked only when the job has editors, so `jobs show` of any other job needs no Google."""
        return editor_book.editors_view(self.runtime.db, self.runtime.directory, name)

    def conflicts(self, name: str, *, open_only: bool = True) -> list[ConflictView]:
        """The job's conflicts, newest first: open ones (what Slack posts a button for), or every one."""
        return editor_book.conflicts(self.runtime.db, name, open_only=open_only)

    def use_losing_value(self, name: str, conflict_id: int, *, actor: str, loser: int = 0) -> ConflictView:
        """"Use this value instead": the conflict's losing value (`loser`-th) written at the source, the conflict
        resolved and audited; the next run carries it to every copy."""
        return editor_book.use_losing_value(self.runtime.db, self.runtime.people, name, conflict_id, actor=actor,
                                        loser=loser)

    def conflicts_to_post(self, job: SyncJob) -> list[ConflictView]:
        """The job's open conflicts no one has posted yet, claimed for this process to post (Slack: one message
        each, once across replicas); give each to `conflict_posted` or `conflict_not_posted`."""
        return conflict_posts.claim_for_posting(self.runtime.db, self.runtime.directory(), job)

    def conflict_posted(self, conflict_id: int, *, channel: str, message_ts: str) -> None:
        conflict_posts.posted(self.runtime.db, conflict_id, channel=channel, message_ts=message_ts)

    def conflict_not_posted(self, conflict_id: int) -> None:
        conflict_posts.release(self.runtime.db, conflict_id)

    def conflict_notice(self, job_id: int, conflict_id: int) -> conflict_posts.ConflictNotice | None:
        """One conflict of that job, with the job and its message (None: no such job, or not its conflict)."""
        return conflict_posts.notice(self.runtime.db, self.runtime.directory(), job_id, conflict_id)

    def history(self, name: str) -> list[AuditEvent]:
        """The job's history, newest first (edits, editors' changes, conflicts, members' actions)."""
        return list(editor_book.history(self.runtime.db, name))

    # --- requests and the two-person rule (sync_core.service.requests) ----------------------------------
    def _second_admin(self, facts: ChangeFacts, *, change: str, job_name: str, spec: reqs.Spec | dict[str, object],
                      reach: int | None, actor: str, job_id: int | None = None,
                      extra: dict[str, object] | None = None) -> None:
        """Nothing when the change may be made now; else it is filed as a request and `ApprovalNeeded`."""
        settings = self.runtime.settings
        reasons = second_admin_reasons(facts, settings.approval_above)
        if not reasons:
            return
        data = {**reqs.spec_to_json(spec), **(extra or {})}
        request = reqs.file_request(self.runtime.db, change=change, job_name=job_name, spec=data, reach=reach,
                                    why="; ".join(reasons), actor=actor, member=None,
                                    expiry_days=settings.request_expiry_days, job_id=job_id)
        raise reqs.ApprovalNeeded(request, reasons)

    def request_personal(self, spec: PersonalJobSpec, member: Member) -> RequestView:
        """A member asks for a Personal Sync of their own: checked as a create is, then filed for an admin.
        The source is the member's own account, whatever `spec` says (and they are who asked); who else may
        edit the label is an admin's choice, never a member's (an admin may add editors once it exists)."""
        spec = dataclasses.replace(spec, source_email=member.email, created_by=member.actor, editors=(),
                                   editors_can_delete=False)
        rt = self.runtime
        new = create.check_personal_job(rt.db, spec=spec, directory=rt.directory(), people_for=rt.people)
        return reqs.file_request(rt.db, change=reqs.CREATE_PERSONAL, job_name=new.job_in.name, spec=spec,
                                 reach=new.reach, why=reqs.MEMBER_REQUEST, actor=member.actor, member=member,
                                 expiry_days=rt.settings.request_expiry_days)

    def requests(self, *, pending_only: bool = True) -> list[RequestView]:
        return reqs.list_requests(self.runtime.db, pending_only=pending_only)

    def request(self, request_id: str) -> RequestView | None:
        return reqs.get_request(self.runtime.db, request_id)

    def approve_request(self, request_id: str, *, actor: str) -> tuple[RequestView, SyncJob]:
        """Approve and carry out a request (see `sync_core.service.requests` for who may)."""
        return reqs.approve(self.runtime.db, request_id, actor=actor, carry_out=self._carry_out)

    def deny_request(self, request_id: str, *, actor: str, reason: str) -> RequestView:
        return reqs.deny(self.runtime.db, request_id, actor=actor, reason=reason)

    def expired_requests_to_tell(self) -> list[RequestView]:
        """Requests that expired undecided and were not told yet, claimed for this caller to tell."""
        return reqs.expired_to_tell(self.runtime.db)

    def set_request_message(self, request_id: str, *, channel: str, ts: str) -> None:
        reqs.set_message(self.runtime.db, request_id, channel=channel, ts=ts)

    def _carry_out(self, request: RequestView) -> SyncJob:
        """An approved request's change, through the same checks as making it directly."""
        if request.change == reqs.DELETE:
            return self.delete(request.job_name, actor=request.requested_by, contacts=ContactsChoice.remove,
                               approved=True).job
        spec = reqs.spec_from_json(request.change, request.spec)
        if isinstance(spec, PersonalJobSpec):
            return self.create_personal(spec, approved=True)
        if isinstance(spec, DirectoryJobSpec):
            return self.create_directory(spec, approved=True)
        # The edit deletes no more than the requester confirmed when they asked (the approver saw the request):
        # accounts that left the targets since, or another source, are not approved unseen.
        consent = Consent.from_json(request.spec.get(reqs.CONSENT))
        try:
            return self.edit(request.job_name, spec, actor=request.requested_by,
                             confirm=lambda preview: preview.within(consent),
                             allow_empty=bool(request.spec.get("allow_empty")), approved=True)
        except RemovalNotConfirmed as grown:
            raise reqs.RequestRefused(reqs.grown_text(request, grown.preview.beyond(consent))) from None

    # --- operations -----------------------------------------------------------------------------------
    def census(self) -> Census:
        """What the store's gauges show now (jobs by state, open alerts, source changes)."""
        return views.census(self.runtime.db)

    def metrics_text(self) -> tuple[bytes, str]:
        """The process's metrics in Prometheus text format (and its content type), the store's gauges read
        now through `census`."""
        metrics = self.runtime.metrics
        if metrics.census is None:
            metrics.census = self.census
        return metrics.render()

    def database_problem(self) -> str | None:
        """None when the database answers a trivial query; else why not, in one line."""
        return health.database_problem(self.runtime.db)


def edit_facts(edit: JobEdit, reach: int | None, job: SyncJob) -> ChangeFacts:
    """What the two-person rule looks at in an edit: its reach, and whether it turns on editors' delete rights
    (from off to on; an edit that leaves them on changes nothing there)."""
    return ChangeFacts(reach=reach, editors_may_delete=edit.editors_can_delete is True and not job.editors_can_delete)
