"""A 10,000-user directory and 300 jobs / 300 targets: answers stay correct and within Block Kit's limits.
(Speed is measured by bench/slack_options.py, not asserted here.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core import store
from sync_core.domain.models import JobKind, SelectorCreate, SelectorKind, SyncJobCreate
from tests.conftest import Google

from .conftest import ADMIN, Bot, start_bot
from .flows import choose_source, is_update, open_create

USERS = 10_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = Path(tmp_path_factory.mktemp("big"))
    ws = Workspace()
    seed = seed_workspace(ws, contacts=20, extra_users=USERS)
    with running_emulator(ws, tmp) as handle:
        yield from start_bot(Google(handle, seed), tmp)


def test_cache_holds_the_whole_directory(big: Bot) -> None:
    snap = big.ctx.cache.snapshot
    assert len(snap.users) == big.google.seed.user_count
    assert set(snap.domains) == set(big.google.seed.domains)


def test_user_options_search_name_and_email(big: Bot) -> None:
    admin = big.admin
    open_create(big, admin)
    options = admin.suggest("source_user", "user0")
    assert len(options) == 100  # Slack's maximum, never more
    assert all(o["value"].startswith("user0") and len(o["text"]["text"]) <= 75 for o in options)
    exact = admin.suggest("source_user", "User 04242")
    assert [o["value"] for o in exact] == ["user04242@example.com"]
    by_email = admin.suggest("source_user", "ALICE@")
    assert [o["value"] for o in by_email] == ["alice@example.com"]
    unicode = admin.suggest("source_user", "ångström")
    assert [o["value"] for o in unicode] == ["zoe@example.com"]
    assert "frank@example.com" not in [o["value"] for o in admin.suggest("source_user", "frank")]  # suspended
    assert admin.suggest("source_user", "no-such-person") == []


def test_target_options_of_every_kind(big: Bot) -> None:
    admin, seed = big.admin, big.google.seed
    open_create(big, admin)
    admin.enter("name", "Scale")
    choose_source(big, admin, seed.source_email)
    mark = big.double.mark()
    admin.choose("group_select", (seed.source_group_name, seed.source_group_name))
    big.double.wait_for(is_update, after=mark)
    assert admin.submit().json()["response_action"] == "push"
    assert [o["value"] for o in admin.suggest("pick_users", "bob")] == ["email:bob@example.com"]
    groups = [o["value"] for o in admin.suggest("pick_groups", "sales")]
    assert groups == ["group:sales@example.com", "group:emea-sales@example.com"]  # prefix matches first
    assert [o["value"] for o in admin.suggest("pick_domains", "")] == [f"domain:{d}" for d in sorted(seed.domains)]
    assert f"role:{seed.help_desk_role_name}" in [o["value"] for o in admin.suggest("pick_roles", "help")]
    assert [o["value"] for o in admin.suggest("pick_ous", "emea")] == ["ou:/Sales/EMEA"]
    # Add all = every domain; the live count is every active user but the source (never their own target)
    mark = big.double.mark()
    admin.click("targets_add_all")
    big.double.wait_for(is_update, after=mark)
    active = sum(1 for u in big.ctx.cache.snapshot.users if not u.suspended and u.email != seed.source_email)
    count = next(b for b in admin.modal()["blocks"] if b.get("block_id") == "target_count")
    assert f"*{active}* active users" in count["text"]["text"]
    assert big.problems() == []


def test_300_jobs_and_300_targets_stay_within_limits(big: Bot) -> None:
    seed = big.google.seed
    with store.session_scope(big.runtime.db) as session:
        for i in range(300):
            job = store.create_job(session, created_by=ADMIN, job_in=SyncJobCreate(
                name=f"Job {i:03d} " + "x" * 60, kind=JobKind.personal, source_user_id=seed.source_user_id,
                source_email=seed.source_email, source_group_resource_name=seed.source_group_resource_name,
                source_group_name=seed.source_group_name, target_group_name="Partners " + "y" * 200,
                description="d" * 900, alert_channel="C0CSYNC01"))
            assert job.id is not None
            if i == 0:
                store.set_selectors(session, job_id=job.id, selectors=[
                    SelectorCreate(kind=SelectorKind.email, value=f"user{n:05d}@example.com") for n in range(300)])
    admin, mark = big.admin, big.double.mark()
    admin.command("list")
    listing = big.double.wait_for(lambda c: c.method == "response_url", after=mark).args
    assert "Next" in str(listing["blocks"])
    mark = big.double.mark()
    admin.click_message(listing["blocks"], "list_page", "1")
    big.double.wait_for(lambda c: c.method == "response_url" and c.args.get("replace_original"), after=mark)
    admin.command(f"show Job 000 {'x' * 60}")
    detail = big.double.wait_for(lambda c: c.method == "response_url" and "…and" in str(c.args.get("blocks")),
                                 after=mark).args
    assert "…and 275 more targets" in str(detail["blocks"])
    admin.open_home()
    big.double.wait_for(lambda c: c.method == "views.publish", after=mark)
    mark = big.double.mark()
    admin.click_home("home_page", "1")
    home = big.double.wait_for(lambda c: c.method == "views.publish", after=mark).args["view"]
    assert "Showing 26–50 of 300" in str(home["blocks"])
    # the edit modal holds 300 targets, 20 to a page
    mark = big.double.mark()
    admin.command(f"edit Job 000 {'x' * 60}")
    big.double.wait_for(is_update, after=mark)
    assert admin.submit().json()["response_action"] == "push"
    step2 = admin.modal()
    removes = [b for b in step2["blocks"] if (b.get("accessory") or {}).get("action_id") == "target_remove"]
    assert len(removes) == 20 and "300 selections" in str(step2["blocks"])
    mark = big.double.mark()
    admin.click("targets_page", "1")
    big.double.wait_for(is_update, after=mark)
    assert "Showing 21–40 of 300" in str(admin.modal()["blocks"])
    assert big.problems() == []
