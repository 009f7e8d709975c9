"""The demo partner website: a small relying party using Authlib's Flask client.

It shows what a partner integrating "Login with Miles & More" does: discovery,
the authorization code flow with PKCE (S256) and a nonce, checking ``iss`` in
the authorization response (RFC 9207), reading the released claims, calling the
miles API with the access token, RP-initiated logout, and receiving
back-channel logout tokens.
"""

from __future__ import annotations

import secrets

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, redirect, render_template, request, session, url_for

SCOPE = "openid profile email card_number miles status"


def create_partner_app(issuer: str, client_id: str, client_secret: str, redirect_uri: str) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secrets.token_urlsafe(32),
        # Both sites may share a host in the demo; cookies ignore ports, so names must differ.
        SESSION_COOKIE_NAME="partner_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    base_url = redirect_uri.rsplit("/", 1)[0]
    oauth = OAuth(app)
    oauth.register(
        "mam",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )
    #: Session ids the provider told us (back-channel) have ended.
    ended_sessions: set[str] = set()

    def signed_in() -> dict | None:
        user = session.get("user")
        if user and user.get("sid") in ended_sessions:
            session.clear()
            return None
        return user

    @app.get("/")
    def home():
        user = signed_in()
        return render_template(
            "partner_home.html",
            user=user,
            miles=session.get("miles"),
            error=request.args.get("error"),
        )

    @app.post("/login")
    def login():
        return oauth.mam.authorize_redirect(redirect_uri, ui_locales=request.form.get("lang"))

    @app.get("/callback")
    def callback():
        # RFC 9207: the response must come from the issuer we sent the member to.
        if request.args.get("iss") != issuer:
            return redirect(url_for("home", error="The response did not come from the provider."))
        try:
            token = oauth.mam.authorize_access_token()
        except OAuthError as exc:
            return redirect(url_for("home", error=exc.description or exc.error))
        claims = dict(token["userinfo"])
        profile = oauth.mam.userinfo(token=token)
        session["user"] = {**dict(profile), "sid": claims.get("sid")}
        session["id_token"] = token["id_token"]
        session["access_token"] = token["access_token"]
        session["miles"] = _fetch_miles(issuer, token["access_token"])
        return redirect(url_for("home"))

    @app.post("/refresh-miles")
    def refresh_miles():
        if signed_in() and session.get("access_token"):
            session["miles"] = _fetch_miles(issuer, session["access_token"])
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout():
        id_token = session.get("id_token")
        session.clear()
        if not id_token:
            return redirect(url_for("home"))
        return oauth.mam.logout_redirect(
            post_logout_redirect_uri=f"{base_url}/", id_token_hint=id_token
        )

    @app.post("/backchannel-logout")
    def backchannel_logout():
        """OIDC Back-Channel Logout: the provider tells us a member's session ended."""
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
            or "http://schemas.openid.net/event/backchannel-logout" not in events
        ):
            return {"error": "invalid_request"}, 400
        if claims.get("sid"):
            ended_sessions.add(claims["sid"])
        return "", 200

    return app


def _fetch_miles(issuer: str, access_token: str) -> dict:
    response = requests.get(
        f"{issuer}/api/v1/me/miles",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )
    if response.status_code != 200:
        return {"error": response.status_code}
    return response.json()
