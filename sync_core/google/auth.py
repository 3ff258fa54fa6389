"""Service-account credentials with domain-wide delegation, and the discovery-built API clients.

The only switches are the settings a user would change to point ContactSync at another server: the
API endpoint (`CONTACTSYNC_GOOGLE_API_ENDPOINT`) and the credentials file's own `token_uri`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build

from sync_core.google.cooperative import HTTP_TIMEOUT_SECONDS, await_only, current_io
from sync_core.google.json_model import FastJsonModel, StreamedJson

# Delegated credentials kept per process, with their access tokens (good for an hour). About 1 KB each, so
# 25,000 (the most contacts an account may hold, and more targets than a Workspace job is likely to have)
# cost 25 MB at most. Fewer than a job's targets would evict each one before the job's next run needs it: with
# 1,024, a job of 2,000 targets signed 2,000 assertions and asked Google for 2,000 tokens every run.
RECENT_USERS = 25_000


class _Unbound:
    """The transport of the shared clients: every request must bring its user's own."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a shared Google client was used without a user's transport")


class ThreadTransport:
    """httplib2's `Http` for whichever thread sends the request: httplib2 is not thread-safe, so a user's
    transport is looked up at each request, not when the user's client is made. Each thread keeps one
    connection pool. A request from a run's target (in its greenlet: sync_core.google.cooperative) goes out on
    the run's loop instead, so that the target waits for its answer holding no thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _http(self) -> httplib2.Http:
        transport: httplib2.Http | None = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = httplib2.Http(timeout=HTTP_TIMEOUT_SECONDS)
        return transport

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None,
                redirections: int = httplib2.DEFAULT_MAX_REDIRECTS, connection_type: Any = None) -> Any:
        io = current_io()
        if io is None:
            if isinstance(body, StreamedJson):
                body = bytes(body)
            return self._http().request(uri, method, body, headers, redirections, connection_type)
        return await_only(io.request(uri, method, body, headers, redirections))

    def __getattr__(self, name: str) -> Any:  # what google_auth_httplib2 reads of its Http (timeout, ...)
        return getattr(self._http(), name)


class CredentialsFileError(Exception):
    """The service-account file is unreadable or is not a service-account key."""


class GoogleAuth:
    """Builds per-user API clients by impersonating users through one service account."""

    def __init__(self, credentials_file: Path, api_endpoint: str | None = None) -> None:
        try:
            info = json.loads(Path(credentials_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CredentialsFileError(
                f"GOOGLE_APPLICATION_CREDENTIALS: cannot read {credentials_file}: {exc.__class__.__name__}"
            ) from None
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise CredentialsFileError(
                "GOOGLE_APPLICATION_CREDENTIALS: not a service-account key file (type must be service_account)"
            )
        try:
            # The private key parsed now, once a process (the slow part of making a user's credentials, some
            # 40 ms): a file whose key cannot be used is one line at start, not every target's first call failing.
            self._base = service_account.Credentials.from_service_account_info(info)
        except ValueError as exc:  # google-auth's MalformedError (a missing field) is a ValueError too
            raise CredentialsFileError(
                f"GOOGLE_APPLICATION_CREDENTIALS: {credentials_file} is not a usable service-account key "
                f"(its private_key, client_email or token_uri: {exc.__class__.__name__})"
            ) from None
        self._info = info
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, tuple[str, ...]], service_account.Credentials] = OrderedDict()
        self._shared: dict[tuple[str, str], Any] = {}
        self._transport = ThreadTransport()
        self.api_endpoint = api_endpoint.rstrip("/") if api_endpoint else None

    @property
    def service_account_email(self) -> str:
        return str(self._info.get("client_email", ""))

    @property
    def client_id(self) -> str:
        return str(self._info.get("client_id", ""))

    def _credentials(self, subject: str, scopes: tuple[str, ...]) -> service_account.Credentials:
        """The delegated credentials of one user, kept (with their access token, good for an hour) for the
        most recent users: a steady-state run then asks Google for no new token per target."""
        key = (subject.lower(), scopes)
        with self._lock:
            creds = self._recent.get(key)
            if creds is not None:
                self._recent.move_to_end(key)
                return creds
            creds = self._recent[key] = self._base.with_scopes(list(scopes)).with_subject(subject)
            while len(self._recent) > RECENT_USERS:
                self._recent.popitem(last=False)
            return creds

    def http(self, subject: str, scopes: Sequence[str]) -> google_auth_httplib2.AuthorizedHttp:
        """An authorised transport acting as `subject`, from any thread: under it, each thread sends on its
        own httplib2 connection pool (`ThreadTransport`)."""
        creds = self._credentials(subject, tuple(scopes))
        return google_auth_httplib2.AuthorizedHttp(creds, http=self._transport)


    def shared(self, api: str, version: str) -> Any:
        """One discovery-built client per API for the whole process, bound to no user: requests made from
        it are sent with a user's transport (`request.execute(http=...)`). Building a client, and each of
        its resources, writes docstrings for every method: too slow to do once per target."""
        with self._lock:
            service = self._shared.get((api, version))
            if service is None:
                options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
                service = self._shared[(api, version)] = build(
                    api,
                    version,
                    http=_Unbound(),
                    static_discovery=True,
                    cache_discovery=False,
                    client_options=options,
                    model=FastJsonModel(),
                )
            return service

    def fetch(self, url: str) -> bytes | None:
        """GET a URL Google gave us (a contact photo); None unless it answers 200.

        Photo URLs are capability URLs: no credentials are sent (the bare transport, not a user's authorised
        one), so no token ever leaves for another host. From a run's target it goes out on the run's loop."""
        if not url.startswith(("https://", "http://")):
            return None
        response, content = self._transport.request(url, "GET")
        return bytes(content) if int(response.status) == 200 else None

    def build(self, api: str, version: str, *, subject: str, scopes: Sequence[str]) -> Any:
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        return build(
            api,
            version,
            http=self.http(subject, scopes),
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
            model=FastJsonModel(),
        )
