"""A relying party as the conformance suite plays it, for the conformance modules.

``Conformance`` drives the provider through the front door (the test client is
the member's browser and the partner's back end) and verifies each response with
the checks of ``tests.conformance.checks``. A test module of a plan reads as the
plan's test: send this request, expect that, check it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlsplit

from authlib.oidc.core import CodeIDToken
from joserfc import jwt

from idp.services import profile
from idp.services.members import get_member
from tests.conformance import checks
from tests.conformance.checks import IdToken
from tests.oauth.conftest import ISSUER, RP, OAuth, redirect_params

#: The conformance suite's static client: every scope of the basic plan, a refresh token.
SCOPES = "openid profile email phone address offline_access"
LOGGED_OUT = "https://partner.example/logged-out"
#: The issuer as in production: https, as the discovery plans require of every endpoint.
HTTPS_ISSUER = "https://login.miles-and-more.example"


@dataclass
class Flow:
    """One authorization, as far as it went: what was sent, what came back."""

    sent: dict
    params: dict = field(default_factory=dict)
    code: str | None = None
    tokens: dict = field(default_factory=dict)
    id_token: IdToken | None = None

    @property
    def access_token(self) -> str:
        return self.tokens["access_token"]


class Conformance:
    """The conformance suite's client: builds requests, follows the member, checks answers."""

    def __init__(self, oauth: OAuth):
        self.oauth = oauth
        self.http = oauth.http
        self.issuer = ISSUER
        self._keys = None

    # -- setup ---------------------------------------------------------------------

    def client(self, **fields) -> RP:
        fields.setdefault("scope", SCOPES)
        fields.setdefault("purposes", ["registration"])
        fields.setdefault("post_logout_redirect_uris", [LOGGED_OUT])
        return self.oauth.client(**fields)

    def member(self, **fields) -> str:
        """A member with something to release under every scope, postal address included."""
        fields.setdefault("phone_number", "+496986799799")
        fields.setdefault("birthdate", "1980-05-17")
        fields.setdefault("gender", "female")
        fields.setdefault("locale", "en")
        member_id = self.oauth.member(**fields)
        with self.oauth.app.app_context():
            member = get_member(member_id)
            address = dict(
                street_address="Lufthansa Aviation Center 1",
                postal_code="60549",
                locality="Frankfurt am Main",
                country="DE",
            )
            profile.update_profile(member, replace(profile.profile_of(member), **address))
        return member_id

    def login(self, member_id: str, **kwargs) -> str:
        return self.oauth.login(member_id, **kwargs)

    def metadata(self) -> dict:
        response = self.http.get("/.well-known/openid-configuration")
        assert response.status_code == 200
        return response.get_json()

    def keys(self):
        if self._keys is None:
            self._keys = self.oauth.keys()
        return self._keys

    # -- the front channel -----------------------------------------------------------

    def request(self, rp: RP, **params) -> dict:
        """The suite's authorization request: code flow, a random state and nonce."""
        sent = {
            "response_type": "code",
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "scope": "openid",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
        }
        sent.update(params)
        return {k: v for k, v in sent.items() if v is not None}

    def send(self, sent: dict, method: str = "GET"):
        """The request at the authorization endpoint, by redirect (GET) or form post."""
        if method == "POST":
            return self.http.post("/oauth/authorize", data=sent)
        return self.http.get("/oauth/authorize", query_string=sent)

    def follow(self, response):
        """The member's part: the consent screen answered with Allow when it shows."""
        location = urlsplit(response.headers.get("Location", ""))
        if response.status_code == 302 and location.path.startswith("/consent/"):
            response = self.oauth.answer(response)
        return response

    def authorize(self, rp: RP, method: str = "GET", **params) -> Flow:
        """An authorization that must succeed: the code, checked; not exchanged yet."""
        flow = Flow(sent=self.request(rp, **params))
        response = self.follow(self.send(flow.sent, method))
        return self.callback(flow, response)

    def callback(self, flow: Flow, response) -> Flow:
        flow.params = redirect_params(response)
        assert urlsplit(response.headers["Location"]).netloc == "partner.example"
        flow.code = checks.check_authorization_success(
            flow.params, state=flow.sent.get("state"), issuer=self.issuer
        )
        return flow

    def error(self, rp: RP, errors: set[str], **params) -> str:
        """An authorization that must come back to the client with one of ``errors``."""
        sent = self.request(rp, **params)
        response = self.send(sent)
        assert urlsplit(response.headers.get("Location", "")).netloc == "partner.example"
        return checks.check_authorization_error(
            redirect_params(response), state=sent.get("state"), issuer=self.issuer, errors=errors
        )

    def to_login(self, response) -> dict:
        """The member is sent to the login page (not back to the client): its query."""
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and not location.netloc, location
        return {k: v[0] for k, v in parse_qs(location.query).items()}

    def through_login(self, rp: RP, member_id: str, **params) -> tuple[Flow, str]:
        """A member who is not logged in: the login page (its HTML is returned), the
        login, back to the request, consent, and the code."""
        flow = Flow(sent=self.request(rp, **params))
        query = self.to_login(self.send(flow.sent))
        login_page = self.http.get("/login", query_string=query)
        assert login_page.status_code == 200
        self.login(member_id)
        assert query["next"].startswith("/oauth/authorize?")
        response = self.follow(self.http.get(query["next"]))
        return self.callback(flow, response), login_page.get_data(as_text=True)

    def again(self, rp: RP, member_id: str, **params) -> Flow:
        """A second authorization that must send the member to log in again first."""
        flow = Flow(sent=self.request(rp, **params))
        query = self.to_login(self.send(flow.sent))
        self.login(member_id)
        return self.exchange(rp, self.callback(flow, self.follow(self.http.get(query["next"]))))

    # -- the back channel ------------------------------------------------------------

    def exchange(self, rp: RP, flow: Flow, **form) -> Flow:
        """The code at the token endpoint (client_secret_basic), the answer checked."""
        response = self.oauth.exchange(rp, flow.code, **form)
        flow.tokens = checks.check_token_response(response)
        flow.id_token = self.verify(rp, flow.tokens["id_token"], flow)
        return flow

    def verify(self, rp: RP, raw: str, flow: Flow | None = None) -> IdToken:
        sent = flow.sent if flow else {}
        max_age = sent.get("max_age")
        return checks.verify_id_token(
            raw,
            self.keys(),
            issuer=self.issuer,
            client_id=rp.client_id,
            nonce=sent.get("nonce"),
            access_token=flow.tokens.get("access_token") if flow else None,
            max_age=int(max_age) if max_age is not None else None,
        )

    def rp_library_accepts(self, rp: RP, flow: Flow) -> None:
        """Authlib's relying-party checks of the ID token (``CodeIDToken``) pass too."""
        decoded = jwt.decode(flow.tokens["id_token"], self.keys(), algorithms=["RS256", "ES256"])
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": rp.client_id},
        }
        params = {
            "nonce": flow.sent.get("nonce"),
            "client_id": rp.client_id,
            "access_token": flow.access_token,
            "max_age": flow.sent.get("max_age"),
        }
        CodeIDToken(decoded.claims, decoded.header, options, params).validate()

    def run(self, rp: RP, **params) -> Flow:
        """Authorize and exchange: the suite's happy flow, every step checked."""
        return self.exchange(rp, self.authorize(rp, **params))

    def userinfo(self, flow: Flow, method: str = "GET", in_body: bool = False) -> dict:
        token = flow.access_token
        if in_body:
            response = self.http.post("/oauth/userinfo", data={"access_token": token})
        else:
            headers = {"Authorization": f"Bearer {token}"}
            response = self.http.open("/oauth/userinfo", method=method, headers=headers)
        return checks.check_userinfo(response, subject=flow.id_token.claims["sub"])
