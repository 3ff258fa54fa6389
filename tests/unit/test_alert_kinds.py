"""Alert kinds: every kind is defined once (`sync_core.alerting.alert_kinds`) and completely, and every surface table
keyed by kind or fix (the bot's emoji, the one-click operations, the forms) covers them all."""

from __future__ import annotations

from collections import Counter
from string import Formatter

import pytest

from bot.blocks.alerts import EMOJI, alert_message
from bot.listeners.alerts import FIX_ACTIONS, FORMS
from sync_core.alerting.alert_kinds import ALERT_KINDS, BUTTONS, WORD_FIELDS, Fix, Form, alert_kind
from sync_core.domain.models import Alert, AlertKind, AlertState, TargetStatus
from sync_core.domain.reports import FAILED_STATUSES
from sync_core.service.fixes import FIX_OPERATIONS

KINDS = sorted(AlertKind)
EVERY_BUTTON = [(kind, button) for kind in KINDS for button in alert_kind(kind).buttons]


def fields(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in Formatter().parse(template) if name is not None}


def test_every_alert_kind_is_registered_under_its_own_name() -> None:
    assert set(ALERT_KINDS) == set(AlertKind)
    assert all(d.kind is kind for kind, d in ALERT_KINDS.items())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_words_an_emoji_and_a_fix_unless_it_is_transient(kind: AlertKind) -> None:
    d = alert_kind(kind)
    assert d.words.strip() and fields(d.words) <= set(WORD_FIELDS), d.words
    assert EMOJI[kind].startswith(":") and EMOJI[kind].endswith(":")
    # A lasting failure offers a way out; a transient one is retried by every run and offers none.
    assert bool(d.buttons) is not d.transient
    assert len(set(d.fixes)) == len(d.fixes)


@pytest.mark.parametrize(("kind", "button"), EVERY_BUTTON, ids=[f"{k}-{b.fix}" for k, b in EVERY_BUTTON])
def test_every_button_has_a_label_and_exactly_one_way_to_its_fix(kind: AlertKind, button: object) -> None:
    b = BUTTONS[button.fix]  # type: ignore[attr-defined]
    assert b is button, "a fix has one button, whichever kind offers it"
    assert b.label.strip() and fields(b.label) <= {"new"}
    assert isinstance(b.danger, bool) and isinstance(b.primary, bool) and not (b.danger and b.primary)
    # Applied at one click by the service, or finished in a form the bot opens: never both, never neither.
    assert (b.fix in FIX_OPERATIONS) != (b.form is not None), b.fix
    if b.form is not None:
        assert b.form in FORMS
    if b.danger:  # undoing work at the targets always asks first, in a confirmation or in its form
        assert b.confirm is not None or b.form is not None
    if b.confirm is not None:
        assert b.confirm.title and b.confirm.yes and b.confirm.no and fields(b.confirm.text) <= {"subject"}


def test_every_fix_and_form_is_used_and_every_operation_is_a_fix_someone_offers() -> None:
    offered = {b.fix for _kind, b in EVERY_BUTTON}
    assert offered == set(Fix) == set(BUTTONS)
    assert set(FIX_OPERATIONS) <= offered
    assert {b.form for _kind, b in EVERY_BUTTON if b.form is not None} == set(Form) == set(FORMS)


def test_every_failing_target_status_is_alerted_as_exactly_one_kind() -> None:
    owners = Counter(status for d in ALERT_KINDS.values() for status in d.target_statuses)
    assert all(n == 1 for n in owners.values()), owners
    assert set(FAILED_STATUSES) | {TargetStatus.renamed} <= set(owners)
    assert not ({TargetStatus.ok, TargetStatus.removed} & set(owners))
    run_owners = Counter(error for d in ALERT_KINDS.values() for error in d.run_errors)
    assert all(n == 1 for n in run_owners.values()), run_owners


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_its_words_and_buttons_the_listener_answers(kind: AlertKind) -> None:
    alert = Alert(id=5, job_id=3, key="user:u1", kind=kind, state=AlertState.open, subject="bob@example.com",
                  new_email="robert@example.com", reason="Google said no", streak=3)
    blocks = [b.to_dict() for b in alert_message("Partners", [alert])]
    text = blocks[1]["text"]["text"]
    assert text.startswith(EMOJI[kind] + " ") and "{" not in text
    d = alert_kind(kind)
    elements = blocks[2]["elements"] if d.buttons else []
    assert [e["action_id"] for e in elements] == [f"alert_{f.value}" for f in d.fixes]
    assert all(FIX_ACTIONS.match(e["action_id"]) and e["value"] == "3:5" for e in elements)
    for element, button in zip(elements, d.buttons, strict=True):
        assert element["text"]["text"] == button.label.format(new="robert@example.com")
        assert element.get("style") == ("danger" if button.danger else "primary" if button.primary else None)
        assert ("confirm" in element) is (button.confirm is not None)
