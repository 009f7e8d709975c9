"""The OIDC ``claims`` parameter (OIDC Core §5.5) on the consent screen and in what is released.

A claim asked for only through ``claims`` (its scope not requested) is an
optional item of its scope on the consent screen, essential or not (§5.5.1);
ticked, it reaches the partner where it was asked (ID token or UserInfo) and
nowhere else; unticked, it stays out. A claim of a requested scope is the
scope's, as it always was. What was granted or declined is not asked again
(``prompt=consent`` asks again); bad ``claims`` JSON is an error redirect.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import (
    AuthorizationCode,
    Client,
    Consent,
    ConsentRecord,
    ConsentStep,
    PartnerNotification,
)
from idp.services import narrowing
from tests.login_flow import csrf_token
from tests.oauth.conftest import CSRF_INPUT, ISSUER, PKCE, redirect_params, redirect_target

CLAIM_BOX = re.compile(
    r'<input type="checkbox" id="([^"]+)" name="claims" value="([^"]+)"(\s*checked)?'
)


def claims_param(**targets) -> str:
    return json.dumps(targets)


def offered_claims(html: str) -> dict[str, bool]:
    """Claim checkboxes on the page: value -> ticked."""
    return {value: bool(checked) for _, value, checked in CLAIM_BOX.findall(html)}


def answer(oauth, response, claims=None, scopes=None):
    """Allow on the consent screen, ticking exactly ``claims`` (default: as offered)."""
    location, page = oauth.consent_page(response)
    html = page.get_data(as_text=True)
    form = {"decision": "allow", "csrf_token": CSRF_INPUT.search(html).group(1)}
    form["scopes"] = (
        re.findall(r'name="scopes" value="([^"]+)"', html) if scopes is None else list(scopes)
    )
    form["claims"] = list(offered_claims(html)) if claims is None else list(claims)
    return oauth.http.post(urlsplit(location).path, data=form)


def tokens_after(oauth, rp, response) -> dict:
    """The token response for the code ``response`` redirected with."""
    params = redirect_params(response)
    assert "code" in params, params
    body = oauth.exchange(rp, params["code"], code_verifier=response.pkce.verifier).get_json()
    assert "access_token" in body, body
    return body


def authorize(oauth, rp, **params):
    pkce = PKCE.new()
    response = oauth.authorize(
        rp, code_challenge=pkce.challenge, code_challenge_method="S256", **params
    )
    response.pkce = pkce
    return response


def granted(oauth, rp, response, claims=None, scopes=None):
    """Answer the screen ``response`` led to and exchange the code; (token body, UserInfo)."""
    pkce = response.pkce
    response = answer(oauth, response, claims=claims, scopes=scopes)
    response.pkce = pkce
    body = tokens_after(oauth, rp, response)
    return body, userinfo(oauth, body)


def userinfo(oauth, body) -> dict:
    response = oauth.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def consent_of(oauth, rp, member_id) -> Consent:
    with oauth.app.app_context():
        consent = db.session.scalar(
            select(Consent).where(Consent.client_id == rp.pk, Consent.member_id == member_id)
        )
        db.session.expunge(consent)
        return consent


def test_claims_asked_only_by_parameter_are_optional_items_with_labels(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(
        userinfo={"given_name": {"essential": True}, "email": None},
        id_token={"card_number": None},
    )
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid", claims=claims))
    html = page.get_data(as_text=True)
    # One ticked checkbox per claim, each with its own label; no scope checkbox for them.
    assert offered_claims(html) == {"given_name": True, "email": True, "card_number": True}
    for box_id, _, _ in CLAIM_BOX.findall(html):
        assert f'<label class="checkbox" for="{box_id}">' in html
    assert "Your first name" in html and "Your email address" in html
    assert 'name="scopes"' not in html
    # Each sits in a purpose group of its scope: card number under the contract purpose,
    # optional there although the scope itself would be required.
    miles_group = html.split("Collecting and redeeming miles", 1)[1]
    assert 'value="card_number"' in miles_group.split("</section>", 1)[0]
    assert "(optional)" in html


def test_a_ticked_claim_is_released_where_it_was_asked(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(userinfo={"given_name": None}, id_token={"family_name": None})
    body, info = granted(oauth, rp, authorize(oauth, rp, scope="openid", claims=claims))
    id_token = oauth.id_token_claims(body["id_token"])
    # Exactly the claims granted, only in the target that asked for them.
    assert info["given_name"] == "Anna" and "family_name" not in info
    assert id_token["family_name"] == "Schmidt" and "given_name" not in id_token
    # The claim grants that claim, not its whole scope.
    assert body["scope"] == "openid"
    assert "name" not in info and "name" not in id_token
    consent = consent_of(oauth, rp, member_id)
    assert consent.granted_claims == ["family_name", "given_name"]
    assert consent.scopes == {"openid"}
    assert consent.purposes == ["registration"]


def test_an_unticked_claim_is_absent_and_remembered_as_declined(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(userinfo={"given_name": None, "email": None})
    body, info = granted(
        oauth, rp, authorize(oauth, rp, scope="openid", claims=claims), claims=["email"]
    )
    assert info["email"].startswith("member-")
    assert "given_name" not in info
    assert "given_name" not in oauth.id_token_claims(body["id_token"])
    consent = consent_of(oauth, rp, member_id)
    assert (consent.granted_claims, consent.declined_claims) == (["email"], ["given_name"])


def test_an_essential_claim_is_still_the_members_choice(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(
        userinfo={"phone_number": {"essential": True}},
        id_token={"email": {"essential": True}},
    )
    response = authorize(oauth, rp, scope="openid", claims=claims)
    _, page = oauth.consent_page(response)
    assert offered_claims(page.get_data(as_text=True)) == {"email": True, "phone_number": True}
    # Declined although essential: the code is issued, the claims stay out.
    body, info = granted(oauth, rp, response, claims=[])
    assert "email" not in oauth.id_token_claims(body["id_token"])
    assert "phone_number" not in info
    # Granted when essential: released.
    oauth.login(member_id)
    response = authorize(oauth, rp, scope="openid", claims=claims, prompt="consent")
    body, info = granted(oauth, rp, response)
    assert oauth.id_token_claims(body["id_token"])["email"].startswith("member-")
    assert "email" not in info  # asked for the ID token only


def test_a_claim_of_a_requested_scope_is_the_scopes(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(id_token={"email": None}, userinfo={"given_name": None})
    response = authorize(oauth, rp, scope="openid email", claims=claims)
    _, page = oauth.consent_page(response)
    html = page.get_data(as_text=True)
    # email comes with its scope's checkbox; given_name (profile not asked) is an item.
    assert offered_claims(html) == {"given_name": True}
    assert re.findall(r'name="scopes" value="([^"]+)"', html) == ["email"]
    body, info = granted(oauth, rp, response, scopes=[], claims=["given_name"])
    # The email scope unticked: email is not released, whatever the claims parameter says.
    assert "email" not in oauth.id_token_claims(body["id_token"]) and "email" not in info
    assert info["given_name"] == "Anna"


def test_a_claim_granted_or_declined_is_not_asked_again(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(userinfo={"given_name": None, "email": None})
    granted(oauth, rp, authorize(oauth, rp, scope="openid", claims=claims), claims=["given_name"])
    # The same request again: straight back with a code that releases what was granted.
    response = authorize(oauth, rp, scope="openid", claims=claims)
    assert redirect_target(response) == rp.redirect_uri
    info = userinfo(oauth, tokens_after(oauth, rp, response))
    assert info["given_name"] == "Anna" and "email" not in info
    # A new claim is asked, alone among what is new.
    more = claims_param(userinfo={"given_name": None, "family_name": None})
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid", claims=more))
    assert "family_name" in offered_claims(page.get_data(as_text=True))
    # prompt=consent asks again, the declined claim included.
    response = oauth.authorize(rp, scope="openid", claims=claims, prompt="consent")
    _, page = oauth.consent_page(response)
    assert offered_claims(page.get_data(as_text=True)) == {"given_name": True, "email": True}


def test_prompt_none_with_a_claim_not_answered_yet_is_consent_required(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp, scope="openid email")
    claims = claims_param(userinfo={"given_name": None})
    params = redirect_params(oauth.authorize(rp, scope="openid", claims=claims, prompt="none"))
    assert params["error"] == "consent_required"


def test_a_claim_of_a_granted_scope_needs_no_screen(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp, scope="openid profile")
    claims = claims_param(userinfo={"given_name": None}, id_token={"family_name": None})
    response = authorize(oauth, rp, scope="openid", claims=claims)
    assert redirect_target(response) == rp.redirect_uri
    body = tokens_after(oauth, rp, response)
    assert oauth.id_token_claims(body["id_token"])["family_name"] == "Schmidt"
    assert userinfo(oauth, body)["given_name"] == "Anna"


def test_claims_the_client_may_not_ask_for_are_neither_offered_nor_released(oauth, member_id):
    rp = oauth.client(scope="openid email", purposes=["autofill"])
    oauth.login(member_id)
    claims = claims_param(userinfo={"miles_balance": None, "sub": None, "nickname": None})
    response = authorize(oauth, rp, scope="openid", claims=claims)
    # Nothing of member data to ask about beyond what a standing consent would cover.
    _, page = oauth.consent_page(response)
    assert offered_claims(page.get_data(as_text=True)) == {}
    body, info = granted(oauth, rp, response)
    assert set(info) == {"sub"}


def test_the_evidence_and_the_member_pages_show_the_claims_granted(oauth, rp, member_id):
    oauth.login(member_id)
    claims = claims_param(userinfo={"given_name": None, "email": None})
    granted(oauth, rp, authorize(oauth, rp, scope="openid", claims=claims), claims=["given_name"])
    with oauth.app.app_context():
        [record] = db.session.scalars(
            select(ConsentRecord).where(ConsentRecord.member_id == member_id)
        ).all()
        assert (record.granted_claims, record.declined_claims) == (["given_name"], ["email"])
        assert record.text_sha256 and record.text_version
        record_id = record.id
    # Connected apps lists the claim by its words; the receipt and the export carry it.
    apps = oauth.http.get("/account/apps").get_data(as_text=True)
    assert "Your first name" in apps
    receipt = oauth.http.get(f"/account/apps/receipts/{record_id}")
    assert receipt.status_code == 200
    record_fields = json.loads(receipt.get_data(as_text=True))["receipt"]["consentRecord"]
    assert (record_fields["claims"], record_fields["declinedClaims"]) == (
        ["given_name"],
        ["email"],
    )
    page = oauth.http.get("/account/export").get_data(as_text=True)
    export = oauth.http.post("/account/export/download", data={"csrf_token": csrf_token(page)})
    document = json.loads(export.get_data(as_text=True))
    [consent] = document["consents"]
    assert (consent["claims"], consent["declined_claims"]) == (["given_name"], ["email"])
    [record] = document["consent_records"]
    assert (record["claims"], record["declined_claims"]) == (["given_name"], ["email"])


def test_stop_sharing_a_claim(oauth, rp, member_id):
    with oauth.app.app_context():
        db.session.get(Client, rp.pk).security_event_uri = "https://partner.example/events"
        db.session.commit()
    oauth.login(member_id)
    claims = claims_param(userinfo={"given_name": None, "email": None})
    body, _ = granted(oauth, rp, authorize(oauth, rp, scope="openid", claims=claims))
    revoke_page = oauth.http.get(f"/account/apps/{rp.partner_id}/revoke").get_data(as_text=True)
    assert "Your first name" in revoke_page
    apps = oauth.http.get("/account/apps").get_data(as_text=True)
    csrf = csrf_token(apps)
    response = oauth.http.post(
        f"/account/apps/{rp.partner_id}/stop-sharing",
        data={"csrf_token": csrf, "claim": "given_name"},
    )
    assert response.status_code == 303
    # At once, for the token already issued too; the rest stays.
    info = userinfo(oauth, body)
    assert "given_name" not in info and info["email"].startswith("member-")
    consent = consent_of(oauth, rp, member_id)
    assert (consent.granted_claims, consent.declined_claims) == (["email"], ["given_name"])
    # The partner is told what it still holds (CAEP token-claims-change).
    with oauth.app.app_context():
        (row,) = db.session.scalars(
            select(PartnerNotification).where(PartnerNotification.client_id == rp.pk)
        ).all()
        event = json.loads(row.payload)["claims"]["events"][narrowing.TOKEN_CLAIMS_CHANGE_EVENT]
    assert event["claims"] == {"scope": "openid", "granted_claims": ["email"]}
    # A claim the partner does not receive is a form error, nothing written.
    response = oauth.http.post(
        f"/account/apps/{rp.partner_id}/stop-sharing",
        data={"csrf_token": csrf, "claim": "family_name"},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "claims",
    [
        "{not json",
        "null",
        "[]",
        '"userinfo"',
        json.dumps({"userinfo": []}),
        json.dumps({"userinfo": "name"}),
        json.dumps({"userinfo": {"name": 1}}),
        json.dumps({"id_token": {"name": {"essential": "yes"}}}),
        json.dumps({"userinfo": {"name": {"values": "Anna"}}}),
        "[" * 5000 + "]" * 5000,
    ],
)
def test_bad_claims_json_is_an_error_redirect(oauth, rp, member_id, claims):
    oauth.login(member_id)
    response = oauth.authorize(rp, scope="openid", state="s-1", claims=claims)
    assert redirect_target(response) == rp.redirect_uri
    params = redirect_params(response)
    assert params["error"] == "invalid_request", params
    assert (params["state"], params["iss"]) == ("s-1", ISSUER)
    with oauth.app.app_context():
        assert db.session.query(AuthorizationCode).filter_by(client_id=rp.pk).count() == 0
        assert db.session.query(ConsentStep).filter_by(client_id=rp.pk).count() == 0
