"""Passkeys (W3C WebAuthn Level 3) as a second factor: add, name, remove, and use at login.

The relying party is this provider. Its RP ID is the host of ``IDP_ISSUER``
(WebAuthn §5.1.2: a domain, never an IP address, so a local issuer is
``http://localhost:<port>``) and the one origin accepted is the issuer's
(§7.1 step 9, §7.2 step 13). The ``webauthn`` package checks the ceremonies;
this module keeps the challenges and the credential records.

Challenges (§13.4.3) are 32 random bytes, kept only as a SHA-256 hash in
``passkey_challenges`` for one member and one ceremony, valid for
``PASSKEY_CHALLENGE_SECONDS``. The challenge a response names is claimed
(``used_at``) in one UPDATE before anything else of the response is checked,
so each challenge answers one response, right or wrong. ``mam-idp purge``
deletes expired challenges.

Authentication Method Reference values (RFC 8176 §2): ``hwk`` when the key is
bound to its authenticator, ``swk`` when it may be synced to other devices.
The backup-eligible flag (BE) of the authenticator data (§6.1) decides: BE set
→ ``swk``, else ``hwk``. BE never changes for a credential (§6.1.3); an
assertion whose BE differs from the one registered is refused (§7.2 step 18).

Functions for the account pages commit; ``verify_assertion`` adds to the
session and leaves the commit to ``idp.services.authentication.check_passkey``,
which counts the attempt against the lockout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp import defaults
from idp.extensions import db
from idp.models import Member, Passkey, PasskeyChallenge
from idp.models.types import utcnow
from idp.services import audit, second_factor
from idp.services.errors import InvalidInput

RP_NAME = "Miles & More"
#: The longest name a member may give a passkey.
MAX_NAME_LENGTH = 64
#: Transports that mean the authenticator is not part of this device.
ROAMING_TRANSPORTS = {"usb", "nfc", "ble", "hybrid", "smart-card"}


class PasskeyRefused(InvalidInput):
    """A registration or an assertion that does not verify; ``reason`` is for the audit log."""

    def __init__(self, reason: str):
        super().__init__("The passkey could not be verified.")
        self.reason = reason


class LastSecondFactor(InvalidInput):
    """Removing this passkey would leave the member without a second factor."""

    def __init__(self):
        super().__init__("This is your only second factor.")


def rp_id() -> str:
    """The RP ID: the issuer's host (WebAuthn §5.1.2)."""
    return urlsplit(current_app.config["IDP"].issuer).hostname or ""


def expected_origin() -> str:
    """The issuer's origin (scheme, host, port): the only one a response may come from."""
    parts = urlsplit(current_app.config["IDP"].issuer)
    return f"{parts.scheme}://{parts.netloc}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _user_handle(member: Member) -> bytes:
    """A stable user handle that is not personal data (WebAuthn §14.6.1)."""
    return hashlib.sha256(f"webauthn-user:{member.id}".encode()).digest()


# -- what the member has ----------------------------------------------------------


def passkeys_of(member_id: str) -> list[Passkey]:
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.member_id == member_id).order_by(Passkey.created_at)
        )
    )


def has_passkey(member_id: str) -> bool:
    count = db.session.scalar(select(func.count(Passkey.id)).where(Passkey.member_id == member_id))
    return bool(count)


def _find(member_id: str, passkey_id: str) -> Passkey | None:
    return db.session.scalar(
        select(Passkey).where(Passkey.id == passkey_id, Passkey.member_id == member_id)
    )


def clean_name(name: str | None) -> str:
    """The name as stored: spaces collapsed; empty or too long is refused."""
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput("A passkey name has 1 to 64 characters.", field="name")
    return cleaned


# -- challenges -------------------------------------------------------------------


def _new_challenge(member_id: str, purpose: str) -> bytes:
    now = utcnow()
    challenge = secrets.token_bytes(32)
    db.session.add(
        PasskeyChallenge(
            challenge_hash=_hash(challenge),
            member_id=member_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(seconds=defaults.PASSKEY_CHALLENGE_SECONDS),
        )
    )
    return challenge


