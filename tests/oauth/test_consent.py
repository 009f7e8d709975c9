"""The consent step between login and code (SPEC.md §5 basics, INTERFACE.md consent page)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from idp.extensions import db
from idp.models import AuditEvent, Consent, ConsentStep
from idp.models.types import utcnow
from tests.oauth.conftest import CSRF_INPUT, redirect_params


def consents_of(oauth, rp, member_id) -> list[Consent]:
    with oauth.app.app_context():
        rows = db.session.query(Consent).filter_by(client_id=rp.pk, member_id=member_id).all()
        db.session.expunge_all()
        return rows


def test_consent_page_shows_the_partner_and_the_data(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, scope="openid card_number miles email phone offline_access")
    _, page = oauth.consent_page(response)
    html = page.get_data(as_text=True)
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", html) == [rp.partner_name]
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    # Required (contract) data is listed without a checkbox ...
    assert "More card number" in html and "Your miles balance" in html
    assert 'value="card_number"' not in html and 'value="miles"' not in html
    # ... optional data has one ticked, labelled checkbox each.
    boxes = re.findall(
        r'<input type="checkbox" id="([^"]+)" name="scopes" value="([^"]+)"\s*checked', html
    )
    assert sorted(v for _, v in boxes) == ["email", "phone"]
    for box_id, _ in boxes:
        assert f'<label class="checkbox" for="{box_id}">' in html
    assert "Your email address" in html
    # Without time limit only when asked, never ticked by default.
    assert re.search(r'id="unlimited" name="unlimited" value="y"\s*>', html)
    assert "Allow access without time limit" in html
    assert ">Allow</button>" in html and ">Deny</button>" in html
    assert CSRF_INPUT.search(html)


def test_no_time_limit_choice_without_offline_access(oauth, rp, member_id):
    oauth.login(member_id)
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid email"))
    html = page.get_data(as_text=True)
    assert 'id="unlimited"' not in html and "without time limit" not in html


def test_allow_stores_the_decision_and_unticked_scopes_stay_out(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, scope="openid email phone miles")
    response = oauth.answer(response, scopes=["email"])
    token = oauth.exchange(rp, redirect_params(response)["code"]).get_json()
    assert token["scope"] == "openid email miles"
    [consent] = consents_of(oauth, rp, member_id)
    assert consent.scopes == {"openid", "email", "miles"}
    assert consent.declined_scopes == {"phone"}
    assert set(consent.purposes) == {"registration", "miles"}
    assert consent.unlimited is False
    assert consent.expires_at is not None and consent.expires_at > utcnow()
    with oauth.app.app_context():
        events = [e.event for e in db.session.query(AuditEvent).filter_by(member_id=member_id)]
    assert "consent.granted" in events


def test_remembered_consent_skips_the_screen_and_more_scopes_ask_again(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp, scope="openid email phone")
    # Same (or fewer) scopes: straight back with a code.
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email"))
    # A declined scope is not asked again either.
    response = oauth.authorize(rp, scope="openid email profile")
    response = oauth.answer(response, scopes=["email"])
    params = redirect_params(response)
    assert "code" in params
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email profile"))
    # More scopes: the screen again.
    response = oauth.authorize(rp, scope="openid email miles")
    assert urlsplit(response.headers["Location"]).path.startswith("/consent/")
    # prompt=consent always shows it.
    response = oauth.authorize(rp, scope="openid email", prompt="consent")
    assert urlsplit(response.headers["Location"]).path.startswith("/consent/")


def test_prompt_none_needing_consent_is_consent_required(oauth, rp, member_id):
    oauth.login(member_id)
    params = redirect_params(oauth.authorize(rp, prompt="none", state="c"))
    assert params["error"] == "consent_required" and params["state"] == "c" and params["iss"]


def test_deny_redirects_with_access_denied_and_keeps_the_earlier_consent(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp, scope="openid email")
    [before] = consents_of(oauth, rp, member_id)
    response = oauth.authorize(rp, scope="openid email phone", state="d")
    params = redirect_params(oauth.answer(response, decision="deny"))
    assert params["error"] == "access_denied" and params["state"] == "d" and params["iss"]
    assert "code" not in params
    [after] = consents_of(oauth, rp, member_id)
    assert (after.scope, after.expires_at, after.declined_scope) == (
        before.scope,
        before.expires_at,
        before.declined_scope,
    )
    # The earlier consent still works.
    assert "code" in redirect_params(oauth.authorize(rp, scope="openid email"))


def test_unlimited_only_when_ticked(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid offline_access"), unlimited=True)
    assert "code" in redirect_params(response)
    [consent] = consents_of(oauth, rp, member_id)
    assert consent.unlimited is True and consent.expires_at is None


def test_unlimited_is_ignored_when_offline_access_was_not_asked(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.answer(oauth.authorize(rp, scope="openid email"), unlimited=True)
    [consent] = consents_of(oauth, rp, member_id)
    assert consent.unlimited is False and consent.expires_at is not None


def test_consent_form_needs_its_csrf_token(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp), csrf=False)
    assert response.status_code == 400
    assert consents_of(oauth, rp, member_id) == []


def test_scopes_outside_the_request_are_refused(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp, scope="openid email"), scopes=["email", "miles"])
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert consents_of(oauth, rp, member_id) == []


def test_a_bad_decision_is_a_form_error(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.answer(oauth.authorize(rp), decision="maybe")
    assert response.status_code == 400
    assert consents_of(oauth, rp, member_id) == []


def test_a_consent_step_is_answered_once(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp)
    location, page = oauth.consent_page(response)
    form = {"csrf_token": CSRF_INPUT.search(page.get_data(as_text=True)).group(1)}
    form["decision"] = "allow"
    first = oauth.http.post(location, data=form)
    assert "code" in redirect_params(first)
    second = oauth.http.post(location, data=form)
    assert second.status_code == 400
    assert "Location" not in second.headers


def test_a_consent_step_belongs_to_its_session(oauth, rp, member_id):
    oauth.login(member_id)
    location, _ = oauth.consent_page(oauth.authorize(rp))
    oauth.login(oauth.member())
    assert oauth.http.get(location).status_code == 400


def test_an_expired_consent_step_is_refused(oauth, rp, member_id):
    oauth.login(member_id)
    location, _ = oauth.consent_page(oauth.authorize(rp))
    with oauth.app.app_context():
        step = db.session.get(ConsentStep, location.rsplit("/", 1)[-1])
        step.expires_at = utcnow()
        db.session.commit()
    assert oauth.http.get(location).status_code == 400


def test_consent_page_without_a_session_goes_to_login(oauth, rp, member_id):
    oauth.login(member_id)
    location, _ = oauth.consent_page(oauth.authorize(rp))
    oauth.http.delete_cookie("mam_session", domain="localhost")
    response = oauth.http.get(location)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Fconsent%2F")


def test_an_unknown_step_is_refused(oauth, member_id):
    oauth.login(member_id)
    assert oauth.http.get("/consent/" + "0" * 32).status_code == 400
    assert oauth.http.get("/consent/" + "x" * 200).status_code == 400


def test_expired_consent_asks_again(oauth, rp, member_id):
    oauth.login(member_id)
    oauth.code(rp, scope="openid email")
    with oauth.app.app_context():
        consent = db.session.query(Consent).filter_by(client_id=rp.pk).one()
        consent.expires_at = utcnow()
        db.session.commit()
    response = oauth.authorize(rp, scope="openid email")
    assert urlsplit(response.headers["Location"]).path.startswith("/consent/")


def test_consent_page_follows_ui_locales(oauth, rp, member_id):
    oauth.login(member_id)
    response = oauth.authorize(rp, ui_locales="de-DE en")
    assert "ui_locales=de-DE" in response.headers["Location"]
    _, page = oauth.consent_page(response)
    assert '<html lang="de">' in page.get_data(as_text=True)
