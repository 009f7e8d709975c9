"""The consent screen of a client as members will see it, in the four languages.

The words come from ``idp.web.consent_screen``, which builds the member's own
consent page, and are shown in the console's preview fragment, so what a
developer checks here is what members read. ``GET`` previews the stored
client one language at a time; the form's ``Preview`` button previews what is
in the form, not saved, in all four languages at once (the same rules as
registering decide whether there is anything to preview; nothing is written).
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import g, render_template, request
from flask_babel import force_locale
from markupsafe import Markup

from clients import blueprint
from clients.client_pages import client_page, own_client, show_refusal
from clients.forms import ClientForm, FormError
from clients.views import STATUS_TEXTS, not_theirs
from idp.locales import LOCALES
from idp.services import client_metadata, invitations, registration
from idp.services.client_metadata import ClientRequest
from idp.services.errors import ServiceError
from idp.web import consent_screen

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "nl": "Nederlands", "pl": "Polski"}


def _screen_html(client, language: str) -> Markup:
    with force_locale(language):
        shown = consent_screen.preview(client)
        return Markup(  # noqa: S704  (rendered by an autoescaping template)
            render_template(
                "admin/_consent_preview.html",
                screen=shown,
                client=client,
                partner=client.partner,
                logo_uri=client.partner.logo_uri or _https_only(client.logo_uri),
            )
        )


def _https_only(uri: str | None) -> str | None:
    return uri if uri and uri.startswith("https://") else None


@blueprint.route("/clients/<client_id>/preview")
def preview(client_id: str):
    client = own_client(client_id)
    language = request.args.get("language", "en")
    if language not in LOCALES:
        language = "en"
    return render_template(
        "developers/preview.html",
        client=client,
        partner=client.partner,
        screens=[(language, LANGUAGE_NAMES[language], _screen_html(client, language))],
        language=language,
        languages=LANGUAGE_NAMES,
        status_texts=STATUS_TEXTS,
    )


def _unsaved(valid: client_metadata.ValidClient, partner) -> SimpleNamespace:
    """The client as the form describes it, never added to the database."""
    values = valid.values
    return SimpleNamespace(**values, partner=partner, scopes=values["scope"].split())


def _live_preview(partner, draft):
    return render_template(
        "developers/preview.html",
        client=None,
        draft=draft,
        partner=partner,
        screens=[(code, name, _screen_html(draft, code)) for code, name in LANGUAGE_NAMES.items()],
        language=None,
        languages=LANGUAGE_NAMES,
        status_texts=STATUS_TEXTS,
    )


def _refused(form, partner, client, error):
    show_refusal(form, error)
    if client is not None:
        return client_page(client, form=form, status=400)
    page = render_template("developers/client_form.html", form=form, partner=partner, client=None)
    return page, 400


@blueprint.post("/partners/<partner_id>/clients/preview")
def preview_new(partner_id: str):
    try:
        partner = invitations.partner_for_developer(partner_id, g.developer_id)
    except ServiceError:
        not_theirs()
    form = ClientForm()
    if not form.validate_on_submit():
        page = render_template(
            "developers/client_form.html", form=form, partner=partner, client=None
        )
        return page, 400
    base = ClientRequest(partner_id=partner.id, client_name="", redirect_uris=[], scope="openid")
    try:
        valid = client_metadata.validate(form.to_request(base))
    except (FormError, ServiceError) as error:
        return _refused(form, partner, None, error)
    return _live_preview(partner, _unsaved(valid, partner))


@blueprint.post("/clients/<client_id>/preview")
def preview_changes(client_id: str):
    client = own_client(client_id)
    form = ClientForm()
    if not form.validate_on_submit():
        return client_page(client, form=form, status=400)
    try:
        req = form.to_request(registration.request_from(client))
        valid = client_metadata.validate(req, previous=client)
    except (FormError, ServiceError) as error:
        return _refused(form, client.partner, client, error)
    return _live_preview(client.partner, _unsaved(valid, client.partner))
