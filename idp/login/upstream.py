"""Logging in with a Lufthansa Group ID profile, and the answer of every airline request.

``Log in with <airline>`` (``/login/with/<airline>``) sends the browser to the
airline's ID service. Its answer comes back at this provider's one redirect
URI there, ``/linking/<airline>/callback``, for a login as for a link:

1. the stored request for ``state`` is taken (once; this browser's; not expired);
2. the answer is checked and the code exchanged (``idp.linking.relying_party``);
3. a link: the session that started it must still be this browser's, then the
   profile is linked (``idp.services.linked_profiles``);
   a login: the linked member must still pass the Miles & More second factor
   (a pending login, as after the password); an unlinked profile logs nobody in.

Every failure ends on a page that says why (``idp.linking.pages``); nothing is
stored but the audit event.
"""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from idp.extensions import limiter
from idp.linking import pages, relying_party, upstreams
from idp.linking.binding import browser_binding, current_binding
from idp.linking.errors import UpstreamError
from idp.login import blueprint
from idp.login.views import NEXT_KEY
from idp.services import account_links, linked_profiles, second_factor, sso
from idp.services.linked_profiles import LINKED_TO_ANOTHER_MEMBER, LinkingRefused
from idp.web.forms import ConfirmForm
from idp.web.guards import DEFAULT_NEXT, safe_next
from idp.web.limits import login_rate_limit

#: The first factor when the airline authenticated the member (federated, as RFC 8176
#: leaves open); the second factor is added at ``/login/verify``.
UPSTREAM_AMR = "fed"

attempts = limiter.shared_limit(login_rate_limit, scope="login-attempts")


@blueprint.route("/login/with/<airline>", methods=["POST"])
@attempts
def upstream_login(airline: str):
    upstream = upstreams.find(airline)
    if upstream is None:
        return pages.unknown_airline()
    if not ConfirmForm().validate_on_submit():
        flash(_("Your request could not be read. Please try again."), "error")
        return redirect(url_for(".login"), 303)
    try:
        started = relying_party.begin(upstream, ui_locales=str(get_locale() or "en"))
    except UpstreamError as exc:
        linked_profiles.record_failure(airline, "login", exc.kind, exc.detail)
        return pages.problem(exc.kind, upstream.name, "login")
    linked_profiles.open_request(
        airline=airline,
        purpose="login",
        state=started.state,
        browser_binding=browser_binding(),
        nonce_hash=started.nonce_hash,
        code_verifier=started.code_verifier,
    )
    session[NEXT_KEY] = safe_next(request.args.get("next")) or DEFAULT_NEXT
    return redirect(started.url, 303)


@blueprint.route("/linking/<airline>/callback")
@attempts
def upstream_callback(airline: str):
    upstream = upstreams.find(airline)
    if upstream is None:
        return pages.unknown_airline()
    pending = linked_profiles.take_request(airline, request.args.get("state"), current_binding())
    if pending is None:
        linked_profiles.record_failure(airline, "unknown", "state", "no such request")
        return pages.problem("state", upstream.name, "link" if _signed_in() else "login")
    try:
        identity = relying_party.finish(
            upstream, request.args, pending.nonce_hash, pending.code_verifier
        )
    except UpstreamError as exc:
        linked_profiles.record_failure(
            airline, pending.purpose, exc.kind, exc.detail, member_id=pending.member_id
        )
        return pages.problem(exc.kind, upstream.name, pending.purpose)
    if pending.purpose == "link":
        return _finish_link(upstream, pending, identity)
    return _finish_login(upstream, identity)


def _signed_in() -> bool:
    return sso.current_session() is not None


def _finish_link(upstream, pending, identity):
    current = sso.current_session()
    if current is None or current.id != pending.sid or current.member_id != pending.member_id:
        # Logged out, or another member logged in, since the link was started.
        linked_profiles.record_failure(
            upstream.airline, "link", "state", "the session changed", member_id=pending.member_id
        )
        return pages.problem("state", upstream.name, "link")
    member = sso.current_member()
    try:
        linked_profiles.link(
            member, upstream.airline, identity.issuer, identity.subject, pending.evidence
        )
    except LinkingRefused as exc:
        if exc.reason == LINKED_TO_ANOTHER_MEMBER:
            message = _(
                "This %(airline)s profile is already linked to another Miles & More account, "
                "so it was not linked to yours.",
                airline=upstream.name,
            )
        else:
            message = _(
                "Another %(airline)s profile is linked to your account. Unlink it first.",
                airline=upstream.name,
            )
        flash(message, "error")
        return redirect(url_for("account.linked_profiles"), 303)
    flash(_("Your %(airline)s profile is linked.", airline=upstream.name), "info")
    return redirect(url_for("account.linked_profiles"), 303)


def _finish_login(upstream, identity):
    member = linked_profiles.member_for_login(upstream.airline, identity.issuer, identity.subject)
    if member is None:
        return pages.not_linked(upstream.name)
    # As after a password: a new login replaces this browser's session, and only the
    # Miles & More second factor makes it one.
    sso.end_session(reason="replaced")
    sso.begin_pending_login(member, [UPSTREAM_AMR])
    if not second_factor.has_totp(member):
        account_links.send_enrolment_link(member)
        return redirect(url_for(".enrolment_email"))
    return redirect(url_for(".verify"))
