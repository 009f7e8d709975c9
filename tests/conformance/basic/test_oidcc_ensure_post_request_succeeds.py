"""oidcc-basic-certification-test-plan: ``oidcc-ensure-post-request-succeeds``.

The authorization request as a form POST (OIDC Core §3.1.2.1: GET and POST are
both supported) completes as with GET: the member logs in, consents, and the
client gets a code and tokens.
"""

from __future__ import annotations

from tests.conformance.suite import Flow


def test_oidcc_ensure_post_request_succeeds(suite, rp, member_id):
    flow = Flow(sent=suite.request(rp, scope="openid email"))
    query = suite.to_login(suite.send(flow.sent, method="POST"))
    suite.login(member_id)
    flow = suite.callback(flow, suite.follow(suite.http.get(query["next"])))
    suite.userinfo(suite.exchange(rp, flow))

    # Logged in and consented: the POST goes straight back to the client.
    again = suite.authorize(rp, method="POST", scope="openid email")
    suite.exchange(rp, again)
