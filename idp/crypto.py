"""Encryption of personal data and secrets at rest, with rotatable data keys.

The data keys (``IDP_DATA_KEY``) are Fernet keys: the first one encrypts, every
configured key decrypts, so a new key can be put in front and old ciphertexts
re-encrypted at leisure (``mam-idp keys rotate-data-key``).

Values that must be found again (email address, card number) are also stored as
a *blind index*: an HMAC under a key derived from each data key. A lookup asks
for the index under every configured key, so lookups keep working while a
rotation is under way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DataKeyError(RuntimeError):
    """Ciphertext no configured data key can open, or no key configured at all."""


def _derive(key: str, purpose: bytes) -> bytes:
    raw = base64.urlsafe_b64decode(key.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(raw)


class DataKeyring:
    def __init__(self, keys: tuple[str, ...] | list[str] = ()):
        self.configure(keys)

    def configure(self, keys) -> None:
        self._keys = tuple(keys)
        # Each configured key is turned into a Fernet key by HKDF, so the raw
        # data key never serves two purposes (encryption and blind index).
        fernets = [
            Fernet(base64.urlsafe_b64encode(_derive(k, b"mam-idp data encryption")))
            for k in self._keys
        ]
        self._fernet = MultiFernet(fernets) if fernets else None
        self._current = fernets[0] if fernets else None
        self._index_keys = [_derive(k, b"mam-idp blind index") for k in self._keys]

    @property
    def keys(self) -> tuple[str, ...]:
        return self._keys

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise DataKeyError("no data key is configured")
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self._require().encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._require().decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DataKeyError("no configured data key opens this value") from exc

    def reencrypt(self, ciphertext: str) -> str:
        """The same plaintext under the current (first) key."""
        try:
            return self._require().rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise DataKeyError("no configured data key opens this value") from exc

    def is_current(self, ciphertext: str) -> bool:
        """True when the current (first) key encrypted ``ciphertext``."""
        if self._current is None:
            raise DataKeyError("no data key is configured")
        try:
            self._current.decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def blind_index(self, value: str) -> str:
        """The lookup index of ``value`` under the current key."""
        return self.blind_indexes(value)[0]

    def blind_indexes(self, value: str) -> list[str]:
        """The lookup index of ``value`` under every configured key, current first."""
        if not self._index_keys:
            raise DataKeyError("no data key is configured")
        data = value.encode()
        return [hmac.new(k, data, hashlib.sha256).hexdigest() for k in self._index_keys]
