"""PURE: a job's field rules applied to what is compared and written: the source contacts as the job copies
them, and a target contact's read body as the planner compares it.

Under the default rules both are what they always were (the same bodies and hashes, so no link is disturbed);
under any other rules every hash also names the rules, so a rule change makes every contact differ once and the
next run writes what the new rules ask (it converges).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync_core.domain.contacts import canonical_body, content_hash
from sync_core.domain.field_rules import FieldRules, filled_kept, managed_body
from sync_core.domain.fields import BODY_FIELDS
from sync_core.sync.plan import SourceItem, share_bodies


def project_item(item: SourceItem, rules: FieldRules) -> SourceItem:
    """A source contact as the job copies it: only the copied fields, hashed with the rules."""
    if rules.is_default:
        return item
    body = {k: v for k, v in item.body.items() if k in rules.body_fields}
    core = content_hash(managed_body(body, rules))
    digest = content_hash({"rules": rules.token(), "body": body})
    photo = item.photo if rules.photo != "off" else None
    return SourceItem(item.key, body, digest, photo, core, filled_kept(body, rules))


def project_source(items: Mapping[str, SourceItem], rules: FieldRules) -> dict[str, SourceItem]:
    """Once per run: the bodies come out as `SharedBody`s, serialised once for all the run's targets."""
    if rules.is_default:
        return share_bodies(items)
    return share_bodies({k: project_item(v, rules) for k, v in items.items()})


def target_hash(person: Mapping[str, Any], rules: FieldRules) -> tuple[str, frozenset[str] | None]:
    """What the planner compares of a target's read body (the hash of the fields the source decides) and the
    kept fields it holds a value for (None under rules that keep none)."""
    body = canonical_body(person, rules.extra)
    if rules.is_default:
        return content_hash(body), None
    return content_hash(managed_body(body, rules)), filled_kept(body, rules)


# What a dry run says of each field an update changes at a target contact.
GAIN, CHANGE, LOSE = "gain it", "have it changed", "lose it"


def field_changes(written: Mapping[str, Any], target: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The body fields an update writes (`written`: its person) that differ from the target contact as read,
    each with what happens to it there: (field, GAIN | CHANGE | LOSE)."""
    changes = []
    for field in BODY_FIELDS:
        if field.name not in written:
            continue
        new, old = field.canonical(written), field.canonical(target)
        if new != old:
            changes.append((field.name, GAIN if not old else LOSE if not new else CHANGE))
    return changes
