"""Every route the app registers, fuzzed with hypothesis: no 5xx, JSON from APIs, pages from pages.

Each example sends one request to a route of ``app.url_map`` (route arguments
filled with real ids or generated values) with a generated method, query
string, headers (Authorization variants, Content-Type, Accept,
Accept-Language, a User-Agent with NUL) and body (a form, JSON, deeply nested
JSON, multipart, raw bytes, one over the size limit), values that are not
UTF-8 or hold a NUL, and repeated and oversize parameters. Before each one the
browser is anonymous, half logged in (password given) or logged in, with a
valid CSRF token, so requests get past the guards to the views.

``IDP_TEST_FUZZ_EXAMPLES`` sets the number of examples (default below, a few
seconds per database); when set, the number of requests sent is printed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf
from hypothesis import given, note, settings
from hypothesis import strategies as st
from sqlalchemy import update
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from idp.extensions import db, limiter
from idp.models import SSOSession
from idp.models.types import utcnow
from idp.services import sso
from tests.factories import make_member
from tests.oauth.conftest import PKCE, OAuth

EXAMPLES = int(os.environ.get("IDP_TEST_FUZZ_EXAMPLES", "1000"))

#: Endpoints for machines: every answer, errors included, is JSON.
JSON_ENDPOINTS = {
    "oauth.token",
    "oauth.par",
    "oauth.revoke",
    "oauth.introspect",
    "oauth.jwks",
    "oauth.discovery",
    "oidc.userinfo",
    # The passkey ceremonies, spoken by the page's script (static/js/passkeys.js).
    "account.passkey_options",
    "account.add_passkey",
    "login.passkey_options",
    "login.verify_passkey",
}
JSON_BLUEPRINTS = {"api", "registration", "grants", "ssf"}
#: Endpoints for people: every answer is a page (or a redirect).
PAGE_ENDPOINTS = {"oauth.authorize", "oidc.end_session", "consent.consent_step"}
PAGE_BLUEPRINTS = {"login", "account"}
#: Pages that are never JSON, whatever the Accept header says.
BROWSER_ONLY = {"oauth.authorize", "oidc.end_session"}
JSON_TYPES = ("application/json", "application/problem+json")

METHODS = ["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"]
PARAMETER_NAMES = [
    # OAuth and OpenID Connect
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt",
    "max_age", "claims", "id_token_hint", "code_challenge", "code_challenge_method",
    "login_hint", "ui_locales", "acr_values", "response_mode", "request", "request_uri",
    "grant_type", "code", "refresh_token", "code_verifier", "client_secret",
    "client_assertion", "client_assertion_type", "token", "token_type_hint", "access_token",
    "post_logout_redirect_uri", "registration",
    # pages and forms
    "next", "login", "password", "csrf_token", "decision", "scopes", "unlimited", "confirm",
    # names of route arguments and of url_for's own arguments
    "filename", "step_id", "partner_id", "endpoint", "_external", "_anchor", "_method", "_scheme",
]  # fmt: skip
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/json",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/octet-stream",
    "\x00/\x00",
    "",
]
ACCEPTS = [
    "text/html",
    "application/json",
    "*/*",
    "application/json;q=0.1, text/html",
    "application/problem+json",
    "text/html;q=0, application/json",
    "image/*;q=\x00",
    "",
]
LANGUAGES = ["de", "pl-PL,pl;q=0.9,en;q=0.1", "nl;q=abc", "xx", "\x00", "*", "de-DE-x-\xff"]
#: Over the request body limit (256 KiB).
OVERSIZE = 300 * 1024
DEEP_JSON = b"[" * 5000 + b"]" * 5000

#: Characters headers may carry in the test client (no line breaks), NUL and latin-1 included.
header_text = st.text(
    st.characters(min_codepoint=0, max_codepoint=0xFF, blacklist_characters="\r\n"), max_size=40
)


@dataclass
class World:
    """What a partner and a member have at hand, so requests can get past the first checks."""

    client_ids: list[str]
    redirect_uri: str
    basic: str
    access_token: str
    refresh_token: str
    email: str
    password: str
    member_id: str
    sid: str
    sso_token: str
    step_id: str
    partner_id: str
    csrf_raw: str
    csrf_token: str
    grant_id: str
    requests: int = 0
    seen: set = field(default_factory=set)

    def values(self) -> list[str]:
        return [
            *self.client_ids,
            self.redirect_uri,
            self.access_token,
            self.refresh_token,
            self.email,
            self.password,
            self.step_id,
            self.partner_id,
            self.csrf_token,
            "openid",
            "openid profile email offline_access",
            "code",
            "S256",
            PKCE.new().challenge,
            "none",
            "login consent",
            "allow",
            "deny",
            "/account",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "access_token",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "de",
            "",
        ]

    def authorize_base(self, client_id: str) -> list[tuple[bytes, bytes]]:
        pairs = {
            "client_id": client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        }
        return [(k.encode(), v.encode()) for k, v in pairs.items()]


@st.composite
def values(draw, world: World) -> bytes:
    """A parameter value as bytes: a real one, text, NUL, bytes that are not UTF-8, huge."""
    kind = draw(st.sampled_from(["known", "known", "text", "nul", "bytes", "long", "huge", "json"]))
    if kind == "known":
        return draw(st.sampled_from(world.values())).encode()
    if kind == "text":
        return draw(st.text(max_size=30)).encode("utf-8", "surrogatepass")
    if kind == "nul":
        known = draw(st.sampled_from(world.values()))
        return known.encode() + b"\x00" + draw(st.binary(max_size=3))
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=20))
    if kind == "long":
        return b"a" * draw(st.sampled_from([65, 257, 2049, 4097, 8193]))
    if kind == "huge":
        return b"x" * draw(st.sampled_from([70_000, OVERSIZE]))
    if kind == "deep":
        return DEEP_JSON
    return json.dumps(draw(json_values), ensure_ascii=False).encode("utf-8", "surrogatepass")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def parameters(draw, world: World) -> list[tuple[bytes, bytes]]:
    """Name/value pairs: sometimes a valid authorization request to start from, then noise,
    with names that may repeat."""
    pairs: list[tuple[bytes, bytes]] = []
    if draw(st.booleans()):
        pairs += world.authorize_base(draw(st.sampled_from(world.client_ids)))
    for _ in range(draw(st.integers(0, 4))):
        name = draw(
            st.one_of(
                st.sampled_from(PARAMETER_NAMES).map(str.encode),
                st.binary(max_size=6),
            )
        )
        pairs.append((name, draw(values(world))))
    return pairs


def urlencoded(pairs: list[tuple[bytes, bytes]], raw: bool) -> bytes:
    """Percent-encoded as browsers do, or (``raw``) with bytes left as they are."""
    if raw:
        return b"&".join(n + b"=" + v for n, v in pairs)
    return "&".join(
        quote_from_bytes(n, safe="") + "=" + quote_from_bytes(v, safe="") for n, v in pairs
    ).encode()


@st.composite
def authorizations(draw, world: World) -> str | None:
    kind = draw(
        st.sampled_from(
            ["none", "basic", "bearer", "bare", "basic-bytes", "basic-text", "scheme", "text"]
        )
    )
    if kind == "none":
        return None
    if kind == "basic":
        return world.basic
    if kind == "bearer":
        return "Bearer " + draw(st.sampled_from([world.access_token, world.refresh_token, "x"]))
    if kind == "bare":
        return draw(st.sampled_from(["Bearer ", "Basic ", "Basic", "Bearer", " ", "Basic  =="]))
    if kind == "basic-bytes":
        return "Basic " + base64.b64encode(draw(st.binary(max_size=30))).decode()
    if kind == "basic-text":
        return "Basic " + draw(header_text)
    if kind == "scheme":
        return (
            draw(st.sampled_from(["Negotiate", "DPoP", "Digest", "bearer"]))
            + " "
            + draw(header_text)
        )
    return draw(header_text)


@st.composite
def bodies(draw, world: World) -> tuple[bytes | dict | None, str | None]:
    """The body and its Content-Type."""
    kind = draw(st.sampled_from(["none", "form", "form", "raw-form", "json", "deep", "multipart",
                                 "bytes", "oversize"]))  # fmt: skip
    content_type = draw(st.one_of(st.none(), st.sampled_from(CONTENT_TYPES)))
    if kind == "none":
        return None, content_type
    if kind in ("form", "raw-form"):
        pairs = draw(parameters(world))
        if draw(st.booleans()):
            pairs.append((b"csrf_token", world.csrf_token.encode()))
        body = urlencoded(pairs, raw=kind == "raw-form")
        return body, draw(st.sampled_from([CONTENT_TYPES[0], CONTENT_TYPES[0], content_type]))
    if kind == "json":
        body = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
        return body.encode("utf-8", "surrogatepass"), "application/json"
    if kind == "deep":
        return DEEP_JSON, "application/json"
    if kind == "multipart":
        pairs = draw(parameters(world))
        form = {n.decode("utf-8", "replace"): v.decode("utf-8", "replace") for n, v in pairs}
        form["csrf_token"] = world.csrf_token
        return form, "multipart/form-data"
    if kind == "bytes":
        return draw(st.binary(max_size=200)), content_type
    return b"a=" + b"b" * OVERSIZE, CONTENT_TYPES[0]


@st.composite
def headers(draw, world: World) -> dict[str, str]:
    result = {}
    authorization = draw(authorizations(world))
    if authorization is not None:
        result["Authorization"] = authorization
    for name, choices in (("Accept", ACCEPTS), ("Accept-Language", LANGUAGES)):
        if draw(st.booleans()):
            result[name] = draw(st.one_of(st.sampled_from(choices), header_text))
    if draw(st.booleans()):
        result["User-Agent"] = draw(header_text)
    if draw(st.integers(0, 5)) == 0:
        result["X-Forwarded-For"] = draw(header_text)
    if draw(st.integers(0, 5)) == 0:
        result["Cookie"] = "mam_session=" + draw(header_text)
    if draw(st.integers(0, 5)) == 0:
        result["Origin"] = draw(st.sampled_from(["https://partner.example", "null", "\x00"]))
    return result


def route_argument(draw, world: World, name: str, converter: str) -> str:
    """A real id, generated text, or percent-encoded bytes; as it goes into the path."""
    known = {
        "step_id": [world.step_id],
        "partner_id": [world.partner_id],
        "grant_id": [world.grant_id],
        "filename": ["css/app.css", "img/mark.svg", "../secret", "css/%00", "%FF.css"],
    }.get(name, [])
    kind = draw(
        st.sampled_from(["known", "known", "text", "bytes"] if known else ["text", "bytes"])
    )
    if kind == "known":
        return draw(st.sampled_from(known))
    safe = "/" if converter == "path" else ""
    if kind == "text":
        value = draw(st.text(min_size=1, max_size=20)).encode("utf-8", "surrogatepass")
    else:
        value = draw(st.binary(min_size=1, max_size=12))
    return quote_from_bytes(value, safe=safe)


#: ``<converter:name>`` or ``<name>`` in a rule.
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def rule_path(draw, world: World, rule) -> str:
    """The rule's path with each argument filled in (already percent-encoded)."""
    converters = {name: converter or "default" for converter, name in _ARGUMENT.findall(rule.rule)}
    placeholders = {name: f"ARG{index}X" for index, name in enumerate(sorted(converters))}
    path = rule.build(placeholders, append_unknown=False)[1]
    for name, placeholder in placeholders.items():
        path = path.replace(placeholder, route_argument(draw, world, name, converters[name]))
    return path


