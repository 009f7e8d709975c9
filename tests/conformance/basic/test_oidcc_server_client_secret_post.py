"""oidcc-basic-certification-test-plan: ``oidcc-server-client-secret-post``
(OP-ClientAuth-SecretPost-Dynamic, -Static).

The happy flow of ``oidcc-server`` for a client that authenticates with
``client_secret_post`` (OIDC Core §9): ``client_id`` and ``client_secret`` in the
token request's body, no Basic header. Discovery lists the method.
"""

from __future__ import annotations

from tests.conformance import checks


def test_oidcc_server_client_secret_post(suite, logged_in):
    assert "client_secret_post" in suite.metadata()["token_endpoint_auth_methods_supported"]
    rp = suite.client(token_endpoint_auth_method="client_secret_post")
    flow = suite.authorize(rp)
    form = {
        "grant_type": "authorization_code",
        "code": flow.code,
        "redirect_uri": rp.redirect_uri,
        "client_id": rp.client_id,
        "client_secret": rp.secret,
    }
    flow.tokens = checks.check_token_response(suite.http.post("/oauth/token", data=form))
    flow.id_token = suite.verify(rp, flow.tokens["id_token"], flow)
    suite.rp_library_accepts(rp, flow)
    suite.userinfo(flow)
