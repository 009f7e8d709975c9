"""A software WebAuthn authenticator for tests: real ES256 keys, real CBOR, "none" attestation.

It builds what a browser hands back from ``navigator.credentials.create()`` and
``.get()``, in their JSON form (W3C WebAuthn Level 3 §5.1.8): the
authenticator data (§6.1: RP ID hash, flags, signature counter, attested
credential data), the client data JSON (§5.8.1) and, for registration, the
attestation object (§6.5) with the "none" format (§8.7). Every part can be
bent for a test: another origin, challenge, RP ID or counter.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class Key:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """One authenticator holding any number of credentials.

    ``backup_eligible`` sets the BE flag (a synced passkey); ``attachment`` and
    ``transports`` are what the browser would report; ``counts`` makes the
    authenticator keep a signature counter (else it stays 0, as synced
    passkeys do).
    """

    origin: str
    rp_id: str
    backup_eligible: bool = False
    attachment: str | None = "cross-platform"
    transports: tuple[str, ...] = ("usb",)
    counts: bool = True
    keys: dict[bytes, Key] = field(default_factory=dict)

    def _flags(self, attested: bool) -> int:
        flags = UP | UV
        if self.backup_eligible:
            flags |= BE | BS
        return flags | (AT if attested else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def create(
        self, public_key: dict, *, origin=None, rp_id=None, challenge=None, credential_id=None
    ) -> dict:
        """The JSON of a registration for the options ``public_key`` (``publicKey`` of the page).

        A new credential, unless ``credential_id`` names one to make again (a new key).
        """
        credential_id = credential_id or secrets.token_bytes(32)
        key = Key(credential_id, ec.generate_private_key(ec.SECP256R1()))
        self.keys[credential_id] = key
        numbers = key.private_key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = bytes(16) + struct.pack(">H", len(credential_id)) + credential_id + cose_key
        auth_data = (
            hashlib.sha256((rp_id or public_key["rp"]["id"]).encode()).digest()
            + bytes([self._flags(attested=True)])
            + struct.pack(">I", key.sign_count)
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data(
            "webauthn.create", challenge or public_key["challenge"], origin
        )
        body = {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": list(self.transports),
            },
        }
        if self.attachment:
            body["authenticatorAttachment"] = self.attachment
        return body

    def get(
        self, public_key: dict, *, origin=None, rp_id=None, challenge=None, credential_id=None
    ) -> dict:
        """The JSON of an assertion for the options ``public_key`` with an allowed credential."""
        allowed = [unb64url(c["id"]) for c in public_key.get("allowCredentials", [])]
        chosen = credential_id or next(c for c in allowed if c in self.keys)
        key = self.keys[chosen]
        if self.counts:
            key.sign_count += 1
        auth_data = (
            hashlib.sha256((rp_id or public_key["rpId"]).encode()).digest()
            + bytes([self._flags(attested=False)])
            + struct.pack(">I", key.sign_count)
        )
        client_data = self._client_data(
            "webauthn.get", challenge or public_key["challenge"], origin
        )
        signature = key.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(chosen),
            "rawId": b64url(chosen),
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": self.attachment,
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
        }