def _prefers_json(accept: str | None) -> bool:
    parsed = parse_accept_header(accept or "", MIMEAccept)
    return parsed.best_match(["text/html", "application/json"]) == "application/json"


def check_response(rule, method: str, request_headers: dict, response) -> None:
    status = response.status_code
    endpoint = rule.endpoint
    blueprint = endpoint.split(".", 1)[0]
    mimetype = response.mimetype
    assert status < 500, f"{status} from {endpoint}"
    if 300 <= status < 400:
        assert response.headers.get("Location"), "a redirect without Location"
        return
    body = response.get_data()
    if endpoint in JSON_ENDPOINTS or blueprint in JSON_BLUEPRINTS:
        if status >= 400 or method in ("GET", "POST"):
            assert mimetype in JSON_TYPES, f"{status} {mimetype} from {endpoint}"
            if method != "HEAD" and status >= 400:
                document = json.loads(body)
                assert "error" in document or "title" in document, document
        return
    page = endpoint in PAGE_ENDPOINTS or blueprint in PAGE_BLUEPRINTS
    if page and (status >= 400 or method in ("GET", "POST")):
        json_allowed = (
            status >= 400
            and endpoint not in BROWSER_ONLY
            and _prefers_json(request_headers.get("Accept"))
        )
        if json_allowed and mimetype in JSON_TYPES:
            return
        assert mimetype == "text/html", f"{status} {mimetype} from {endpoint}"
        if method != "HEAD":
            assert b"<h1" in body, f"{status} from {endpoint} is not a page"
        return
    if status >= 400:
        # Any other route (static files, stylesheets, operations): an error page or JSON.
        assert mimetype in ("text/html", *JSON_TYPES), f"{status} {mimetype} from {endpoint}"


