"""The error renderers, one per audience: page, JSON problem, OAuth body, bearer challenge."""

from __future__ import annotations

from idp.errors import (
    render_bearer_challenge,
    render_error,
    render_oauth_error,
    render_page,
    render_problem,
)


def test_the_page_is_for_people(app):
    with app.test_request_context("/account"):
        response = render_page(404, "Nothing here", "Look elsewhere.")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "<h1>Nothing here</h1>" in body
    assert '<p role="alert">Look elsewhere.</p>' in body


def test_the_problem_is_rfc_9457_json(app):
    with app.test_request_context("/api/v1/me/miles"):
        response = render_problem(409, "Conflict", "Already there.")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Already there.",
    }


def test_render_error_answers_a_browser_with_a_page_and_a_program_with_a_problem(app):
    with app.test_request_context("/account", headers={"Accept": "text/html"}):
        page = render_error(400, "Bad", "Try again.")
    with app.test_request_context("/account", headers={"Accept": "application/json"}):
        problem = render_error(400, "Bad", "Try again.")
    with app.test_request_context("/api/v1/me/miles", headers={"Accept": "text/html"}):
        api = render_error(400, "Bad", "Try again.")
    assert page.mimetype == "text/html" and page.status_code == 400
    assert problem.mimetype == "application/problem+json" and problem.status_code == 400
    assert api.mimetype == "application/problem+json"


def test_the_oauth_body_is_never_cached(app):
    with app.test_request_context("/oauth/token"):
        response = render_oauth_error(400, "invalid_request", "Missing code.", state="s")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_request",
        "error_description": "Missing code.",
        "state": "s",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_the_bearer_challenge_names_error_and_scope(app):
    realm = app.config["IDP"].issuer
    with app.test_request_context("/api/v1/me/miles"):
        response = render_bearer_challenge(
            403, "insufficient_scope", "The access token does not grant miles.", "miles"
        )
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{realm}", error="insufficient_scope", '
        'error_description="The access token does not grant miles.", scope="miles"'
    )
    assert response.get_json() == {
        "error": "insufficient_scope",
        "error_description": "The access token does not grant miles.",
        "scope": "miles",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_the_bare_challenge_has_no_error_code(app):
    realm = app.config["IDP"].issuer
    with app.test_request_context("/oauth/userinfo"):
        response = render_bearer_challenge(401, None, "This resource needs an access token.")
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{realm}"'
    assert response.get_json()["error"] == "unauthorized"


def test_challenge_values_are_quoted_strings(app):
    """RFC 9110 §5.6.4: a quote or backslash in a value is escaped, never ends the value."""
    with app.test_request_context("/oauth/userinfo"):
        response = render_bearer_challenge(400, "invalid_request", 'Say "Bearer" \\ once.')
    header = response.headers["WWW-Authenticate"]
    assert 'error_description="Say \\"Bearer\\" \\\\ once."' in header
