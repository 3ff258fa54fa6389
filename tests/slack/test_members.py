"""Syncs for every employee, through signed Slack requests: `/contactsync mine`, App Home for non-admins, and
the Leave, Re-join and Join buttons, each checked on the server (who presses, for whom, on what)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sync_core import store
from sync_core.domain.models import OptOut
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job
from tests.integration.helpers import group_named
from tests.integration.test_members import ours_of

from .conftest import Bot

BOB, CAROL, DAVE = "UBOB0001", "UCAROL002", "UDAVE0003"
NO_MAIL, GHOST, UNVERIFIED = "UNOMAIL04", "UGHOST005", "UUNVER006"


def people(bot: Bot) -> None:
    bot.double.user_emails.update({BOB: "bob@example.com", CAROL: "carol@example.com", DAVE: "dave@example.com",
                                   NO_MAIL: None, GHOST: "ghost@example.com", UNVERIFIED: "zoe@example.com"})
    bot.double.unconfirmed.add(UNVERIFIED)


def job(bot: Bot, name: str, *targets: str, label: str | None = None, **kw: Any) -> int:
    seed = bot.google.seed
    spec = PersonalJobSpec(name=name, source_email=seed.source_email, group_name=seed.source_group_name,
                           targets=list(targets), target_group_name=label, **kw)
    made = create_personal_job(bot.runtime.db, spec=spec, directory=bot.runtime.directory(),
                               people_for=bot.runtime.people)
    assert made.id is not None
    return made.id


def mine(bot: Bot, user: str) -> dict:
    mark = bot.double.mark()
    assert bot.user(user).command("mine").status == 200
    return bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args


def press(bot: Bot, user: str, blocks: list, action_id: str, value: str | None = None) -> dict:
    """`user` presses a button of `blocks` (an ephemeral message); the bot's reply to it."""
    mark = bot.double.mark()
    assert bot.user(user).click_message(blocks, action_id, value).status == 200
    return bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args


def value_for(job_id: int, user: str) -> str:
    return json.dumps({"job": job_id, "for": user}, separators=(",", ":"))


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def finished(bot: Bot, job_id: int) -> bool:
    """No run of the job holds it (the run a press started has ended)."""
    with store.session_scope(bot.runtime.db) as session:
        return store.lease_for_job(session, job_id=job_id) is None


def history(bot: Bot, job_id: int) -> list[tuple[str, str]]:
    with store.session_scope(bot.runtime.db) as session:
        return [(e.actor, e.action) for e in store.audit_events(session, job_id=job_id)]


def test_a_member_sees_their_syncs_leaves_one_and_rejoins(bot: Bot) -> None:
    people(bot)
    partners = job(bot, "Partners", "group:sales@example.com", opt_out=OptOut.allowed)
    job(bot, "Fixed", "email:bob@example.com", label="Fixed label")
    job(bot, "Carol only", "email:carol@example.com", label="Carol's")
    bot.runtime.engine.run("Partners")
    bot.runtime.engine.run("Fixed")
    uid = bot.ctx.service.find("Partners").uid
    count = bot.google.seed.contact_count

    answer = mine(bot, BOB)
    text = str(answer["blocks"])
    assert answer["response_type"] == "ephemeral"
    assert "Partners" in text and "Fixed" in text and "Carol only" not in text
    assert "Partners" in text and f"{count} contacts in your account" in text and "you are a reader" in text
    assert value_for(partners, BOB) in text and text.count("member_leave") == 1, "Fixed cannot be left"

    reply = press(bot, BOB, answer["blocks"], "member_leave", value_for(partners, BOB))
    assert reply["replace_original"] is True and "You left *Partners*" in str(reply["blocks"])
    # Carried out by the run the press started: our contacts, and then our label, go from Bob's account.
    eventually(lambda: ours_of(bot.google, "bob@example.com", uid) == 0
               and group_named(bot.google, "bob@example.com", "Partners") is None)
    assert ours_of(bot.google, "carol@example.com", uid) == count, "other members untouched"
    assert ours_of(bot.google, "bob@example.com", bot.ctx.service.find("Fixed").uid) == count
    assert (BOB, "leave") in history(bot, partners)
    assert "member_rejoin" in str(reply["blocks"])

    eventually(lambda: finished(bot, partners))  # else Re-join's run would be refused as busy ("next run")
    back = press(bot, BOB, reply["blocks"], "member_rejoin", value_for(partners, BOB))
    assert "You are back in *Partners*. Its contacts come back now" in str(back["blocks"])
    eventually(lambda: ours_of(bot.google, "bob@example.com", uid) == count)
    assert (BOB, "re-join") in history(bot, partners)
    assert bot.problems() == []


def test_a_member_joins_an_open_sync_from_app_home(bot: Bot) -> None:
    people(bot)
    open_id = job(bot, "Open", "email:bob@example.com", joinable=True)
    uid = bot.ctx.service.find("Open").uid
    mark = bot.double.mark()
    bot.user(DAVE).open_home()
    bot.double.wait_for(lambda c: c.method == "views.publish" and c.args["user_id"] == DAVE, after=mark)
    home = bot.double.home(DAVE)
    assert home is not None and "Your syncs" in str(home["blocks"]) and "open to join" in str(home["blocks"])

    mark = bot.double.mark()
    assert bot.user(DAVE).click_home("member_join", value_for(open_id, DAVE)).status == 200
    bot.double.wait_for(lambda c: c.method == "views.publish" and "You joined" in str(c.args["view"]), after=mark)
    eventually(lambda: ours_of(bot.google, "dave@example.com", uid) == bot.google.seed.contact_count)
    assert (DAVE, "join") in history(bot, open_id)
    assert bot.problems() == []


