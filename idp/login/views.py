"""Two-factor member login: ``/login``, the second factor, TOTP enrolment, ``/logout``.

A login runs: password (``/login``) → second factor (``/login/verify``, or a
recovery code, or an email code) → the page the member came from. Members
without a second factor enrol TOTP (``/login/enrol``) instead of the second
step and see their recovery codes once. Between the steps the browser holds a
pending login (``idp.services.sso``); only a finished login is a session.
Enrolment shows its key only in a browser that followed the link mailed to the
member (``idp.login.recovery``), so the password alone cannot enrol.

Each view reads top to bottom: guard, authenticate, respond. Domain exceptions
from the services become messages on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from math import ceil
from urllib.parse import parse_qs, urlsplit

import segno
from flask import (
    Response,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from idp.errors import http_error
from idp.extensions import limiter
from idp.linking import upstreams
from idp.login import blueprint
from idp.login.forms import AuthenticationCodeForm, EmailCodeForm, LoginForm, RecoveryCodeForm
from idp.models.types import utcnow
from idp.oauth.authorize.interaction import AUTHORIZE_PATH
from idp.services import account_links, authentication, branding, second_factor, sso
from idp.services.authentication import LockedOut, LoginRefused
from idp.services.members import get_member
from idp.services.second_factor import ResendTooSoon
from idp.web.guards import DEFAULT_NEXT, safe_next
from idp.web.limits import login_rate_limit

#: Where the member goes once logged in; set at the password step.
NEXT_KEY = "login_next"


#: One per-address budget for every login and second-factor POST together.
attempts = limiter.shared_limit(login_rate_limit, scope="login-attempts", methods=["POST"])


@blueprint.before_request
def use_member_language():
    """A known member's language comes after ``ui_locales`` and before Accept-Language.

    The authorization request the login is for (its ``next``) names the flow, whose
    ``ui_locales`` holds on every step (``idp.web.language``).
    """
    g.flow_parameters = _authorization_request(
        request.args.get("next") if request.endpoint == "login.login" else session.get(NEXT_KEY)
    )
    member = sso.current_member()
    if member is None:
        found = _pending()
        member = found[1] if found else None
    if member is not None and member.locale:
        g.member_locale = member.locale


def _authorization_request(next_path: str | None) -> dict[str, list[str]] | None:
    path = safe_next(next_path)
    if path is None:
        return None
    parts = urlsplit(path)
    if parts.path != AUTHORIZE_PATH:
        return None
    return parse_qs(parts.query, keep_blank_values=True) or None


# -- the password --------------------------------------------------------------------


@blueprint.route("/login", methods=["GET", "POST"])
@attempts
def login():
    next_path = safe_next(request.args.get("next")) or DEFAULT_NEXT
    if (response := _already_logged_in(next_path)) is not None:
        return response
    form = LoginForm(data={"login": (request.args.get("login_hint") or "")[:254]})
    if not form.validate_on_submit():
        return _login_page(form, status=400 if form.is_submitted() else 200)
    try:
        member = authentication.check_password(form.login.data, form.password.data)
    except LockedOut as exc:
        return _locked(_login_page(form, alert=_locked_message(exc), status=429), exc)
    except LoginRefused:
        return _login_page(form, alert=_wrong_login_message(), status=400)
    # A new login replaces this browser's session; the pending one does not count as one.
    sso.end_session(reason="replaced")
    sso.begin_pending_login(member, ["pwd"])
    session[NEXT_KEY] = next_path
    if not second_factor.has_totp(member):
        account_links.send_enrolment_link(member)
        return redirect(url_for(".enrolment_email"))
    return redirect(url_for(".verify"))


def _already_logged_in(next_path: str) -> Response | None:
    """A live session goes straight on, unless the caller asks for a fresh login.

    ``prompt=login`` (OIDC Core §3.1.2.1) is how the authorization endpoint and the
    security pages ask for the member to authenticate again.
    """
    if request.method != "GET" or request.args.get("prompt") == "login":
        return None
    if sso.current_session() is None:
        return None
    return redirect(next_path)


def _page(template: str, status: int, **context) -> Response:
    return make_response(render_template(template, **context), status)


def _login_page(form, alert=None, status=200) -> Response:
    return _page(
        "login/login.html",
        status,
        form=form,
        alert=alert,
        upstreams=upstreams.configured(),
        next_path=safe_next(request.args.get("next")),
        requester=branding.requester(g.get("flow_parameters")),
    )


def _wrong_login_message() -> str:
    return _(
        "The email address or card number and the password do not match. "
        "Please check them and try again."
    )


# -- the second factor ---------------------------------------------------------------


def _pending():
    """The pending login and its member, or None (cached for the request)."""
    if "login_pending" not in g:
        pending = sso.pending_login()
        member = get_member(pending.member_id) if pending else None
        g.login_pending = (pending, member) if member is not None else None
    return g.login_pending


def _start_again():
    if sso.current_session() is not None:  # finished already, e.g. a form sent twice
        return redirect(url_for(".proceed"))
    flash(_("Your login took too long or was not started. Please log in again."), "error")
    return redirect(url_for(".login"))


def _code_step(kind: str, form_class, page) -> Response:
    """A second-factor step: its page, or the code entered checked.

    ``page(member, form, alert=None, status=200)`` renders the step's page.
    """
    found = _pending()
    if found is None:
        return _start_again()
    pending, member = found
    if not second_factor.has_totp(member):
        return redirect(url_for(".enrol"))
    form = form_class()
    render = partial(page, member)
    if not form.validate_on_submit():
        return render(form, status=400 if form.is_submitted() else 200)
    return _check_code(pending, member, kind, form, render)


@blueprint.route("/login/verify", methods=["GET", "POST"])
@attempts
def verify():
    return _code_step("totp", AuthenticationCodeForm, _totp_page)


def _totp_page(_member, form, alert=None, status=200) -> Response:
    return _page("login/verify.html", status, form=form, alert=alert)


@blueprint.route("/login/verify/recovery", methods=["GET", "POST"])
@attempts
def verify_recovery():
    return _code_step("recovery_code", RecoveryCodeForm, _recovery_page)


def _recovery_page(_member, form, alert=None, status=200) -> Response:
    return _page("login/verify_recovery.html", status, form=form, alert=alert)


@blueprint.route("/login/verify/email", methods=["GET", "POST"])
@attempts
def verify_email():
    return _code_step("email_code", EmailCodeForm, _email_page)


@blueprint.route("/login/verify/email/send", methods=["POST"])
@attempts
def send_email_code():
    found = _pending()
    if found is None:
        return _start_again()
    _pending_login, member = found
    if not second_factor.has_totp(member):
        return redirect(url_for(".enrol"))
    try:
        authentication.send_email_code(member)
    except ResendTooSoon as exc:
        message = ngettext(
            "A code was sent a moment ago. You can ask for a new one in %(num)d second.",
            "A code was sent a moment ago. You can ask for a new one in %(num)d seconds.",
            exc.seconds,
        )
        response = _email_page(member, EmailCodeForm(formdata=None), alert=message, status=429)
        response.headers["Retry-After"] = str(exc.seconds)
        return response
    minutes = max(1, current_app.config["IDP"].email_code_seconds // 60)
    flash(
        ngettext(
            "We have sent a code to %(address)s. It is valid for %(num)d minute.",
            "We have sent a code to %(address)s. It is valid for %(num)d minutes.",
            minutes,
            address=second_factor.mask_email(member.email),
        ),
        "info",
    )
    return redirect(url_for(".verify_email"))


def _email_page(member, form, alert=None, status=200) -> Response:
    address = second_factor.mask_email(member.email)
    return _page("login/verify_email.html", status, form=form, alert=alert, address=address)


def _check_code(pending, member, factor, form, page):
    """Authenticate the code and finish the login, or show the page again with why not."""
    try:
        method = authentication.check_second_factor(member, factor, form.code.data)
    except LockedOut as exc:
        return _locked(page(form, alert=_locked_message(exc), status=429), exc)
    except LoginRefused:
        return page(
            form, alert=_("That code is not right. Please check it and try again."), status=400
        )
    authentication.finish_login(member, [*pending.amr, method])
    return redirect(_take_next())


def _take_next() -> str:
    return safe_next(session.pop(NEXT_KEY, None)) or DEFAULT_NEXT


@blueprint.route("/login/continue")
def proceed():
    """After the recovery codes of a new enrolment: on to where the member was going."""
    if sso.current_session() is None:
        return redirect(url_for(".login"))
    return redirect(_take_next())


# -- enrolment -----------------------------------------------------------------------


@blueprint.route("/login/enrol", methods=["GET", "POST"])
@attempts
def enrol():
    found = _pending()
    if found is None:
        return _start_again()
    pending, member = found
    if second_factor.has_totp(member):
        return redirect(url_for(".verify"))
    if not account_links.enrolment_allowed(member.id):
        return redirect(url_for(".enrolment_email"))
    form = AuthenticationCodeForm()
    if not form.validate_on_submit():
        return _enrol_page(member, form, status=400 if form.is_submitted() else 200)
    try:
        codes = authentication.confirm_enrolment(member, form.code.data)
    except LoginRefused:
        alert = _(
            "That code is not right. Check that you added the key above to your app "
            "and enter its current code."
        )
        return _enrol_page(member, form, alert=alert, status=400)
    authentication.finish_login(member, [*pending.amr, "otp"])
    account_links.forget_followed()
    return render_template("login/recovery_codes.html", codes=codes)


def _enrol_page(member, form, alert=None, status=200) -> Response:
    key = authentication.enrolment_key(member)
    uri = second_factor.provisioning_uri(member, key)
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, border=2, svgclass="qr-code", title=_("QR code of your key")
    )
    return _page(
        "login/enrol.html",
        status,
        form=form,
        alert=alert,
        key=second_factor.group_key(key),
        qr=Markup(qr),  # noqa: S704  (segno's own SVG of a URI it encodes; no input markup)
    )


# -- lockout and rate limits -----------------------------------------------------------


def _locked_message(exc: LockedOut) -> str:
    minutes = max(1, ceil((exc.until - utcnow()).total_seconds() / 60))
    return ngettext(
        "Too many failed attempts. For your security, please try again in %(num)d minute.",
        "Too many failed attempts. For your security, please try again in %(num)d minutes.",
        minutes,
    )


def _locked(response: Response, exc: LockedOut) -> Response:
    response.headers["Retry-After"] = str(max(1, ceil((exc.until - utcnow()).total_seconds())))
    return response


@blueprint.errorhandler(429)
def rate_limited(exc):
    """The per-address limit: the same page again, with a role="alert" message and 429."""
    authentication.record_rate_limited(request.endpoint or "")
    if request.endpoint in PASSKEY_STEPS:  # JSON for the script (idp.login.passkey)
        return http_error(exc)
    message = _("Too many attempts from your network. Please wait a moment and try again.")
    return _same_page_with(message, 429)


@blueprint.errorhandler(413)
def too_large(exc):
    """A body over the size limit (a megabyte typed into a field): the form says so.

    The body is never read again here, so every form starts empty.
    """
    if request.endpoint not in CODE_STEPS and request.endpoint != "login.login":
        return http_error(exc)
    return _same_page_with(_("What was sent is too large. Please send less and try again."), 413)


#: The passkey step's JSON endpoints: their errors are problem documents, not pages.
PASSKEY_STEPS = ("login.passkey_options", "login.verify_passkey")

#: The second-factor pages, each of which can show a message of its own.
CODE_STEPS = (
    "login.verify",
    "login.verify_recovery",
    "login.verify_email",
    "login.send_email_code",
    "login.enrol",
)


#: Pages of the blueprint's other modules: endpoint -> ``page(message, status)``.
OTHER_PAGES: dict[str, Callable[[str, int], Response]] = {}


def _same_page_with(message: str, status: int) -> Response:
    if request.endpoint in OTHER_PAGES:
        return OTHER_PAGES[request.endpoint](message, status)
    found = _pending() if request.endpoint != "login.login" else None
    if found is None:
        return _login_page(LoginForm(formdata=None), alert=message, status=status)
    _pending_login, member = found
    endpoint = request.endpoint
    if endpoint == "login.verify_recovery":
        return _recovery_page(member, RecoveryCodeForm(formdata=None), message, status)
    if endpoint in ("login.verify_email", "login.send_email_code"):
        return _email_page(member, EmailCodeForm(formdata=None), message, status)
    # Enrolment is only for a member without an app; one who has it gets the code step.
    if endpoint == "login.enrol" and not second_factor.has_totp(member):
        if not account_links.enrolment_allowed(member.id):
            return OTHER_PAGES["login.enrolment_email"](message, status)
        return _enrol_page(member, AuthenticationCodeForm(formdata=None), message, status)
    return _totp_page(member, AuthenticationCodeForm(formdata=None), message, status)
