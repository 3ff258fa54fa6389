"""Reading a modal's `view.state.values` into plain Python values, keyed by field (block ids carry a rev)."""

from __future__ import annotations

import json
from typing import Any

from .blocks.common import MAX_OPTION_VALUE
from .blocks.modal import (
    EDITORS,
    EDITORS_CAN_DELETE,
    INCLUDE_ALIASES,
    INCLUDE_SELF,
    INCLUDE_SHARED,
    JOINABLE,
    MATCH_EXISTING,
    MY_CONTACTS,
    OPT_OUT,
    field_of,
    pickers,
    split_editors,
)
from .drafts import Draft

JSON = dict[str, Any]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _option_value(option: Any) -> str | None:
    """A chosen option's value: Slack sends only the values of options the bot offered, none longer than
    MAX_OPTION_VALUE; a longer one (a forged payload) is no choice, not a value the next page cannot show."""
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) and len(value) <= MAX_OPTION_VALUE else None


def _value(element: Any) -> Any:
    """The element's value as Slack sends it: a string (or None) for a single input, a list of strings for a
    multiple one. Anything else (a list where a string goes: only a forged payload holds one) reads as empty,
    so a listener never meets a type it does not expect."""
    if not isinstance(element, dict):
        return None
    kind = element.get("type")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return _text(element.get("value"))
    if kind in ("static_select", "external_select", "radio_buttons"):
        return _option_value(element.get("selected_option"))
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        chosen = element.get("selected_options")
        return [v for o in chosen if (v := _option_value(o)) is not None] if isinstance(chosen, list) else []
    if kind == "conversations_select":
        return _text(element.get("selected_conversation"))
    if kind == "users_select":
        return _text(element.get("selected_user"))
    return _text(element.get("value"))


def _state(view: JSON) -> dict[str, Any]:
    state = view.get("state")
    found = state.get("values") if isinstance(state, dict) else None
    return {block: elements for block, elements in found.items() if isinstance(elements, dict)} \
        if isinstance(found, dict) else {}


def values(view: JSON) -> dict[str, Any]:
    """{field: value} for every input in the view's state (the first element of each block)."""
    found: dict[str, Any] = {}
    for block, elements in _state(view).items():
        for element in elements.values():
            found[field_of(block)] = _value(element)
            break
    return found


def option_label(view: JSON, field: str) -> str | None:
    for block, elements in _state(view).items():
        if field_of(block) == field:
            for element in elements.values():
                selected = element.get("selected_option") if isinstance(element, dict) else None
                text = selected.get("text") if isinstance(selected, dict) else None
                if isinstance(text, dict):
                    return _text(text.get("text")) or None
    return None


def metadata(view: JSON) -> dict[str, Any]:
    """The view's private_metadata (which the bot wrote, as a JSON object), or {} when it is anything else."""
    raw = view.get("private_metadata")
    try:
        meta = json.loads(raw or "{}") if isinstance(raw, str) else {}
    except (json.JSONDecodeError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def draft_id(view: JSON) -> str | None:
    found = metadata(view).get("draft")
    return found if isinstance(found, str) else None


def draft_version(view: JSON) -> int | None:
    """The draft version the view was rendered from (None: not said)."""
    found = metadata(view).get("v")
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def apply_details(draft: Draft, view: JSON) -> None:
    """Copy step 1's inputs into the draft (fields absent from the view are left alone)."""
    v = values(view)
    if "name" in v:
        draft.name = (v["name"] or "").strip()
    if draft.mode == "request":  # a member's own account is the source, whatever the payload says
        v.pop("kind", None)
        v.pop("source", None)
    if "kind" in v and v["kind"] in ("personal", "directory"):
        draft.kind = v["kind"]
    if "source" in v:
        if v["source"] != draft.source_email:
            draft.groups = None
            draft.group_name = None
        draft.source_email = v["source"]
        draft.source_label = option_label(view, "source") or v["source"]
    if "group" in v:
        draft.group_name = v["group"]
    if "target_group_name" in v:
        draft.target_group_name = (v["target_group_name"] or "").strip()
    if "add_to_my_contacts" in v:
        ticked = v["add_to_my_contacts"] or []
        draft.add_to_my_contacts = MY_CONTACTS in ticked
        draft.allow_opt_out, draft.joinable = OPT_OUT in ticked, JOINABLE in ticked
        draft.match_existing = MATCH_EXISTING in ticked
        if draft.kind == "directory":
            draft.include_self, draft.include_aliases = INCLUDE_SELF in ticked, INCLUDE_ALIASES in ticked
            draft.include_shared_contacts = INCLUDE_SHARED in ticked
    if "description" in v:
        draft.description = (v["description"] or "").strip()
    if "directory_fields" in v:
        draft.directory_fields = (v["directory_fields"] or "").strip()
    if "alert_channel" in v:
        draft.alert_channel = v["alert_channel"]
    if "schedule" in v:
        draft.schedule = (v["schedule"] or "").strip()
    if "fields" in v:
        draft.copy_fields = list(v["fields"] or [])
    if "keep_target_fields" in v:
        draft.keep_fields = list(v["keep_target_fields"] or [])
    for name in ("domains", "include_ous", "exclude_ous"):
        if name in v:
            setattr(draft, name, list(v[name] or []))


def picked_targets(view: JSON) -> list[str]:
    """The selector texts chosen in step 2's pickers (option values are already selector texts)."""
    v = values(view)
    picked: list[str] = []
    for kind, picker in pickers():
        chosen = v.get(picker.field)
        if picker.typed:  # the text typed is the value: "orgDepartment='Sales'" -> "query:orgDepartment='Sales'"
            picked += [f"{kind}:{chosen.strip()}"] if isinstance(chosen, str) and chosen.strip() else []
        else:
            picked += [str(x) for x in chosen or []]
    return picked


def apply_editors(draft: Draft, view: JSON) -> None:
    """Copy step 2's editors inputs into the draft (kept across the step's own updates; absent: left alone)."""
    v = values(view)
    if EDITORS in v:
        picked = v[EDITORS] if isinstance(v[EDITORS], list) else []  # options as Slack sends them (`_value`)
        _shown, kept = split_editors(draft.editors)  # not in the select: kept as they are
        draft.editors = [*dict.fromkeys([*picked, *kept])]
    if EDITORS_CAN_DELETE in v:
        ticked = v[EDITORS_CAN_DELETE]
        draft.editors_can_delete = isinstance(ticked, list) and EDITORS_CAN_DELETE in ticked