def test_forged_cross_user_and_refused_presses_change_nothing(bot: Bot) -> None:
    people(bot)
    partners = job(bot, "Partners", "email:bob@example.com", "email:carol@example.com", opt_out=OptOut.allowed)
    fixed = job(bot, "Fixed", "email:carol@example.com", label="Fixed label")
    closed = job(bot, "Closed", "email:bob@example.com", label="Closed label")
    bobs = mine(bot, BOB)["blocks"]

    # Carol presses the Leave button shown to Bob: refused, and never applied to Carol instead.
    reply = press(bot, CAROL, bobs, "member_leave", value_for(partners, BOB))
    assert "shown to someone else" in str(reply["blocks"])
    # Made-up payloads, signed for Carol: Leave where leaving is not allowed, Join where joining is not.
    forged = [{"type": "actions", "block_id": "x", "elements": [
        {"type": "button", "action_id": aid, "text": {"type": "plain_text", "text": "x"}, "value": value}]}
        for aid, value in (("member_leave", value_for(fixed, CAROL)), ("member_join", value_for(closed, CAROL)),
                           ("member_rejoin", value_for(partners, CAROL)), ("member_leave", "DROP TABLE"),
                           # numbers no job has: infinity, and one no database integer holds
                           ("member_leave", '{"job":1e999,"for":"' + CAROL + '"}'),
                           ("member_join", json.dumps({"job": 10**30, "for": CAROL})),
                           ("member_join", json.dumps({"job": -1, "for": CAROL})))]
    answers = [str(press(bot, CAROL, [b], b["elements"][0]["action_id"])["blocks"]) for b in forged]
    assert "does not allow leaving" in answers[0]
    assert "not open to join" in answers[1]
    assert "have not left" in answers[2]
    assert all("not one of ContactSync's" in a for a in answers[3:])

    with store.session_scope(bot.runtime.db) as session:
        assert all(store.opt_outs(session, job_id=j) == [] for j in (partners, fixed, closed))
        assert [s.value for s in store.list_selectors(session, job_id=closed)] == ["bob@example.com"]
    assert all(history(bot, j) == [("cli", "create")] for j in (partners, fixed, closed))

    # A replayed Leave (its signature's time long past) is refused at the door.
    user = bot.user(BOB)
    old = int(time.time()) - 6 * 60
    body = ("payload=" + json.dumps({"type": "block_actions", "user": {"id": BOB}, "actions": [
        {"action_id": "member_leave", "value": value_for(partners, BOB)}]})).encode()
    assert user.post(body, "application/x-www-form-urlencoded", timestamp=old).status == 401
    with store.session_scope(bot.runtime.db) as session:
        assert store.opt_outs(session, job_id=partners) == []


def test_no_verified_address_or_no_google_account_is_a_clear_reply(bot: Bot) -> None:
    people(bot)
    job(bot, "Partners", "email:bob@example.com", joinable=True)
    assert "no verified email address" in mine(bot, NO_MAIL)["text"]
    assert "no verified email address" in mine(bot, UNVERIFIED)["text"]
    assert "no verified email address" in mine(bot, "UNKNOWN99")["text"]  # users.info: user_not_found
    assert "ghost@example.com" in mine(bot, GHOST)["text"]
    assert mine(bot, DAVE)["text"] == "Your syncs (1)"
    assert len(bot.double.calls_to("users.info")) == 5, "the answers are cached: Dave's is asked once"
    mine(bot, DAVE)
    assert len(bot.double.calls_to("users.info")) == 5


def test_the_admin_ticks_leave_and_join_in_the_create_modal_and_the_edit_modal_shows_them(bot: Bot) -> None:
    from .flows import add_targets, fill_details, is_update

    admin = bot.admin
    fill_details(bot, admin, name="Open one")
    admin.enter("add_to_my_contacts", [("opt_out", "Members may leave it themselves"),
                                       ("joinable", "Anyone may join it (an open sync)")])
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_users=[("email:dave@example.com", "Dave Developer")])
    assert admin.submit().json() == {"response_action": "clear"}
    made = bot.ctx.service.find("Open one")
    assert made.opt_out is OptOut.allowed and made.joinable

    mark = bot.double.mark()
    assert admin.command('edit "Open one"').status == 200
    bot.double.wait_for(is_update, after=mark)  # the source's groups are loaded
    options = next(b for b in admin.modal()["blocks"] if b.get("element", {}).get("action_id") == "add_to_my_contacts")
    assert {o["value"] for o in options["element"]["initial_options"]} == {"opt_out", "joinable"}
    admin.enter("add_to_my_contacts", [])
    first = admin.submit().json()
    assert first["response_action"] == "push", first  # then the targets step, as they were
    second = admin.submit().json()
    assert second == {"response_action": "clear"}, second
    eventually(lambda: not bot.ctx.service.find("Open one").joinable)
    assert bot.ctx.service.find("Open one").opt_out is OptOut.never