def _named_challenge(credential: dict) -> bytes | None:
    """The challenge the response's clientDataJSON names (checked again by ``webauthn``)."""
    try:
        client_data = json.loads(_unb64url(credential["response"]["clientDataJSON"]))
        return _unb64url(client_data["challenge"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _claim_challenge(member_id: str, purpose: str, credential: dict) -> bytes:
    """The challenge of the response, marked used; ``PasskeyRefused`` when there is none."""
    challenge = _named_challenge(credential)
    if challenge is None:
        raise PasskeyRefused("malformed_response")
    now = utcnow()
    claimed = db.session.execute(
        update(PasskeyChallenge)
        .where(
            PasskeyChallenge.challenge_hash == _hash(challenge),
            PasskeyChallenge.member_id == member_id,
            PasskeyChallenge.purpose == purpose,
            PasskeyChallenge.used_at.is_(None),
            PasskeyChallenge.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise PasskeyRefused("unknown_challenge")
    return challenge


def _descriptors(member_id: str) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=_unb64url(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports or [] if t in known]
            or None,
        )
        for p in passkeys_of(member_id)
    ]


# -- registration (WebAuthn §7.1) ---------------------------------------------------


def registration_options(member: Member) -> dict:
    """``PublicKeyCredentialCreationOptions`` as JSON for the browser; commits the challenge."""
    options = generate_registration_options(
        rp_id=rp_id(),
        rp_name=RP_NAME,
        user_name=member.email,
        user_id=_user_handle(member),
        user_display_name=f"{member.given_name} {member.family_name}",
        challenge=_new_challenge(member.id, "register"),
        timeout=defaults.PASSKEY_CHALLENGE_SECONDS * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(member.id),
    )
    db.session.commit()
    return options_to_json_dict(options)


def _attachment(credential: dict, transports: list[str]) -> str | None:
    """Built into the device (``platform``) or not (``cross-platform``), when it can be told."""
    reported = credential.get("authenticatorAttachment")
    if reported in ("platform", "cross-platform"):
        return reported
    if transports and set(transports) <= {"internal"}:
        return "platform"
    if ROAMING_TRANSPORTS & set(transports):
        return "cross-platform"
    return None


def _transports(credential: dict) -> list[str]:
    response = credential.get("response")
    reported = response.get("transports") if isinstance(response, dict) else None
    known = {t.value for t in AuthenticatorTransport}
    if not isinstance(reported, list):
        return []
    return sorted({t for t in reported if isinstance(t, str) and t in known})


def register(member: Member, credential: dict, name: str) -> Passkey:
    """Verify an attestation (``navigator.credentials.create()``) and keep the passkey.

    Commits: the claimed challenge and an audit event whatever the outcome, the
    passkey when it verifies. Raises ``PasskeyRefused``.
    """
    try:
        challenge = _claim_challenge(member.id, "register", credential)
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id(),
                expected_origin=expected_origin(),
                require_user_presence=True,
            )
        except Exception as exc:  # the library's parsers raise many kinds on bad input
            raise PasskeyRefused("invalid_response") from exc
        credential_id = _b64url(verified.credential_id)
        if credential_id != credential.get("id"):
            raise PasskeyRefused("malformed_response")
        if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
            raise PasskeyRefused("registered_already")
    except PasskeyRefused as exc:
        audit.record("passkey.add_failed", member_id=member.id, reason=exc.reason)
        db.session.commit()
        raise
    transports = _transports(credential)
    passkey = Passkey(
        member_id=member.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        attachment=_attachment(credential, transports),
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        name=clean_name(name),
        created_at=utcnow(),
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record(
        "passkey.added",
        member_id=member.id,
        passkey_id=passkey.id,
        kind=passkey.kind,
        backup_eligible=passkey.backup_eligible,
    )
    db.session.commit()
    return passkey


def default_name(member_id: str, template: str) -> str:
    """``template`` (a translated "Passkey %(number)d") numbered after the member's passkeys."""
    count = db.session.scalar(select(func.count(Passkey.id)).where(Passkey.member_id == member_id))
    return template % {"number": (count or 0) + 1}


def rename(member_id: str, passkey_id: str, name: str) -> Passkey | None:
    """Give a passkey a new name (commits); None when the member has no such passkey."""
    passkey = _find(member_id, passkey_id)
    if passkey is None:
        return None
    passkey.name = clean_name(name)
    audit.record("passkey.renamed", member_id=member_id, passkey_id=passkey_id)
    db.session.commit()
    return passkey


def remove(member: Member, passkey_id: str) -> bool:
    """Remove a passkey (commits); False when the member has no such passkey.

    Raises ``LastSecondFactor`` when it is the member's only second factor
    (no authenticator app, no other passkey): recovery codes back a factor up,
    they are not one.
    """
    passkey = _find(member.id, passkey_id)
    if passkey is None:
        return False
    others = db.session.scalar(
        select(func.count(Passkey.id)).where(
            Passkey.member_id == member.id, Passkey.id != passkey_id
        )
    )
    if not others and not second_factor.has_totp(member):
        raise LastSecondFactor()
    db.session.delete(passkey)
    audit.record("passkey.removed", member_id=member.id, passkey_id=passkey_id)
    db.session.commit()
    return True


# -- authentication (WebAuthn §7.2) ---------------------------------------------------


def authentication_options(member: Member) -> dict:
    """``PublicKeyCredentialRequestOptions`` naming the member's passkeys; commits the challenge."""
    options = generate_authentication_options(
        rp_id=rp_id(),
        challenge=_new_challenge(member.id, "login"),
        timeout=defaults.PASSKEY_CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(member.id),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    db.session.commit()
    return options_to_json_dict(options)


def verify_assertion(member: Member, credential: dict) -> str:
    """Verify an assertion (``navigator.credentials.get()``) of one of the member's passkeys.

    Returns the RFC 8176 value (``hwk`` or ``swk``, see the module docstring).
    Adds the claimed challenge, the new signature count and the time of use to
    the session without committing. Raises ``PasskeyRefused``.
    """
    challenge = _claim_challenge(member.id, "login", credential)
    credential_id = credential.get("id")
    passkey = (
        db.session.scalar(
            select(Passkey).where(
                Passkey.credential_id == credential_id, Passkey.member_id == member.id
            )
        )
        if isinstance(credential_id, str)
        else None
    )
    if passkey is None:
        raise PasskeyRefused("unknown_credential")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id(),
            expected_origin=expected_origin(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except Exception as exc:  # the library's parsers raise many kinds on bad input
        raise PasskeyRefused("invalid_response") from exc
    backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    if backup_eligible != passkey.backup_eligible:
        raise PasskeyRefused("backup_eligibility_changed")
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = utcnow()
    return "swk" if backup_eligible else "hwk"
