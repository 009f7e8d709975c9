"""Changes to a standing consent that are not a new decision: Stop sharing, Pause, Resume.

Each appends its evidence record (``idp.services.consent_evidence``) and leaves
the commit to the calling service (``idp.services.narrowing``,
``idp.services.restriction``, which also tell the partner).
"""

from __future__ import annotations

from idp.catalog import scope_of_claim
from idp.models import Consent
from idp.models.types import utcnow
from idp.services.consent import purposes_of
from idp.services.consent_evidence import add_record


def narrow(consent: Consent, scope: str, actor: str = "member") -> None:
    """Take ``scope`` out of a standing consent and remember it as declined (Stop sharing).

    Claims of the scope granted one by one go with it; purposes left without
    any of their scopes or claims go too. Appends a ``narrowed`` record; the
    caller's service checks that the scope is optional and commits.
    """
    granted = consent.scopes - {scope}
    consent.scope = " ".join(sorted(granted))
    consent.declined_scope = " ".join(sorted(consent.declined_scopes | {scope}))
    consent.granted_claims = sorted(
        name for name in consent.granted_claims or () if scope_of_claim(name) != scope
    )
    _narrowed(consent, actor)


def narrow_claim(consent: Consent, claim: str, actor: str = "member") -> None:
    """Take a claim granted one by one out of a standing consent and remember it as declined
    (Stop sharing). Appends a ``narrowed`` record; the caller's service commits."""
    consent.granted_claims = sorted(set(consent.granted_claims or ()) - {claim})
    consent.declined_claims = sorted(set(consent.declined_claims or ()) | {claim})
    _narrowed(consent, actor)


def _narrowed(consent: Consent, actor: str) -> None:
    consent.purposes = purposes_of(consent.purposes, consent.scopes, consent.granted_claims)
    consent.updated_at = utcnow()
    add_record(consent, "narrowed", actor=actor)


def pause(consent: Consent, actor: str = "member") -> None:
    """Restrict the consent (GDPR Art. 18): it stays, carries nothing until ``resume``."""
    now = utcnow()
    consent.paused_at = now
    consent.updated_at = now
    add_record(consent, "paused", actor=actor)


def resume(consent: Consent, actor: str = "member") -> None:
    """Lift the restriction: tokens issued under the consent that have not expired work again."""
    consent.paused_at = None
    consent.updated_at = utcnow()
    add_record(consent, "resumed", actor=actor)
