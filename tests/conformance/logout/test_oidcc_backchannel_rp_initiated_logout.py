"""oidcc-backchannel-rp-initiated-logout-certification-test-plan:
``oidcc-backchannel-rp-initiated-logout``.

A client registered with a ``backchannel_logout_uri`` (here a small HTTP receiver)
and ``backchannel_logout_session_required``. After a normal authorization the
member logs out through the end_session_endpoint with the ID token as hint: the
browser goes back to the ``post_logout_redirect_uri`` with the ``state``, and the
OP POSTs a logout token to the receiver (Back-Channel Logout 1.0 §2.5), form
encoded, with nothing but ``logout_token``: signed with a published key, for this
client, with the logout event, a ``jti``, no ``nonce``, and the ``sub`` and ``sid``
of the ID token (§2.4). A ``prompt=none`` request afterwards gets ``login_required``.

Runs on ``committed_app``: the logout token is delivered in the background, on a
connection of its own, which sees only committed rows.
"""

from __future__ import annotations

from idp.services import signing_keys
from tests.conformance import checks
from tests.conformance.logout.steps import (
    check_logged_out,
    check_post_logout_redirect,
    end_session,
    logout_request,
)
from tests.conformance.suite import Conformance
from tests.oauth.conftest import OAuth
from tests.receiver import running_receiver


def test_oidcc_backchannel_rp_initiated_logout(committed_app):
    suite = Conformance(OAuth(committed_app, committed_app.test_client()))
    with committed_app.app_context():
        signing_keys.ensure_keys()  # before anything is signed, so no worker races to make them
    with running_receiver() as receiver:
        rp = suite.client(
            partner_name="Back-Channel Partner",
            backchannel_logout_uri=receiver.url,
            backchannel_logout_session_required=True,
        )
        suite.login(suite.member())
        flow = suite.run(rp)

        request = logout_request(flow)
        check_post_logout_redirect(end_session(suite, request), request)
        (delivery,) = receiver.wait_for(1)

    assert delivery.content_type == "application/x-www-form-urlencoded"
    assert set(delivery.form) == {"logout_token"}, "§2.5: only the logout token"
    claims = checks.verify_logout_token(
        delivery.form["logout_token"], suite.keys(), issuer=suite.issuer, client_id=rp.client_id
    )
    assert claims["sub"] == flow.id_token.claims["sub"]
    assert claims["sid"] == flow.id_token.claims["sid"]
    check_logged_out(suite, rp)
