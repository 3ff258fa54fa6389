"""Service-account keys for the emulator: an RSA key pair, the JSON key file google-auth reads, and the
public half registered in the workspace so `/token` can verify the JWTs signed with it."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .core import JSON, Workspace

DEFAULT_SA_EMAIL = "contactsync@contactsync-emulator.iam.gserviceaccount.com"


@dataclass
class ServiceAccountKey:
    client_email: str
    client_id: str
    private_key_id: str
    private_key_pem: str
    public_key_pem: str

    def key_file_json(self, token_uri: str) -> JSON:
        project = self.client_email.split("@", 1)[1].split(".", 1)[0]
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{self.client_email}",
            "universe_domain": "googleapis.com",
        }

    def write(self, path: Path, token_uri: str) -> Path:
        path.write_text(json.dumps(self.key_file_json(token_uri), indent=2), encoding="utf-8")
        return path


def generate_key(client_email: str = DEFAULT_SA_EMAIL) -> ServiceAccountKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return ServiceAccountKey(
        client_email=client_email,
        client_id=str(100000000000000000000 + secrets.randbelow(10**20)),
        private_key_id=secrets.token_hex(20),
        private_key_pem=private_pem,
        public_key_pem=public_pem,
    )


def register_key(ws: Workspace, key: ServiceAccountKey, scopes: list[str] | None = None) -> None:
    """Authorise the service account for domain-wide delegation (`scopes` None = every scope)."""
    with ws.lock:
        ws.data["service_accounts"][key.client_email] = {
            "public_key": key.public_key_pem,
            "client_id": key.client_id,
            "scopes": list(scopes) if scopes is not None else None,
        }
