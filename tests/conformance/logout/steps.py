"""The logout plans' common steps: the end_session_endpoint request, what may come
back, and the ``prompt=none`` request that shows whether the member is still
logged in."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

from tests.conformance import checks
from tests.conformance.suite import LOGGED_OUT, Flow
from tests.login_flow import csrf_token, h1


def logout_request(flow: Flow, **params) -> dict:
    """The suite's end-session request: id_token_hint, post_logout_redirect_uri, state."""
    request = {
        "id_token_hint": flow.tokens["id_token"],
        "post_logout_redirect_uri": LOGGED_OUT,
        "state": secrets.token_urlsafe(16),
    }
    request.update(params)
    return {k: v for k, v in request.items() if v is not None}


def end_session(suite, request: dict, method: str = "GET"):
    path = urlsplit(suite.metadata()["end_session_endpoint"]).path
    if method == "POST":
        return suite.http.post(path, data=request)
    return suite.http.get(path, query_string=request)


def check_post_logout_redirect(response, request: dict) -> None:
    """CheckPostLogoutState / CheckNoPostLogoutState, CheckForUnexpectedParametersInPostLogoutRedirect:
    back at the registered URI with the request's state, nothing else."""
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == LOGGED_OUT
    expected = {"state": [request["state"]]} if "state" in request else {}
    assert parse_qs(target.query) == expected


def check_not_redirected(response) -> None:
    """The OP must not go to the post_logout_redirect_uri: an error page or a confirmation."""
    assert "Location" not in response.headers
    assert response.status_code in (200, 400)


def check_error_page(response) -> None:
    check_not_redirected(response)
    checks.check_error_page(response)


def confirm(suite, response):
    """The member confirms the logout on the page the OP asked with."""
    assert response.status_code == 200 and "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert re.search(r"<button[^>]*>\s*Log out\s*</button>", html), "a confirmation"
    path = urlsplit(suite.metadata()["end_session_endpoint"]).path
    return suite.http.post(path, data={"csrf_token": csrf_token(html), "confirm": "yes"})


def check_logged_out_page(response) -> None:
    assert response.status_code == 200 and "Location" not in response.headers
    assert h1(response.get_data(as_text=True)) == "You are logged out"


def check_logged_out(suite, rp) -> None:
    """The plans' last step: ``prompt=none`` now needs a login (OIDC Core §3.1.2.6)."""
    suite.error(rp, checks.INTERACTION_ERRORS, prompt="none", state=secrets.token_urlsafe(96))


def check_still_logged_in(suite, rp) -> None:
    suite.authorize(rp, prompt="none")
