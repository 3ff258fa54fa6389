"""The `query:` target kind on real runs (emulator): a Directory users.list query, re-resolved every run."""

from __future__ import annotations

import pytest

from sync_core.domain.models import TargetStatus
from sync_core.runtime import Runtime
from sync_core.service import JobInputError
from tests.conftest import Google
from tests.integration.helpers import by_email, create_job, ours, source_keys

QUERY = "query:orgDepartment='Sales'"


def department_of(google: Google, email: str, department: str) -> None:
    """An admin moves a user to another department (as the Admin console would)."""
    with google.ws.lock:
        user = google.ws.user_by_key(email)
        assert user is not None
        for org in user.get("organizations", []):
            org["department"] = department


def sales(google: Google) -> set[str]:
    return {u["primaryEmail"] for u in google.ws.directory["users"].values()
            if any(o.get("department") == "Sales" for o in u.get("organizations", []))
            and not u.get("suspended") and not u.get("archived") and u["primaryEmail"] != google.seed.source_email}


def test_a_query_reaches_exactly_its_users_and_follows_department_changes(google: Google, rt: Runtime) -> None:
    create_job(rt, google, QUERY)
    report = rt.engine.run("Partners")
    reached = {t.email for t in report.targets if t.status is TargetStatus.ok}
    assert reached == sales(google) and "bob@example.com" in reached and "dave@example.com" not in reached
    assert set(ours(google, "bob@example.com")) == source_keys(google)

    department_of(google, "dave@example.com", "Sales")
    department_of(google, "bob@example.com", "Engineering")
    report = rt.engine.run("Partners")
    targets = by_email(report)
    assert targets["dave@example.com"].created == len(source_keys(google)), "a newcomer gets the contacts"
    assert targets["bob@example.com"].status is TargetStatus.removed, "a leaver loses them"
    assert ours(google, "bob@example.com") == {}
    assert set(ours(google, "dave@example.com")) == source_keys(google)


def test_a_custom_schema_attribute_query(google: Google, rt: Runtime) -> None:
    with google.ws.lock:
        zoe = google.ws.user_by_key("zoe@example.com")
        assert zoe is not None
        zoe["customSchemas"] = {"EmployeeInfo": {"CostCenter": "1234"}}
    create_job(rt, google, "query:EmployeeInfo.CostCenter=1234")
    report = rt.engine.run("Partners")
    assert {t.email for t in report.targets} == {"zoe@example.com"}


@pytest.mark.parametrize("query", ["orgDepartment='Sales", "orgUnitPath=/Nowhere"])
def test_a_refused_query_is_a_field_error_at_create(google: Google, rt: Runtime, query: str) -> None:
    with pytest.raises(JobInputError) as refused:
        create_job(rt, google, f"query:{query}")
    assert refused.value.field == "targets"
    assert refused.value.message.startswith(f"the directory refused the query {query!r}")
