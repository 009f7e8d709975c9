"""Partner customisation of the consent screen: validated, and applied without inline style."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Partner
from idp.services import branding
from idp.services.errors import InvalidInput
from tests.factories import make_partner


@pytest.mark.parametrize(
    ("colour", "ratio"),
    [("#ffffff", 1.0), ("#000000", 21.0), ("#0000ff", 8.59), ("#767676", 4.54)],
)
def test_contrast_with_white_follows_wcag(colour, ratio):
    assert branding.contrast_with_white(colour) == pytest.approx(ratio, abs=0.05)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"logo_uri": "http://shop.example/logo.png"}, "logo_uri"),
        ({"logo_uri": "javascript:alert(1)"}, "logo_uri"),
        ({"logo_uri": "https://user:pw@shop.example/logo.png"}, "logo_uri"),
        ({"logo_uri": "https://shop.example/a logo.png"}, "logo_uri"),
        ({"brand_colour": "red"}, "brand_colour"),
        ({"brand_colour": "#fff"}, "brand_colour"),
        ({"brand_colour": "#0000ff; } body { display: none"}, "brand_colour"),
        ({"brand_colour": "#777777"}, "brand_colour"),  # 4.48:1, just below AA
        ({"brand_colour": "#f9b000"}, "brand_colour"),
        ({"extra_texts": {"en": "<b>Bold</b> offer"}}, "extra_texts"),
        ({"extra_texts": {"en": "See https://shop.example"}}, "extra_texts"),
        ({"extra_texts": {"en": "Hidden\u202etext"}}, "extra_texts"),
        ({"extra_texts": {"en": "x" * 301}}, "extra_texts"),
        ({"extra_texts": {"fr": "Bonjour"}}, "extra_texts"),
        ({"extra_texts": {"en": 5}}, "extra_texts"),
        ({"extra_texts": ["en"]}, "extra_texts"),
    ],
)
def test_bad_customisations_are_refused_and_nothing_is_stored(app_ctx, fields, field):
    partner = make_partner("Shop", "partner_company")
    branding.customise(partner, brand_colour="#05164d", extra_texts={"en": "Welcome"})
    with pytest.raises(InvalidInput) as refused:
        branding.customise(partner, **fields)
    assert refused.value.field == field
    db.session.rollback()
    stored = db.session.get(Partner, partner.id)
    assert (stored.brand_colour, stored.extra_texts) == ("#05164d", {"en": "Welcome"})


def test_a_good_customisation_is_stored_and_audited(app_ctx):
    partner = make_partner("Shop", "partner_company")
    branding.customise(
        partner,
        logo_uri="https://shop.example/logo.png",
        brand_colour="#0B3D91",
        extra_texts={"en": "  Earn   miles on every order. ", "de": "Meilen bei jeder Bestellung."},
    )
    stored = db.session.get(Partner, partner.id)
    assert stored.brand_colour == "#0b3d91"
    assert stored.extra_texts == {
        "en": "Earn miles on every order.",
        "de": "Meilen bei jeder Bestellung.",
    }
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "partner.customised")
    ).one()
    assert event.details["languages"] == ["de", "en"]


def test_the_brand_colour_comes_from_a_stylesheet(oauth, member_id):
    rp = oauth.client("Shop", scope="openid email", purposes=["registration"])
    with oauth.app.app_context():
        partner = db.session.get(Partner, rp.partner_id)
        branding.customise(
            partner,
            logo_uri="https://shop.example/logo.png",
            brand_colour="#0b3d91",
            extra_texts={
                "en": "Earn miles on every order.",
                "nl": "Verdien miles bij elke bestelling.",
            },
        )
    css = oauth.http.get(f"/consent/partners/{rp.partner_id}.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert ".partner-band { background: #0b3d91; color: #fff; }" in css.get_data(as_text=True)
    assert oauth.http.get("/consent/partners/" + "0" * 32 + ".css").status_code == 404
    assert oauth.http.get("/consent/partners/" + "x" * 64 + ".css").status_code == 404

    oauth.login(member_id)
    response = oauth.authorize(rp, scope="openid email")
    _, page = oauth.consent_page(response)
    html = page.get_data(as_text=True)
    assert f'href="/consent/partners/{rp.partner_id}.css"' in html
    assert 'src="https://shop.example/logo.png"' in html
    assert "Earn miles on every order." in html
    assert "style=" not in html and "<style" not in html
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid email", ui_locales="nl"))
    assert "Verdien miles bij elke bestelling." in page.get_data(as_text=True)
    # Polish has no text of its own: English stands in.
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid email", ui_locales="pl"))
    assert "Earn miles on every order." in page.get_data(as_text=True)


def test_a_plain_http_client_logo_is_not_shown(oauth, member_id):
    rp = oauth.client("Shop", scope="openid email", purposes=["registration"])
    with oauth.app.app_context():
        from idp.models import Client

        db.session.get(Client, rp.pk).logo_uri = "http://shop.example/logo.png"
        db.session.commit()
    oauth.login(member_id)
    _, page = oauth.consent_page(oauth.authorize(rp, scope="openid email"))
    html = page.get_data(as_text=True)
    assert "shop.example/logo.png" not in html
    assert "/consent/partners/" not in html


def test_partners_customise_command(runner, app_ctx):
    partner = make_partner("Shop", "partner_company")
    result = runner.invoke(
        args=[
            "partners",
            "customise",
            partner.id,
            "--brand-colour",
            "#05164d",
            "--extra-text",
            "en=Welcome",
            "--extra-text",
            "pl=Witamy",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"partner_id": partner.id}
    assert db.session.get(Partner, partner.id).extra_texts == {"en": "Welcome", "pl": "Witamy"}

    for args, field in (
        (["--brand-colour", "#ffff00"], "brand_colour"),
        (["--extra-text", "Welcome"], "extra_texts"),
    ):
        result = runner.invoke(args=["partners", "customise", partner.id, *args, "--json"])
        assert result.exit_code == 1
        assert json.loads(result.output.strip().splitlines()[0])["field"] == field
    result = runner.invoke(args=["partners", "customise", "0" * 32, "--json"])
    assert result.exit_code == 1 and re.search(r'"field": "partner_id"', result.output)
