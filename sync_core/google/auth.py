"""Service-account credentials with domain-wide delegation, and the discovery-built API clients.

The only switches are the settings a user would change to point ContactSync at another server: the
API endpoint (`CONTACTSYNC_GOOGLE_API_ENDPOINT`) and the credentials file's own `token_uri`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build

HTTP_TIMEOUT_SECONDS = 60


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
        self._info = info
        self._base: service_account.Credentials | None = None
        self.api_endpoint = api_endpoint.rstrip("/") if api_endpoint else None

    @property
    def service_account_email(self) -> str:
        return str(self._info.get("client_email", ""))

    @property
    def client_id(self) -> str:
        return str(self._info.get("client_id", ""))

    def _http(self, subject: str, scopes: Sequence[str]) -> google_auth_httplib2.AuthorizedHttp:
        if self._base is None:  # parsing the private key is the slow part: once per process
            self._base = service_account.Credentials.from_service_account_info(self._info)
        creds = self._base.with_scopes(list(scopes)).with_subject(subject)
        return google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=HTTP_TIMEOUT_SECONDS))

    @staticmethod
    def fetch(url: str) -> bytes | None:
        """GET a URL Google gave us (a contact photo); None unless it answers 200.

        Photo URLs are capability URLs: no credentials are sent, so no token ever leaves for another host.
        """
        if not url.startswith(("https://", "http://")):
            return None
        response, content = httplib2.Http(timeout=HTTP_TIMEOUT_SECONDS).request(url, "GET")
        return bytes(content) if int(response.status) == 200 else None

    def build(self, api: str, version: str, *, subject: str, scopes: Sequence[str]) -> Any:
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        return build(
            api,
            version,
            http=self._http(subject, scopes),
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )
