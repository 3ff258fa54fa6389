"""The OAuth 2.0 token endpoint (JWT-bearer grant with domain-wide delegation) and access-token checks.

Token lifetimes use the real clock, not `Workspace.now()`: tests move the emulated clock days ahead to
expire sync tokens, while google-auth keeps signing JWTs with the real time.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .core import JSON, ApiError, Workspace

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Older Google libraries sign for these audiences; Google accepts them all.
GOOGLE_TOKEN_AUDIENCES = frozenset(
    {
        GOOGLE_TOKEN_URL,
        "https://www.googleapis.com/oauth2/v4/token",
        "https://accounts.google.com/o/oauth2/token",
    }
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3599
MAX_JWT_LIFETIME = 3900  # Google allows exp up to 65 minutes after iat
CLOCK_SKEW = 300

UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any "
    "of the scopes requested."
)
BAD_JWT_TIME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your "
    "iat and exp values in the JWT claim."
)
MISSING_CREDENTIAL = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INVALID_CREDENTIAL = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class TokenError(Exception):
    """An OAuth error answer: {"error": ..., "error_description": ...}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass(frozen=True)
class Grant:
    user_id: str
    scopes: frozenset[str]
    expires_at: float
    client_email: str


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _decode_jwt(assertion: str) -> tuple[JSON, JSON, bytes, bytes]:
    try:
        header_b64, payload_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64decode(header_b64))
        payload = json.loads(_b64decode(payload_b64))
        signature = _b64decode(sig_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TokenError(400, "invalid_grant", "Invalid JWT Signature.") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
    return header, payload, f"{header_b64}.{payload_b64}".encode(), signature


def _auth_error(message: str, reason: str, legacy_reason: str | None) -> ApiError:
    """401 in the API's shape: one-platform ErrorInfo details, plus the legacy errors[] for Admin SDK."""
    details = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
    ]
    return ApiError(
        401,
        message,
        "UNAUTHENTICATED",
        reason=legacy_reason,
        details=details,
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


class TokenIssuer:
    """Issues opaque access tokens bound to (user id, scopes) and checks them on API calls."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def token_request(self, form: dict[str, list[str]], own_token_url: str) -> JSON:
        grant_type = (form.get("grant_type") or [""])[0]
        if grant_type != JWT_BEARER:
            raise TokenError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = (form.get("assertion") or [""])[0]
        header, claims, signed, signature = _decode_jwt(assertion)
        with self.ws.lock:
            account = self.ws.data["service_accounts"].get(claims.get("iss", ""))
            if account is None:
                raise TokenError(400, "invalid_grant", "Invalid grant: account not found")
            self._check_signature(header, account["public_key"], signed, signature)
            self._check_times(claims)
            if claims.get("aud") not in GOOGLE_TOKEN_AUDIENCES | {own_token_url}:
                raise TokenError(400, "invalid_grant", "Invalid JWT: Failed audience check.")
            scopes = frozenset(str(claims.get("scope", "")).split())
            if not scopes:
                raise TokenError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
            granted = account.get("scopes")
            if granted is not None and not scopes <= set(granted):
                raise TokenError(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
            subject = claims.get("sub")
            if not subject:
                # Without delegation the token acts as the service account itself: no Workspace user.
                raise TokenError(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
            user = self.ws.user_by_primary(str(subject))
            # Google answers the same for unknown, renamed-away, deleted and suspended subjects.
            if user is None or user.get("suspended") or user.get("archived"):
                raise TokenError(400, "invalid_grant", "Invalid email or User ID")
            grant = Grant(user["id"], scopes, time.time() + TOKEN_LIFETIME, str(claims["iss"]))
        token = "ya29.emul-" + secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = grant
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    @staticmethod
    def _check_signature(header: JSON, public_pem: str, signed: bytes, signature: bytes) -> None:
        if header.get("alg") != "RS256":
            raise TokenError(400, "invalid_grant", "Invalid JWT Signature.")
        key = serialization.load_pem_public_key(public_pem.encode())
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise TokenError(400, "invalid_grant", "Invalid JWT Signature.") from exc

    @staticmethod
    def _check_times(claims: JSON) -> None:
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise TokenError(400, "invalid_grant", BAD_JWT_TIME)
        if exp <= iat or exp - iat > MAX_JWT_LIFETIME or iat > now + CLOCK_SKEW or exp < now - CLOCK_SKEW:
            raise TokenError(400, "invalid_grant", BAD_JWT_TIME)

    def authenticate(self, authorization: str | None, *, legacy: bool) -> tuple[Grant, JSON]:
        """The grant and current user behind an `Authorization: Bearer` header, or a 401 ApiError."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise _auth_error(MISSING_CREDENTIAL, "CREDENTIALS_MISSING", "required" if legacy else None)
        invalid = _auth_error(
            INVALID_CREDENTIAL, "ACCESS_TOKEN_TYPE_UNSUPPORTED", "authError" if legacy else None
        )
        token = authorization.split(" ", 1)[1].strip()
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires_at < time.time():
            raise invalid
        with self.ws.lock:
            user = self.ws.directory["users"].get(grant.user_id)
        if user is None or user.get("suspended"):
            raise invalid
        return grant, user

    def revoke_all(self) -> None:
        with self._lock:
            self._grants.clear()
