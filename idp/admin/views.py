"""The console's guard, the approval queue, the consent screen preview and client suspension.

Every page wants a two-factor login of a member who is staff (``mam-idp staff
add``): nobody logged in goes to the login page, a login with one factor logs
in again, anybody else gets 403. Actions are POST forms with a CSRF token;
a refused action shows its reason in ``role="alert"`` on the page it came
from, a done one a ``role="status"`` confirmation after the redirect.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from idp.admin import blueprint
from idp.admin.forms import ReasonForm
from idp.locales import LOCALES
from idp.services import approval, sso, staff
from idp.services.errors import NotFound, ServiceError
from idp.web import consent_screen
from idp.web.forms import ConfirmForm
from idp.web.guards import login_url, this_page

STATUS_TEXTS = {
    "draft": _l("Draft"),
    "waiting": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "nl": "Nederlands", "pl": "Polski"}


@blueprint.before_request
def operators_only():
    session = sso.current_session()
    if session is None:
        return redirect(login_url(this_page()))
    if not staff.two_factor(session):
        return redirect(login_url(this_page(), prompt="login"))
    role = staff.role_of(session.member_id)
    if role is None:
        abort(403)
    if request.method not in ("GET", "HEAD") and not staff.may_act(role):
        abort(403)  # an auditor reads the console and changes nothing
    g.operator_id = session.member_id
    g.operator_may_act = staff.may_act(role)
    member = sso.current_member()
    if member is not None and member.locale:
        g.member_locale = member.locale
    return None


@blueprint.app_context_processor
def operator_navigation():
    """``is_operator()`` for the layout's Administration link, asked only when shown."""

    def is_operator() -> bool:
        try:
            session = sso.current_session()
            return session is not None and staff.role_of(session.member_id) is not None
        except (RuntimeError, SQLAlchemyError):  # no request, or a failed transaction
            return False

    def may_act() -> bool:
        return bool(g.get("operator_may_act"))

    return {"is_operator": is_operator, "may_act": may_act}


#: The services' refusals a console page can meet, in the operator's language.
REFUSALS = {
    "No client with this id.": _l("No client with this id."),
    "Give a reason.": _l("Give a reason."),
    "The reason is plain text of up to 1000 characters.": _l(
        "The reason is plain text of up to 1000 characters."
    ),
    "This client is approved already; suspend it to stop its use.": _l(
        "This client is approved already; suspend it to stop its use."
    ),
    "This client is suspended already.": _l("This client is suspended already."),
    "This client is not suspended.": _l("This client is not suspended."),
    "No such notification for this partner.": _l("No such notification for this partner."),
    "This notification was delivered already.": _l("This notification was delivered already."),
    "No member with this id, email address or card number.": _l(
        "No member with this id, email address or card number."
    ),
    "No partner with this id.": _l("No partner with this id."),
    "The first day is after the last.": _l("The first day is after the last."),
    "A report covers at most 366 days.": _l("A report covers at most 366 days."),
}


def refusal_text(error: ServiceError) -> str:
    return str(REFUSALS.get(error.message, error.message))


def refused(render, error: ServiceError, **context):
    """The page again with the refusal in its alert: 404 for what does not exist, 409 for a
    state that does not allow it, 400 for bad input."""
    status = 404 if isinstance(error, NotFound) else 409 if error.code == "conflict" else 400
    return render(alert=refusal_text(error), **context), status


# -- the approval queue -------------------------------------------------------------


def _queue_page(alert=None, forms=None):
    waiting = approval.waiting_for_approval()
    forms = forms or {}
    return render_template(
        "admin/queue.html",
        waiting=waiting,
        reject_forms={c.client_id: forms.get(c.client_id) or ReasonForm() for c in waiting},
        confirm_form=ConfirmForm(),
        status_texts=STATUS_TEXTS,
        alert=alert,
    )


@blueprint.route("")
def queue():
    return _queue_page()


@blueprint.post("/clients/<client_id>/approve")
def approve(client_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _queue_page(alert=_("The form has expired. Please try again.")), 400
    try:
        client = approval.approve(client_id, operator_id=g.operator_id)
    except ServiceError as error:
        return refused(_queue_page, error)
    flash(
        _("%(client)s is approved: every member can log in to it now.", client=client.client_name)
    )
    return redirect(url_for(".queue"))


@blueprint.post("/clients/<client_id>/reject")
def reject(client_id: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        alert = None if form.reason.errors else _("The form has expired. Please try again.")
        return _queue_page(alert=alert, forms={client_id: form}), 400
    try:
        client = approval.reject(client_id, form.reason.data, operator_id=g.operator_id)
    except ServiceError as error:
        return refused(_queue_page, error, forms={client_id: form})
    flash(_("%(client)s is rejected; its developers see your reason.", client=client.client_name))
    return redirect(url_for(".queue"))


@blueprint.route("/clients/<client_id>/preview")
def preview(client_id: str):
    """The consent screen as a member will see it, in one of the four languages."""
    language = request.args.get("language", "en")
    if language not in LOCALES:
        language = "en"
    try:
        client = approval.find_client(client_id)
    except ServiceError:
        abort(404)
    with force_locale(language):
        shown = consent_screen.preview(client)
        screen_html = Markup(  # noqa: S704  (rendered by an autoescaping template)
            render_template(
                "admin/_consent_preview.html",
                screen=shown,
                client=client,
                partner=client.partner,
                logo_uri=client.partner.logo_uri or _https_only(client.logo_uri),
            )
        )
    return render_template(
        "admin/preview.html",
        client=client,
        screen_html=screen_html,
        language=language,
        languages=LANGUAGE_NAMES,
        status_texts=STATUS_TEXTS,
    )


def _https_only(uri: str | None) -> str | None:
    return uri if uri and uri.startswith("https://") else None


# -- every client: suspend and reinstate ------------------------------------------


def _clients_page(alert=None, forms=None):
    clients = approval.every_client()
    forms = forms or {}
    return render_template(
        "admin/clients.html",
        clients=clients,
        suspend_forms={c.client_id: forms.get(c.client_id) or ReasonForm() for c in clients},
        confirm_form=ConfirmForm(),
        status_texts=STATUS_TEXTS,
        alert=alert,
    )


@blueprint.route("/clients")
def clients():
    return _clients_page()


@blueprint.post("/clients/<client_id>/suspend")
def suspend(client_id: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        alert = None if form.reason.errors else _("The form has expired. Please try again.")
        return _clients_page(alert=alert, forms={client_id: form}), 400
    try:
        done = approval.suspend(client_id, form.reason.data, operator_id=g.operator_id)
    except ServiceError as error:
        return refused(_clients_page, error, forms={client_id: form})
    flash(
        _(
            "The client is suspended: %(tokens)d token(s) revoked, %(notes)d notification(s) "
            "to the partner queued.",
            tokens=done.tokens_revoked,
            notes=done.notifications_queued,
        )
    )
    return redirect(url_for(".clients"))


@blueprint.post("/clients/<client_id>/reinstate")
def reinstate(client_id: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _clients_page(alert=_("The form has expired. Please try again.")), 400
    try:
        client = approval.reinstate(client_id, operator_id=g.operator_id)
    except ServiceError as error:
        return refused(_clients_page, error)
    flash(_("%(client)s is reinstated.", client=client.client_name))
    return redirect(url_for(".clients"))
