"""The demo partner website: a small relying party using Authlib's Flask client.

It shows what a partner integrating "Login with Miles & More" does: discovery,
the authorization code flow with PKCE (S256) and a nonce, checking ``iss`` in
the authorization response (RFC 9207), reading the released claims, calling the
miles API with the access token, RP-initiated logout, and receiving
back-channel logout tokens.

It speaks the provider's four languages (from the provider's own catalogues):
the one chosen on the site, else the signed-in member's ``locale`` claim, else
Accept-Language. It sends that language as ``ui_locales`` (OIDC Core
§3.1.2.1), and an error coming back (RFC 6749 §4.1.2.1) is shown in it as a
message of its own, never as the provider's English description.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_decimal
from flask_babel import lazy_gettext as _l

SCOPE = "openid profile email card_number miles status"
LANGUAGES = {"en": "English", "de": "Deutsch", "nl": "Nederlands", "pl": "Polski"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "idp" / "translations"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"

#: What the member is told for each error of the authorization response (RFC 6749
#: §4.1.2.1, OIDC Core §3.1.2.6); anything else gets ``DEFAULT_ERROR``.
ERROR_MESSAGES = {
    "access_denied": _l(
        "You chose not to share your Miles & More data with us, so you are not signed in. "
        "You can sign in with Miles & More whenever you like."
    ),
    "login_required": _l("Please log in with Miles & More to continue."),
    "interaction_required": _l("Please log in with Miles & More to continue."),
    "consent_required": _l("Please log in with Miles & More to continue."),
    "temporarily_unavailable": _l(
        "Miles & More is not available at the moment. Please try again in a few minutes."
    ),
    "server_error": _l(
        "Miles & More is not available at the moment. Please try again in a few minutes."
    ),
    "wrong_issuer": _l("The answer did not come from Miles & More. Please sign in again."),
}
DEFAULT_ERROR = _l("Signing in with Miles & More did not work. Please try again.")


def create_partner_app(issuer: str, client_id: str, client_secret: str, redirect_uri: str) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        # Both sites may share a host in the demo; cookies ignore ports, so names must differ.
        SESSION_COOKIE_NAME="partner_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    Babel(app, locale_selector=_language)
    app.jinja_env.filters["format_miles"] = format_decimal
    app.jinja_env.globals.update(languages=LANGUAGES, current_language=_language)
    base_url = redirect_uri.rsplit("/", 1)[0]
    oauth = OAuth(app)
    oauth.register(
        "mam",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )
    #: What the provider told us (back-channel) has ended, and when: a session id, or
    #: every session of a subject. A login made after that moment is a new one.
    ended_sessions: dict[str, float] = {}
    ended_subjects: dict[str, float] = {}

    def signed_in() -> dict | None:
        user = session.get("user")
        if not user:
            return None
        since = user.get("signed_in_at", 0)
        if ended_sessions.get(user.get("sid"), -1) >= since or (
            ended_subjects.get(user.get("sub"), -1) >= since
        ):
            _sign_out_here()
            return None
        return user

    @app.get("/")
    def home():
        user = signed_in()
        error = request.args.get("error")
        return render_template(
            "partner_home.html",
            user=user,
            claims={k: v for k, v in (user or {}).items() if k not in ("sid", "signed_in_at")},
            miles=session.get("miles"),
            error=(ERROR_MESSAGES.get(error, DEFAULT_ERROR) if error else None),
        )

    @app.get("/language/<code>")
    def choose_language(code: str):
        if code not in LANGUAGES:
            abort(404)
        session["lang"] = code
        return redirect(url_for("home"))

    @app.post("/login")
    def login():
        return oauth.mam.authorize_redirect(redirect_uri, ui_locales=_language())

    @app.get("/callback")
    def callback():
        # RFC 9207: the response must come from the issuer we sent the member to.
        if request.args.get("iss") != issuer:
            return redirect(url_for("home", error="wrong_issuer"))
        try:
            token = oauth.mam.authorize_access_token()
        except OAuthError as exc:
            return redirect(url_for("home", error=exc.error or "error"))
        claims = dict(token["userinfo"])
        profile = dict(oauth.mam.userinfo(token=token))
        # Each login starts afresh: nothing of an earlier one (its miles, its sid) stays.
        _sign_out_here()
        session["user"] = {**profile, "sid": claims.get("sid"), "signed_in_at": time.time()}
        session["id_token"] = token["id_token"]
        session["access_token"] = token["access_token"]
        session["miles"] = _fetch_miles(issuer, token["access_token"])
        if profile.get("locale") in LANGUAGES:
            session["lang"] = profile["locale"]  # the member's own language from now on
        return redirect(url_for("home"))

    @app.post("/refresh-miles")
    def refresh_miles():
        if signed_in() and session.get("access_token"):
            session["miles"] = _fetch_miles(issuer, session["access_token"])
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout():
        id_token = session.get("id_token")
        _sign_out_here()
        if not id_token:
            return redirect(url_for("home"))
        return oauth.mam.logout_redirect(
            post_logout_redirect_uri=f"{base_url}/", id_token_hint=id_token
        )

    @app.post("/backchannel-logout")
    def backchannel_logout():
        """OIDC Back-Channel Logout 1.0 §2.6: the provider tells us a session ended."""
        from joserfc import jwt
        from joserfc.jwk import KeySet

        logout_token = request.form.get("logout_token", "")
        try:
            metadata = oauth.mam.load_server_metadata()
            keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
            decoded = jwt.decode(logout_token, keys, algorithms=["RS256", "ES256"])
        except Exception:  # any malformed or unverifiable token is refused alike
            return {"error": "invalid_request"}, 400
        claims = decoded.claims
        events = claims.get("events") or {}
        if (
            claims.get("iss") != issuer
            or claims.get("aud") not in (client_id, [client_id])
            or BACKCHANNEL_LOGOUT_EVENT not in events
            or not (claims.get("sid") or claims.get("sub"))
            or "nonce" in claims
        ):
            return {"error": "invalid_request"}, 400
        now = time.time()
        if claims.get("sid"):
            ended_sessions[claims["sid"]] = now
        else:
            ended_subjects[claims["sub"]] = now
        return "", 200

    return app


def _language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _sign_out_here() -> None:
    """Forget the member's login on this site; the language they read stays."""
    for key in ("user", "id_token", "access_token", "miles"):
        session.pop(key, None)


def _fetch_miles(issuer: str, access_token: str) -> dict:
    response = requests.get(
        f"{issuer}/api/v1/me/miles",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )
    if response.status_code != 200:
        return {"error": response.status_code}
    return response.json()
