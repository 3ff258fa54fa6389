"""The Google client factory (`sync_core.google.factory.GoogleClients`): each client acts as the user it is
asked for, and every People client is paced by the factory's one pacer, under that user's quota."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from sync_core.google.errors import GoogleError
from sync_core.google.factory import GoogleClients
from sync_core.google.pacer import Pacer
from sync_core.google.quota import Metric
from sync_core.settings import (
    GOOGLE_SCOPES_DIRECTORY,
    GOOGLE_SCOPES_DOMAIN_CONTACTS,
    GOOGLE_SCOPES_PEOPLE,
    load_settings,
)

ADMIN = "admin@example.com"


@dataclass
class Sent:
    """Who each request was sent as, and with which scopes each user's credentials were made."""

    as_user: list[str] = field(default_factory=list)
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)


class FakeRequest:
    def __init__(self, sent: Sent, bound_to: str | None) -> None:
        self.sent, self.bound_to = sent, bound_to

    def execute(self, http: Any = None, num_retries: int = 0) -> dict[str, Any]:
        # A shared client's request goes out with its user's transport; a built client's with its own.
        user = http.subject if http is not None else self.bound_to
        assert user is not None, "a shared client was used without a user's transport"
        self.sent.as_user.append(user)
        return {}


class FakeService:
    """A discovery-built client: any resource, any method, each call a request."""

    def __init__(self, sent: Sent, bound_to: str | None) -> None:
        self.sent, self.bound_to = sent, bound_to

    def __getattr__(self, name: str) -> Any:
        def call(*_args: Any, **_kwargs: Any) -> Any:
            return FakeRequest(self.sent, self.bound_to) if _kwargs else self

        return call


@dataclass(frozen=True)
class FakeTransport:
    subject: str


class FakeAuth:
    """`GoogleAuth`'s surface: delegated transports and built clients, recording who they act as."""

    def __init__(self) -> None:
        self.sent = Sent()

    def http(self, subject: str, scopes: Sequence[str]) -> FakeTransport:
        self.sent.scopes[subject] = tuple(scopes)
        return FakeTransport(subject)

    def shared(self, api: str, version: str) -> FakeService:
        return FakeService(self.sent, None)

    def build(self, api: str, version: str, *, subject: str, scopes: Sequence[str]) -> FakeService:
        self.sent.scopes[subject] = tuple(scopes)
        return FakeService(self.sent, subject)


def clients(**settings: Any) -> tuple[GoogleClients, FakeAuth]:
    auth = FakeAuth()
    loaded = load_settings(CONTACTSYNC_ADMIN_EMAIL=ADMIN, **settings)
    pacer = Pacer(loaded.quota_limits(), clock=lambda: 0.0, sleep=lambda _s: None)
    return GoogleClients(auth, loaded, pacer), auth  # type: ignore[arg-type]


def test_a_people_client_acts_as_its_user_under_that_users_quota() -> None:
    factory, auth = clients()
    factory.people("bob@example.com").list_groups()
    factory.people("bob@example.com").list_groups()
    factory.people("zoe@example.com").list_groups()
    assert auth.sent.as_user == ["bob@example.com", "bob@example.com", "zoe@example.com"]
    assert auth.sent.scopes["bob@example.com"] == GOOGLE_SCOPES_PEOPLE
    # One pacer for every client the factory makes: two clients of one user share that user's quota.
    assert factory.pacer.spent("bob@example.com", Metric.group_read) == 2
    assert factory.pacer.spent("zoe@example.com", Metric.group_read) == 1


def test_a_directory_client_acts_as_the_admin_and_is_not_paced() -> None:
    factory, auth = clients()
    factory.directory().list_domains()
    assert auth.sent.as_user == [ADMIN]
    assert auth.sent.scopes[ADMIN] == GOOGLE_SCOPES_DIRECTORY
    assert all(factory.pacer.spent(ADMIN, metric) == 0 for metric in Metric)


