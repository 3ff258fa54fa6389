"""The service account's credentials, made without cryptography's (slow) check of the key: the same
credentials google-auth makes, signing the same JWTs; a key file google-auth refuses is refused the same way."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions
from google.oauth2 import service_account

from sync_core.google.auth import service_account_credentials


def key_file(private_key: Any) -> dict[str, Any]:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account", "project_id": "p", "private_key_id": "kid-1", "private_key": pem,
        "client_email": "sync@p.iam.gserviceaccount.com", "client_id": "123", "token_uri": "http://token.test/t",
    }


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    return key_file(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def test_the_credentials_are_google_auths_and_sign_the_same(info: dict[str, Any]) -> None:
    ours = service_account_credentials(info).with_scopes(["s"]).with_subject("bob@x.io")
    theirs = service_account.Credentials.from_service_account_info(info).with_scopes(["s"]).with_subject("bob@x.io")
    assert type(ours) is type(theirs)
    assert (ours.service_account_email, ours._token_uri, ours.project_id, ours.signer_email, ours._subject) == (
        theirs.service_account_email, theirs._token_uri, theirs.project_id, theirs.signer_email, theirs._subject)
    assert ours.signer.key_id == theirs.signer.key_id == "kid-1"
    assert ours.signer.sign(b"a JWT's header and claims") == theirs.signer.sign(b"a JWT's header and claims")


def test_a_file_google_auth_refuses_is_refused_the_same_way(info: dict[str, Any]) -> None:
    for broken in (
        {**info, "private_key": "not a key"},
        {k: v for k, v in info.items() if k != "token_uri"},
    ):
        with pytest.raises((ValueError, exceptions.GoogleAuthError)) as ours:
            service_account_credentials(broken)
        with pytest.raises((ValueError, exceptions.GoogleAuthError)) as theirs:
            service_account.Credentials.from_service_account_info(broken)
        assert type(ours.value) is type(theirs.value)