def build_world(app, http) -> World:
    oauth = OAuth(app, http)
    with app.app_context():
        member, password, key = make_member()
        member_id, email = member.id, member.email
    oauth.credentials[member_id] = (email, password, key)
    scope = "openid profile email card_number miles status offline_access"
    with_tokens = oauth.client(scope=scope, purposes=["registration", "miles"])
    asking = oauth.client("Fuzz Hotels", scope="openid profile", purposes=["registration"])
    sid = oauth.login(member_id)
    tokens = oauth.tokens(with_tokens, scope=scope)
    location, _page = oauth.consent_page(oauth.authorize(asking))
    with http.session_transaction() as flask_session:
        sso_token = flask_session[sso.TOKEN_KEY]
    with app.test_request_context():
        csrf_token = generate_csrf()
        csrf_raw = session["csrf_token"]
    return World(
        client_ids=[with_tokens.client_id, asking.client_id],
        redirect_uri=with_tokens.redirect_uri,
        basic=with_tokens.basic()["Authorization"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        email=email,
        password=password,
        member_id=member_id,
        sid=sid,
        sso_token=sso_token,
        step_id=urlsplit(location).path.rsplit("/", 1)[1],
        partner_id=with_tokens.partner_id,
        csrf_raw=csrf_raw,
        csrf_token=csrf_token,
        grant_id=tokens["grant_id"],
    )


def set_browser(app, http, world: World, state: str) -> None:
    """An anonymous, half logged-in or logged-in browser, each with a valid CSRF token."""
    if state == "logged_in":
        with app.app_context():
            db.session.execute(
                update(SSOSession)
                .where(SSOSession.id == world.sid)
                .values(ended_at=None, last_seen_at=utcnow())
            )
            db.session.commit()
    with http.session_transaction() as flask_session:
        flask_session.clear()
        flask_session["csrf_token"] = world.csrf_raw
        if state == "logged_in":
            flask_session[sso.TOKEN_KEY] = world.sso_token
        elif state == "pending":
            flask_session[sso.PENDING_KEY] = {
                "member_id": world.member_id,
                "amr": ["pwd"],
                "started_at": utcnow().timestamp(),
            }


def test_no_route_answers_a_server_error(app, client, fuzz_world):
    """Every rule gets its share of the examples, so none depends on the draw to be reached."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    per_rule = max(1, EXAMPLES // len(rules))
    for rule in rules:
        fuzz_rule(app, client, fuzz_world, rule, per_rule)


def fuzz_rule(app, http, world: World, rule, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def one_request(data):
        path = rule_path(data.draw, world, rule)
        own_methods = sorted(rule.methods)
        method = data.draw(st.one_of(st.sampled_from(own_methods), st.sampled_from(METHODS)))
        query = urlencoded(data.draw(parameters(world)), raw=data.draw(st.integers(0, 4)) == 0)
        request_headers = data.draw(headers(world))
        body, content_type = data.draw(bodies(world))
        state = data.draw(st.sampled_from(["anonymous", "pending", "logged_in"]))
        note(f"{method} {path}?{query[:300]!r} {state} {request_headers!r} {content_type!r} "
             f"{(body if not isinstance(body, bytes) else body[:300])!r}")  # fmt: skip

        # The app, client and world are shared by the examples on purpose: each
        # example resets what it depends on (browser state, rate limits).
        set_browser(app, http, world, state)
        with app.app_context():  # each application has its own rate limit storage
            limiter.reset()
        response = http.open(
            path,
            method=method,
            headers=request_headers,
            data=body,
            content_type=content_type,
            environ_overrides={"QUERY_STRING": query.decode("latin-1")},
        )
        world.requests += 1
        world.seen.add(rule.endpoint)
        check_response(rule, method, request_headers, response)

    one_request()


@pytest.fixture
def fuzz_world(app, client):
    world = build_world(app, client)
    yield world
    if world.requests >= EXAMPLES // 2:
        # A full run reaches every endpoint, so none is left out of the fuzzing unnoticed.
        assert world.seen == {rule.endpoint for rule in app.url_map.iter_rules()}
    if "IDP_TEST_FUZZ_EXAMPLES" in os.environ:
        print(
            f"\nfuzz: {world.requests} requests over {len(world.seen)} endpoints",
            file=sys.stderr,
        )