def test_shared_contacts_are_read_as_the_admin_with_the_directory_scope_under_the_admins_quota() -> None:
    factory, auth = clients()
    factory.domain_contacts().read()
    assert auth.sent.as_user == [ADMIN]
    assert auth.sent.scopes[ADMIN] == GOOGLE_SCOPES_DOMAIN_CONTACTS
    assert factory.pacer.spent(ADMIN, Metric.critical_read) == 1  # listDirectoryPeople: one critical read a page


def test_without_an_admin_there_is_no_directory_client() -> None:
    factory, auth = clients()
    factory.settings.admin_email = None
    with pytest.raises(GoogleError, match="CONTACTSYNC_ADMIN_EMAIL is not set"):
        factory.directory()
    assert auth.sent.scopes == {}


def test_calls_retry_as_the_settings_say() -> None:
    factory, _auth = clients(CONTACTSYNC_RETRY_ATTEMPTS=3, CONTACTSYNC_RETRY_MAX_WAIT_SECONDS=0.5)
    executor = factory.people("bob@example.com")._ex
    assert (executor.attempts, executor.max_wait) == (3, 0.5)


def test_a_users_transport_sends_on_the_calling_threads_connections() -> None:
    """httplib2 is not thread-safe, and a parked target may go on on another worker: the transport a user's
    client holds sends each request on the connection pool of the thread that makes it."""
    import threading

    import httplib2

    from sync_core.google.auth import ThreadTransport

    transport = ThreadTransport()
    seen: list[httplib2.Http] = []

    def on_this_thread() -> None:
        seen.append(transport._http())
        seen.append(transport._http())

    on_this_thread()
    other = threading.Thread(target=on_this_thread)
    other.start()
    other.join()
    assert seen[0] is seen[1] and seen[2] is seen[3]  # one pool a thread, kept
    assert seen[0] is not seen[2]  # never shared by two threads
    assert transport.timeout == seen[0].timeout  # what google_auth_httplib2 reads of it: the thread's Http's


def test_a_job_of_thousands_of_targets_keeps_every_users_credentials_between_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each user's delegated credentials (and the access token they carry, good for an hour) outlive a run
    of 2,000 targets: a smaller cache evicted each before the next run needed it, and every run signed an
    assertion and asked Google for a token per target."""
    import json

    from emulator.keys import generate_key
    from sync_core.google.auth import GoogleAuth

    key = generate_key()
    path = tmp_path / "key.json"
    path.write_text(json.dumps({
        "type": "service_account", "client_email": key.client_email, "private_key": key.private_key_pem,
        "private_key_id": key.private_key_id, "client_id": key.client_id,
        "token_uri": "https://oauth2.googleapis.com/token",
    }), encoding="utf-8")
    auth = GoogleAuth(path)
    scopes = ("https://www.googleapis.com/auth/contacts",)
    first = [auth._credentials(f"user{i}@example.com", scopes) for i in range(2000)]
    again = [auth._credentials(f"USER{i}@example.com", scopes) for i in range(2000)]  # the next run
    assert all(a is b for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize("broken", [
    {"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"},  # unreadable key
    {"client_email": None},  # a field google-auth needs is missing
])
def test_a_key_file_whose_key_cannot_be_used_is_refused_when_read(tmp_path, broken) -> None:  # type: ignore[no-untyped-def]
    """The private key is parsed with the file (once a process): a file that says service_account but holds
    no usable key is one line when it is loaded, naming no part of the key, not every target's first call
    failing."""
    import json

    from emulator.keys import generate_key
    from sync_core.google.auth import CredentialsFileError, GoogleAuth

    key = generate_key()
    info = {"type": "service_account", "client_email": key.client_email, "private_key": key.private_key_pem,
            "private_key_id": key.private_key_id, "token_uri": "https://oauth2.googleapis.com/token", **broken}
    path = tmp_path / "key.json"
    path.write_text(json.dumps({k: v for k, v in info.items() if v is not None}), encoding="utf-8")
    with pytest.raises(CredentialsFileError) as raised:
        GoogleAuth(path)
    message = str(raised.value)
    assert message.startswith("GOOGLE_APPLICATION_CREDENTIALS: ") and "\n" not in message
    assert "not a key" not in message and key.private_key_id not in message
