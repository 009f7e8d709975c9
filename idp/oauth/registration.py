"""The registration endpoint (RFC 7591 §3) and the client configuration endpoint (RFC 7592).

``POST /oauth/register`` with an initial access token as ``Authorization:
Bearer`` registers a client; the answer carries the client's
``registration_client_uri``, which answers GET, PUT and DELETE with that
client's registration access token. A bad or missing token is RFC 6750
``invalid_token`` (401); bad metadata is 400 ``invalid_redirect_uri`` or
``invalid_client_metadata`` (RFC 7591 §3.2.2). Nothing is written by a refused
request. Rate limited like every protocol endpoint; no CSRF (no cookies are
read, the bearer token authenticates).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from idp.errors import render_bearer_challenge, render_oauth_error
from idp.extensions import csrf, db, limiter
from idp.oauth.registration_document import client_document, parse_body, read_metadata
from idp.request_text import is_text
from idp.security_headers import no_store
from idp.services import dynamic_registration
from idp.services.dynamic_registration import InvalidRegistrationToken
from idp.services.errors import ServiceError
from idp.web.limits import api_rate_limit

blueprint = Blueprint("registration", __name__)
limiter.limit(api_rate_limit)(blueprint)

PATH = "/oauth/register"
#: Metadata errors about redirection URIs (RFC 7591 §3.2.2 ``invalid_redirect_uri``).
REDIRECT_FIELDS = ("redirect_uris", "post_logout_redirect_uris")
MAX_TOKEN_LENGTH = 512


def registration_client_uri(client_id: str) -> str:
    return f"{current_app.config['IDP'].issuer}{PATH}/{client_id}"


@blueprint.route(PATH, methods=["POST"])
@csrf.exempt
def register():
    """RFC 7591 §3.1: an initial access token and a JSON document of client metadata."""
    try:
        value = _bearer_token()
        initial_token = dynamic_registration.find_initial_access_token(value)
        if initial_token is None:
            raise InvalidRegistrationToken()
        metadata = read_metadata(_json_body())
        done = dynamic_registration.register(initial_token, metadata)
    except Refusal as refusal:
        return refusal.response
    except InvalidRegistrationToken:
        return _invalid_token()
    except ServiceError as error:
        return _metadata_error(error)
    document = client_document(
        done.client,
        registration_client_uri(done.client.client_id),
        client_secret=done.client_secret,
        registration_access_token=done.registration_access_token,
    )
    return _json(document, 201)


@blueprint.route(f"{PATH}/<client_id>", methods=["GET", "PUT", "DELETE"])
@csrf.exempt
def configure(client_id: str):
    """RFC 7592 §2: read, replace or delete the client this token was issued for."""
    try:
        value = _bearer_token()
        client = dynamic_registration.authenticate(_client_id(client_id), value)
        if request.method == "GET":
            return _json(client_document(client, registration_client_uri(client.client_id)))
        if request.method == "DELETE":
            dynamic_registration.retire(client)
            return no_store(Response(status=204))
        document = _json_body()
        _check_identity(document, client)
        done = dynamic_registration.change(client, value, read_metadata(document))
    except Refusal as refusal:
        return refusal.response
    except InvalidRegistrationToken:
        return _invalid_token()
    except ServiceError as error:
        return _metadata_error(error)
    return _json(
        client_document(
            done.client,
            registration_client_uri(done.client.client_id),
            client_secret=done.client_secret,
            registration_access_token=done.registration_access_token,
        )
    )


class Refusal(Exception):
    """A request refused before any service ran, with its response."""

    def __init__(self, response: Response):
        super().__init__()
        self.response = response


def _bearer_token() -> str:
    """RFC 6750 §2.1; no header gets a bare challenge (§3.1), anything else ``invalid_token``."""
    header = request.headers.get("Authorization")
    if header is None:
        raise Refusal(render_bearer_challenge(401, None, "An access token is needed."))
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_TOKEN_LENGTH:
        raise InvalidRegistrationToken()
    if not is_text(value):
        raise InvalidRegistrationToken()
    return value


def _client_id(value: str) -> str:
    # Nothing that could not be a client id is looked up (a NUL fails in PostgreSQL).
    if not 0 < len(value) <= 64 or not is_text(value):
        raise InvalidRegistrationToken()
    return value


def _json_body() -> dict:
    if request.mimetype != "application/json":
        raise ServiceError("Send the metadata as application/json.", "body")
    return parse_body(request.get_data(cache=True))


def _check_identity(document: dict, client) -> None:
    """RFC 7592 §2.2: ``client_id`` must be the client's; a ``client_secret``, its secret."""
    if document.get("client_id") not in (None, client.client_id):
        raise ServiceError("The client_id is not this client's.", "client_id")
    secret = document.get("client_secret")
    if secret is not None and (
        not isinstance(secret, str) or not client.check_client_secret(secret)
    ):
        raise ServiceError("The client_secret is not this client's.", "client_secret")


def _invalid_token() -> Response:
    db.session.rollback()
    return render_bearer_challenge(
        401, "invalid_token", "The access token is unknown, expired or not for this client."
    )


def _metadata_error(error: ServiceError) -> Response:
    db.session.rollback()
    code = "invalid_redirect_uri" if error.field in REDIRECT_FIELDS else "invalid_client_metadata"
    return render_oauth_error(400, code, error.message)


def _json(document: dict, status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    return no_store(response)
