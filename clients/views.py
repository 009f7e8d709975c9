"""The portal's guard, its home page, new partners and invitations of developers.

Every page wants the two-factor login (as ``/account`` security and ``/admin``
do): nobody logged in goes to the login page, a login with one factor logs in
again. The pages of a partner or client want a member who develops for it;
anyone else gets 403 (or 404 for a partner or client that is not theirs, so
the portal never tells another partner's ids apart from made-up ones). Any
member logged in may create a partner organisation, and accept an invitation
sent to their own address.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from clients import blueprint
from clients.forms import InvitationForm, PartnerForm, RotateSecretForm
from clients.refusals import message_for
from idp.services import invitations, sso, staff
from idp.services.errors import NotFound, ServiceError
from idp.web.forms import ConfirmForm
from idp.web.guards import login_url, this_page

STATUS_TEXTS = {
    "draft": _l("Draft"),
    "waiting": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
#: A Shared Signals stream's status (OpenID SSF 1.0 §8.1.2).
STREAM_STATUS_TEXTS = {
    "enabled": _l("Enabled"),
    "paused": _l("Paused"),
    "disabled": _l("Disabled"),
}


@blueprint.before_request
def two_factor_login():
    session = sso.current_session()
    if session is None:
        return redirect(login_url(this_page()))
    if not staff.two_factor(session):
        return redirect(login_url(this_page(), prompt="login"))
    g.developer_id = session.member_id
    member = sso.current_member()
    if member is not None and member.locale:
        g.member_locale = member.locale
    return None


@blueprint.app_context_processor
def developer_navigation():
    """``is_developer()`` for the layout's Partner developers link, asked only when shown."""

    def is_developer() -> bool:
        try:
            session = sso.current_session()
            return session is not None and invitations.is_any_developer(session.member_id)
        except (RuntimeError, SQLAlchemyError):  # no request, or a failed transaction
            return False

    return {"is_developer": is_developer}


def not_theirs():
    """403 for a member who develops for no partner (INTERFACE.md); 404 for a developer asking
    for another partner's partner or client, so made-up ids and others' look alike."""
    abort(404 if invitations.is_any_developer(g.developer_id) else 403)


def status_code_of(error: ServiceError) -> int:
    return 404 if isinstance(error, NotFound) else 409 if error.code == "conflict" else 400


# -- the portal's home ------------------------------------------------------------


def portal_page(alert=None, invite_forms=None, status=200):
    partners = invitations.partners_of(g.developer_id)
    if not partners:
        return render_template("developers/not_a_developer.html"), 403
    invite_forms = invite_forms or {}
    return render_template(
        "developers/portal.html",
        partners=[(p, invitations.clients_of(p.id)) for p in partners],
        invite_forms={p.id: invite_forms.get(p.id) or InvitationForm() for p in partners},
        confirm_form=ConfirmForm(),
        rotate_form=RotateSecretForm(),
        status_texts=STATUS_TEXTS,
        alert=alert,
    ), status


@blueprint.route("")
def portal():
    return portal_page()


@blueprint.route("/partners/new", methods=["GET", "POST"])
def new_partner():
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = invitations.create_own_partner(form.name.data, g.developer_id)
        except ServiceError as error:
            form.name.errors = [message_for(error.message, "name")]
        else:
            flash(
                _(
                    "%(partner)s is created. Register its clients; Miles & More approves each "
                    "before members can use it.",
                    partner=partner.name,
                )
            )
            return redirect(url_for(".portal"))
    status = 400 if form.errors else 200
    return render_template("developers/new_partner.html", form=form), status


# -- invitations ---------------------------------------------------------------------


@blueprint.post("/partners/<partner_id>/invitations")
def invite(partner_id: str):
    try:
        partner = invitations.partner_for_developer(partner_id, g.developer_id)
    except ServiceError:
        not_theirs()
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitations.invite(partner, g.developer_id, form.email.data)
        except ServiceError as error:
            form.email.errors = [message_for(error.message, "email")]
        else:
            flash(_("The invitation is on its way. The link works once, for 7 days."))
            return redirect(url_for(".portal"))
    return portal_page(invite_forms={partner.id: form}, status=400)


def _invitation_page(token: str, alert=None, status=200):
    invitation = None
    try:
        invitation = invitations.open_invitation(token)
    except ServiceError as error:
        alert, status = alert or message_for(error.message, "token"), status_code_of(error)
    return render_template(
        "developers/invitation.html",
        invitation=invitation,
        token=token,
        form=ConfirmForm(),
        member=sso.current_member(),
        alert=alert,
    ), status


# The token travels in the query string and the form, never in the path: the access log
# writes paths, and leaves query strings out because they carry one-time values.
@blueprint.route("/invitation")
def invitation():
    return _invitation_page(request.args.get("token", ""))


@blueprint.post("/invitation")
def accept_invitation():
    token = request.form.get("token", "")
    member = sso.current_member()
    try:
        partner = invitations.accept(token, member)
    except ServiceError as error:
        return _invitation_page(token, message_for(error.message, "token"), status_code_of(error))
    flash(_("You now develop the clients of %(partner)s.", partner=partner.name))
    return redirect(url_for(".portal"))
