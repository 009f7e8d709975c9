"""The two answers of the consent rule (``idp.services.consent``), one case at a time.

``stands_for_authorization``: not withdrawn, not expired, given under the current
texts. ``covers_issued_tokens``: not withdrawn, not expired; a newer text does not
end the tokens issued before it. Each case also checks the callers that rely on
the answer: the standing consent the authorization endpoint finds, the token
check, and the Connected apps page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models.types import utcnow
from idp.services import connected_apps, tokens
from idp.services import consent as consents
from tests.factories import issue_token, make_client, make_consent, make_member


@pytest.fixture
def granted(app_ctx):
    """A member's consent at a client, with an access token issued under it."""
    member, _, _ = make_member()
    client, _ = make_client(scope="openid email profile", purposes=["registration"])
    consent = make_consent(member, client, "openid email", expires_at=utcnow() + timedelta(days=90))
    issued = issue_token(member, client, "openid email", consent=consent)
    return member, client, consent, issued


def answers(member, client, consent, issued):
    now = utcnow()
    [partner] = connected_apps.connected_partners(member.id)
    return {
        "stands_for_authorization": consents.stands_for_authorization(consent, now),
        "covers_issued_tokens": consents.covers_issued_tokens(consent, now),
        "current_consent": consents.current_consent(member.id, client) is not None,
        "token_active": tokens.access_token_active(issued.row),
        "connected": partner.connected,
    }


def test_a_fresh_consent_stands_and_covers(granted):
    assert answers(*granted) == {
        "stands_for_authorization": True,
        "covers_issued_tokens": True,
        "current_consent": True,
        "token_active": True,
        "connected": True,
    }


def test_an_outdated_text_asks_again_but_keeps_the_issued_tokens(granted):
    member, client, consent, issued = granted
    consent.text_versions = {"registration": "registration-2020-01-01"}
    db.session.commit()
    assert consents.text_outdated(consent)
    assert answers(*granted) == {
        "stands_for_authorization": False,
        "covers_issued_tokens": True,
        "current_consent": False,
        "token_active": True,
        "connected": False,
    }


def test_a_text_version_missing_from_the_consent_counts_as_outdated(granted):
    member, client, consent, issued = granted
    consent.text_versions = {}
    db.session.commit()
    now = utcnow()
    assert not consents.stands_for_authorization(consent, now)
    assert consents.covers_issued_tokens(consent, now)


def test_an_expired_consent_neither_stands_nor_covers(granted):
    member, client, consent, issued = granted
    consent.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert answers(*granted) == {
        "stands_for_authorization": False,
        "covers_issued_tokens": False,
        "current_consent": False,
        "token_active": False,
        "connected": False,
    }


def test_a_consent_ends_at_its_expiry_instant(granted):
    member, client, consent, issued = granted
    end = consent.expires_at
    assert consents.covers_issued_tokens(consent, end - timedelta(microseconds=1))
    assert not consents.covers_issued_tokens(consent, end)
    assert not consents.stands_for_authorization(consent, end)


def test_a_consent_without_time_limit_never_expires(granted):
    member, client, consent, issued = granted
    consent.expires_at = None
    consent.unlimited = True
    db.session.commit()
    far = utcnow() + timedelta(days=3650)
    assert consents.covers_issued_tokens(consent, far)
    assert consents.stands_for_authorization(consent, far)


def test_a_withdrawn_consent_neither_stands_nor_covers(granted):
    member, client, consent, issued = granted
    consent.withdrawn_at = utcnow()
    db.session.commit()
    assert answers(*granted) == {
        "stands_for_authorization": False,
        "covers_issued_tokens": False,
        "current_consent": False,
        "token_active": False,
        "connected": False,
    }


def test_no_consent_neither_stands_nor_covers(app_ctx):
    now = utcnow()
    assert not consents.covers_issued_tokens(None, now)
    assert not consents.stands_for_authorization(None, now)
    assert consents.covered_scopes(None, ["openid", "email"]) == []


def test_covered_scopes_keep_the_order_asked_and_always_cover_openid(granted):
    member, client, consent, issued = granted
    consent.scope = "email profile"
    requested = ["profile", "openid", "phone", "email", "profile"]
    assert consents.covered_scopes(consent, requested) == ["profile", "openid", "email"]
    assert consents.granted_scope(consent, requested) == "profile openid email"
