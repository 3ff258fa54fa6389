"""The application service: the one door to jobs for the CLI, the Slack bot, "run now" and the alert buttons.

`contactsync/` and `bot/` import from here (the job shapes of `sync_core.domain.models` too, re-exported; and
plain data types: reports, statuses, schedules), never `sync_core.store`, `sync_core.google` or
`sync_core.domain.models` (`tests/unit/test_layers.py` checks it). The modules:

  job_service  `JobService`: create, edit, delete, pause, resume, run, run now, checks, read views
  specs        the input shapes (`PersonalJobSpec`, `DirectoryJobSpec`, `JobEdit`)
  create       creating a job (personal or directory)
  changes      find, pause/resume, edit in place (what it deletes confirmed first), delete
  edit_preview what an edit deletes, in words, before it is saved (`EditPreview`, `Consent`)
  checks       the field checks against Google that `create` and `changes` share
  label_owner  one label, one owner: the check that `create` and `changes` share
  details      the create/edit form's first step, checked before targets are chosen
  views        read views as frozen data (`JobRow`, `JobDetail`, `TargetRow`, `SourceChange`)
  fixes        the alert buttons' one-click fixes
  alert_book   the alert rows behind the bot's alert messages
  drafts       `DraftBook`: drafts (half-filled forms) kept as `StoredDraft`s (opaque payloads), versioned,
               shared by every replica
  members      every employee's own syncs: Slack address -> Google user, `mine`, Leave, Re-join, Join
  requests     changes waiting for an admin (members' requests, the two-person rule) and who may decide them
  runs         "run now" without a scheduler (`PoolRunner`), and what "run now" needs (`Runs`)
  errors       every error a caller handles
  rules        the validation rules for what an admin types (names, labels, schedules, channels)
  schema       the schema upgrade (`contactsync db upgrade`)
Target kinds (`TARGET_KINDS`: picker, options, help) come from `sync_core.kinds`, one module per kind; alert
kinds (`ALERT_KINDS`: words, buttons, fixes) from `sync_core.alerting.alert_kinds`, one definition per kind.
"""

from __future__ import annotations

from sync_core.alerting.alert_kinds import ALERT_KINDS, BUTTONS, AlertKindDef, Button, Fix, Form, alert_kind
from sync_core.domain.models import (
    ACTIVE_ALERT_STATES,
    JOB_NAME_MAX,
    Alert,
    AlertKind,
    AlertState,
    AuditEvent,
    EditorSelector,
    OptOut,
    RequestState,
    Run,
    RunStatus,
    RunTrigger,
    SyncJob,
    TargetSelector,
)
from sync_core.kinds import KINDS as TARGET_KINDS
from sync_core.kinds import Picker as TargetPicker
from sync_core.kinds import TargetKind
from sync_core.kinds import usage as target_usage
from sync_core.scheduling.run_pool import RunOutcome, RunRequest, RunResult
from sync_core.service import rules
from sync_core.service.alert_book import AlertBook, Message
from sync_core.service.conflict_posts import ConflictNotice
from sync_core.service.details import Details, DetailsCheck
from sync_core.service.drafts import DRAFT_TTL, DraftBook, StoredDraft
from sync_core.service.edit_preview import AccountLoss, Consent, EditPreview
from sync_core.service.editors import ConflictView, EditorsView
from sync_core.service.errors import (
    ContactsChoiceNeeded,
    CredentialsFileError,
    GoogleError,
    JobBusy,
    JobInputError,
    JobNotFound,
    NoTargets,
    RemovalNotConfirmed,
    SettingsError,
    StoreError,
)
from sync_core.service.fixes import FIX_OPERATIONS, FixRefused
from sync_core.service.job_service import Deletion, JobService
from sync_core.service.members import Action as MemberAction
from sync_core.service.members import Member, MemberRefused, MySync, NotAMember, OptOutRow
from sync_core.service.requests import ApprovalNeeded, RequestRefused, RequestView
from sync_core.service.runs import PoolRunner, Runs
from sync_core.service.schema import upgrade_database
from sync_core.service.specs import ContactsChoice, DirectoryJobSpec, JobEdit, PersonalJobSpec
from sync_core.service.views import JobDetail, JobRow, SourceChange, TargetRow, history_words

__all__ = [
    # the job shapes the surfaces read (sync_core.domain.models, re-exported: they import nothing else of it)
    "ACTIVE_ALERT_STATES",
    "JOB_NAME_MAX",
    "Alert",
    "AlertKind",
    "AlertState",
    "AuditEvent",
    "Run",
    "RunStatus",
    "RunTrigger",
    "OptOut",
    "RequestState",
    "SyncJob",
    "TargetSelector",
    "EditorSelector",
    "ConflictView",
    "ConflictNotice",
    "EditorsView",
    "ApprovalNeeded",
    "RequestRefused",
    "RequestView",
    "AccountLoss",
    "Consent",
    "EditPreview",
    "NoTargets",
    "RemovalNotConfirmed",
    "ALERT_KINDS",
    "BUTTONS",
    "DRAFT_TTL",
    "DraftBook",
    "StoredDraft",
    "FIX_OPERATIONS",
    "AlertKindDef",
    "Button",
    "Fix",
    "Form",
    "alert_kind",
    "AlertBook",
    "ContactsChoice",
    "ContactsChoiceNeeded",
    "CredentialsFileError",
    "Deletion",
    "Details",
    "DetailsCheck",
    "DirectoryJobSpec",
    "FixRefused",
    "GoogleError",
    "JobBusy",
    "JobDetail",
    "JobEdit",
    "JobInputError",
    "JobNotFound",
    "JobRow",
    "SourceChange",
    "JobService",
    "Member",
    "MemberAction",
    "MemberRefused",
    "MySync",
    "NotAMember",
    "OptOutRow",
    "Message",
    "PersonalJobSpec",
    "PoolRunner",
    "RunOutcome",
    "RunRequest",
    "RunResult",
    "Runs",
    "SettingsError",
    "StoreError",
    "TARGET_KINDS",
    "TargetKind",
    "TargetPicker",
    "TargetRow",
    "target_usage",
    "history_words",
    "rules",
    "upgrade_database",
]
