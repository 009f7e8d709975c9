"""The consent screen says when the decision replaces a standing consent.

With ``grant_management_action`` ``replace`` or ``create`` (Grant Management
§5.2) the member's decision is the whole consent and ends the earlier grant's
tokens: the screen says so in a ``role="note"``, only when a standing consent
exists, and the note is part of the text hashed as evidence.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import ConsentRecord
from tests.oauth.conftest import redirect_params

SCOPE = "openid profile email card_number miles status offline_access"
CLIENT_SCOPE = f"{SCOPE} phone grant_management_query"
NOTICE = "Sky Hotels asks you to decide again: what you allow now replaces what you allowed before."
NOTE = re.compile(r'<div class="notice[^"]*" role="note">(.*?)</div>', re.S)


@pytest.fixture
def rp(oauth):
    return oauth.client("Sky Hotels", scope=CLIENT_SCOPE, purposes=["registration", "miles"])


def notes(oauth, response) -> list[str]:
    _, page = oauth.consent_page(response)
    html = unescape(page.get_data(as_text=True))
    return [" ".join(note.split()) for note in NOTE.findall(html)]


def records(oauth, member_id) -> list[ConsentRecord]:
    with oauth.app.app_context():
        rows = list(
            db.session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.member_id == member_id)
                .order_by(ConsentRecord.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def test_replace_of_a_standing_consent_shows_the_notice(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email")["grant_id"]
    response = oauth.authorize(
        rp, scope="openid email", grant_management_action="replace", grant_id=grant_id
    )
    [note] = notes(oauth, response)
    assert NOTICE in note
    oauth.answer(response)
    first, second = records(oauth, member_id)
    # The same screen but for the notice: the notice is part of the evidence.
    assert first.scopes == second.scopes and first.language == second.language
    assert first.text_sha256 != second.text_sha256


def test_create_with_a_standing_consent_shows_the_notice(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.tokens(rp, scope="openid email")
    response = oauth.authorize(rp, scope="openid email", grant_management_action="create")
    [note] = notes(oauth, response)
    assert NOTICE in note


def test_no_notice_for_a_first_consent_even_with_create(oauth, rp, member_id):
    oauth.login(member_id)
    assert notes(oauth, oauth.authorize(rp, scope="openid email")) == []
    response = oauth.authorize(rp, scope="openid email", grant_management_action="create")
    assert notes(oauth, response) == []


def test_no_notice_for_a_merge(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email")["grant_id"]
    response = oauth.authorize(
        rp, scope="openid email phone", grant_management_action="merge", grant_id=grant_id
    )
    assert notes(oauth, response) == []
    assert "code" in redirect_params(oauth.answer(response))


def test_the_notice_speaks_the_members_language(oauth, rp, member_id):
    oauth.login(member_id)
    grant_id = oauth.tokens(rp, scope="openid email")["grant_id"]
    for locale in ("de", "nl", "pl"):
        response = oauth.authorize(
            rp,
            scope="openid email",
            grant_management_action="replace",
            grant_id=grant_id,
            ui_locales=locale,
        )
        [note] = notes(oauth, response)
        assert "Sky Hotels" in note and NOTICE not in note, locale
