"""Linked profiles (``/account/linked-profiles``): link and unlink Lufthansa Group ID profiles.

``Link profile`` is the member's consent to the link (the page says what is
kept and why; the words are kept as evidence) and needs a recent two-factor
login. The member is then sent to the airline with a request bound to this
browser and this session; ``idp.login.upstream`` takes the answer. ``Unlink``
withdraws the consent at once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from idp.account import blueprint
from idp.linking import pages, relying_party, texts, upstreams
from idp.linking.binding import browser_binding
from idp.linking.errors import UpstreamError
from idp.models.types import utcnow
from idp.services import linked_profiles, sso
from idp.web.forms import ConfirmForm
from idp.web.guards import login_required, login_url

PAGE = "/account/linked-profiles"
#: Methods that are a second factor (RFC 8176): one of them in the session's ``amr``.
SECOND_FACTORS = {"otp", "hwk", "swk", "sms", "mail", "mfa"}


@blueprint.route(PAGE, endpoint="linked_profiles")
@login_required
def linked_profiles_page():
    member = sso.current_member()
    linked = {p.airline: p for p in linked_profiles.profiles_of(member.id)}
    airlines = [
        (upstream, linked.get(upstream.airline), texts.linking_text(upstream))
        for upstream in upstreams.configured()
    ]
    return render_template("account/linked_profiles.html", airlines=airlines, form=ConfirmForm())


def _recent_two_factor_login() -> bool:
    session = sso.current_session()
    recent = timedelta(seconds=current_app.config["IDP"].recent_login_seconds)
    return (
        session is not None
        and utcnow() - session.auth_time <= recent
        and bool(SECOND_FACTORS & set(session.amr or []))
    )


def _back(message: str | None = None, category: str = "error"):
    if message:
        flash(message, category)
    return redirect(url_for(".linked_profiles"), 303)


@blueprint.route(PAGE + "/<airline>/link", methods=["POST"])
@login_required
def link_profile(airline: str):
    upstream = upstreams.find(airline)
    if upstream is None:
        return pages.unknown_airline()
    if not ConfirmForm().validate_on_submit():
        return _back(_("Your request could not be read. Please try again."))
    if not _recent_two_factor_login():
        flash(_("For your security, please log in again to continue."), "info")
        return redirect(login_url(PAGE, prompt="login"), 303)
    session = sso.current_session()
    try:
        request = relying_party.begin(upstream, ui_locales=str(get_locale() or "en"))
    except UpstreamError as exc:
        linked_profiles.record_failure(
            airline, "link", exc.kind, exc.detail, member_id=session.member_id
        )
        return pages.problem(exc.kind, upstream.name, "link")
    linked_profiles.open_request(
        airline=airline,
        purpose="link",
        state=request.state,
        browser_binding=browser_binding(),
        nonce_hash=request.nonce_hash,
        code_verifier=request.code_verifier,
        member_id=session.member_id,
        sid=session.id,
        evidence=texts.evidence(upstream),
    )
    return redirect(request.url, 303)


@blueprint.route(PAGE + "/<airline>/unlink", methods=["POST"])
@login_required
def unlink_profile(airline: str):
    upstream = upstreams.find(airline)
    if upstream is None:
        return pages.unknown_airline()
    if not ConfirmForm().validate_on_submit():
        return _back(_("Your request could not be read. Please try again."))
    member = sso.current_member()
    if not linked_profiles.unlink(member.id, airline, evidence=texts.evidence(upstream)):
        return _back(_("No %(airline)s profile is linked.", airline=upstream.name))
    return _back(
        _(
            "Your %(airline)s profile is unlinked. Your consent to the link is withdrawn.",
            airline=upstream.name,
        ),
        "info",
    )
