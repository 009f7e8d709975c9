"""Registering and editing a partner's clients, the secret shown once, approval.

The form is read into a ``ClientRequest`` and handed whole to the registration
service, which checks every rule (the same as RFC 7591's) before it writes
anything: a refused field is shown next to its input in ``role="alert"`` and
nothing is stored. A secret exists in clear only in the one response that
shows it; the page is never cached.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from clients import blueprint
from clients.forms import ClientForm, FormError, RotateSecretForm
from clients.refusals import form_field, message_for
from clients.views import STATUS_TEXTS, STREAM_STATUS_TEXTS, not_theirs, portal_page, status_code_of
from idp.services import approval, invitations, registration, ssf_console
from idp.services.client_metadata import ClientRequest
from idp.services.errors import ServiceError
from idp.web.forms import ConfirmForm


def own_client(client_id: str):
    try:
        return invitations.client_for_developer(client_id, g.developer_id)
    except ServiceError:
        not_theirs()


def show_refusal(form, error) -> None:
    """The refusal next to the field it is about (the name, when the service names none)."""
    name = form_field(getattr(error, "field", None))
    field = getattr(form, name, None) if name else None
    if field is None or name == "csrf_token":
        field = form.client_name
    # The form's own messages are in the developer's language already.
    text = str(error.message) if isinstance(error, FormError) else message_for(error.message, name)
    field.errors = [*list(field.errors or []), text]


def _secret_page(client, secret: str, heading: str, grace_until=None):
    response = render_template(
        "developers/secret.html",
        client=client,
        secret=secret,
        heading=heading,
        grace_until=grace_until,
    )
    return response, 200, {"Cache-Control": "no-store"}


# -- register ------------------------------------------------------------------------


@blueprint.route("/partners/<partner_id>/clients/new", methods=["GET", "POST"])
def register(partner_id: str):
    try:
        partner = invitations.partner_for_developer(partner_id, g.developer_id)
    except ServiceError:
        not_theirs()
    form = ClientForm()
    if form.validate_on_submit():
        base = ClientRequest(
            partner_id=partner.id, client_name="", redirect_uris=[], scope="openid"
        )
        try:
            client, secret = registration.register_partner_client(form.to_request(base))
        except (FormError, ServiceError) as error:
            show_refusal(form, error)
        else:
            if secret:
                return _secret_page(client, secret, _("Client registered"))
            flash(_("%(client)s is registered.", client=client.client_name))
            return redirect(url_for(".edit", client_id=client.client_id))
    status = 400 if form.errors else 200
    return render_template(
        "developers/client_form.html", form=form, partner=partner, client=None
    ), status


# -- edit ----------------------------------------------------------------------------


def client_page(client, form=None, rotate_form=None, alert=None, status=200):
    if form is None:
        form = ClientForm(formdata=None)
        form.fill_from(client)
    return render_template(
        "developers/client_form.html",
        form=form,
        partner=client.partner,
        client=client,
        rotate_form=rotate_form or RotateSecretForm(formdata=None),
        confirm_form=ConfirmForm(),
        status_texts=STATUS_TEXTS,
        uses_secret=client.client_secret_hash is not None,
        ssf_stream=ssf_console.for_client(client),
        stream_status_texts=STREAM_STATUS_TEXTS,
        alert=alert,
    ), status


@blueprint.route("/clients/<client_id>", methods=["GET", "POST"])
def edit(client_id: str):
    client = own_client(client_id)
    if request.method == "GET":
        return client_page(client)
    form = ClientForm()
    if form.validate_on_submit():
        try:
            changed, secret = registration.update_client(
                client,
                form.to_request(registration.request_from(client)),
                member_id=g.developer_id,
            )
        except (FormError, ServiceError) as error:
            # The service checks every rule before it changes the client: nothing to undo.
            show_refusal(form, error)
        else:
            if secret:
                return _secret_page(changed, secret, _("Client secret"))
            flash(_("Your changes to %(client)s are saved.", client=changed.client_name))
            return redirect(url_for(".edit", client_id=changed.client_id))
    return client_page(client, form=form, status=400)


# -- approval and the secret ---------------------------------------------------------------


@blueprint.post("/clients/<client_id>/submit")
def submit(client_id: str):
    client = own_client(client_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        approval.submit_for_approval(client.client_id, member_id=g.developer_id)
    except ServiceError as error:
        return portal_page(alert=message_for(error.message, None), status=status_code_of(error))
    flash(_("%(client)s is waiting for approval by Miles & More.", client=client.client_name))
    return redirect(url_for(".portal"))


@blueprint.post("/clients/<client_id>/rotate-secret")
def rotate_secret(client_id: str):
    client = own_client(client_id)
    form = RotateSecretForm()
    if form.validate_on_submit():
        try:
            secret = registration.rotate_secret(
                client, form.grace_seconds(), member_id=g.developer_id
            )
        except FormError as error:
            form.grace_hours.errors = [str(error.message)]
        except ServiceError as error:
            if form_field(error.field) != "grace_hours":
                return client_page(client, alert=message_for(error.message, None), status=400)
            form.grace_hours.errors = [message_for(error.message, "grace_hours")]
        else:
            until = client.previous_secret_expires_at
            return _secret_page(client, secret, _("New client secret"), grace_until=until)
    return client_page(client, rotate_form=form, status=400)
